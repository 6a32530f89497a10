"""The server tuning keeps Rasa's behaviour: replies are still validated; SQLite still stores."""
from __future__ import annotations

import sqlite3

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine, text

from bot import server_tuning


@pytest.fixture(scope="module", autouse=True)
def tuned():
    server_tuning.apply()


def action() -> RemoteAction:
    return RemoteAction("action_answer", EndpointConfig("http://127.0.0.1:9/webhook"))


def test_a_valid_action_reply_passes():
    assert action()._validate_action_result({"events": [], "responses": [{"text": "好"}]}) is True


def test_an_invalid_action_reply_is_still_rejected_with_rasas_message():
    with pytest.raises(ValidationError) as e:
        action()._validate_action_result({"events": "not a list"})
    assert "Failed to validate Action server response" in e.value.message


def test_sqlite_connections_use_write_ahead_logging(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.commit() if hasattr(conn, "commit") else None
    assert sqlite3.connect(tmp_path / "t.db").execute("SELECT count(*) FROM t").fetchone()[0] == 1
