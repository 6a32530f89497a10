"""Start-up checks: a missing or corrupt model, a broken knowledge base, a conversation store that
cannot be opened and the HTTP API without a token are named before anything starts."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from bot.launcher import api_args
from scripts import preflight

ROOT = Path(__file__).resolve().parents[2]
OK_ENV = {"RASA_ENABLE_API": "0"}


def small_model(path: Path, with_metadata: bool = True) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        files = {"components/x/config.json": b"{}"}
        if with_metadata:
            files["metadata.json"] = b'{"domain": {}}'
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_model_checks(tmp_path):
    good = small_model(tmp_path / "good.tar.gz")
    assert preflight.check_model(good) == []
    assert "does not exist" in preflight.check_model(tmp_path / "missing.tar.gz")[0]
    assert "not a file" in preflight.check_model(tmp_path)[0]
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[:-40])
    assert "corrupt" in preflight.check_model(truncated)[0]
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(os.urandom(4096))
    assert "corrupt" in preflight.check_model(garbage)[0]
    other = small_model(tmp_path / "other.tar.gz", with_metadata=False)
    assert "no metadata.json" in preflight.check_model(other)[0]


def test_knowledge_base_checks(tmp_path):
    from policy_kb.repository import DEFAULT_DATA_DIR

    assert preflight.check_kb() == []
    broken = tmp_path / "kb"
    shutil.copytree(DEFAULT_DATA_DIR, broken)
    (broken / "clauses.yml").write_text("clauses: [unclosed", encoding="utf-8")
    found = preflight.check_kb(broken)
    assert len(found) == 1 and "knowledge base" in found[0] and "clauses.yml" in found[0]
    (broken / "clauses.yml").unlink()
    found = preflight.check_kb(broken)
    assert len(found) == 1 and "clauses.yml" in found[0]
    assert preflight.check_kb(tmp_path / "nowhere")


def test_tracker_store_checks(tmp_path):
    assert preflight.check_tracker_db(f"sqlite:///{tmp_path}/new.db") == []
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    found = preflight.check_tracker_db(f"sqlite:///{corrupt}")
    assert found and "cannot be opened as a SQLite database" in found[0] and str(corrupt) in found[0]
    assert "does not exist" in preflight.check_tracker_db(f"sqlite:///{tmp_path}/no/dir/t.db")[0]
    assert "directory" in preflight.check_tracker_db(f"sqlite:///{tmp_path}")[0]
    assert "not set" in preflight.check_tracker_db("")[0]
    found = preflight.check_tracker_db("postgresql://rasa:secret@127.0.0.1:9/rasa")
    assert found and "conversation store" in found[0] and "secret" not in found[0]


def test_a_damaged_conversation_store_is_refused(tmp_path):
    """The file opens and its schema reads, but pages of the events table are garbage: the
    assistant would answer and store nothing. The integrity check refuses it."""
    import sqlite3

    db = tmp_path / "tracker.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)")
        conn.execute("CREATE INDEX ix_sender ON events (sender_id)")
        conn.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                         [(f"s{i % 40}", "事件" * 300) for i in range(600)])
    assert preflight.check_tracker_db(f"sqlite:///{db}") == []
    page = 4096
    with open(db, "r+b") as f:
        f.seek(page * 40)  # well past the schema on page 1
        f.write(os.urandom(page * 3))
    with sqlite3.connect(db) as conn:  # still opens, as before the check existed
        conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    found = preflight.check_tracker_db(f"sqlite:///{db}")
    assert found and str(db) in found[0] and ("damaged" in found[0] or "malformed" in found[0]), found


def test_api_needs_a_token():
    assert preflight.check_api(OK_ENV) == []
    assert preflight.check_api({"RASA_ENABLE_API": "1", "RASA_API_TOKEN": "t0k3n"}) == []
    assert "RASA_API_TOKEN" in preflight.check_api({"RASA_ENABLE_API": "1"})[0]
    assert preflight.check_api({"RASA_EXTRA_ARGS": "--enable-api"})
    assert preflight.check_api({"RASA_EXTRA_ARGS": "--enable-api --auth-token x"}) == []
    assert api_args({}) == [] and api_args({"RASA_ENABLE_API": "0", "RASA_API_TOKEN": "x"}) == []
    assert api_args({"RASA_ENABLE_API": "1", "RASA_API_TOKEN": "x"}) == ["--enable-api", "--auth-token", "x"]
    with pytest.raises(ValueError, match="RASA_API_TOKEN"):
        api_args({"RASA_ENABLE_API": "1"})


def test_all_problems_are_reported_together(tmp_path):
    corrupt = tmp_path / "t.db"
    corrupt.write_bytes(b"x" * 2048)
    found = preflight.problems(model=tmp_path / "none.tar.gz", tracker_db=f"sqlite:///{corrupt}",
                               env={"RASA_ENABLE_API": "1"})
    assert [p.split(":")[0] for p in found] == ["model", "conversation store", "HTTP API"]


def _serve(env_extra, timeout=120):
    env = dict(os.environ, **env_extra)
    return subprocess.run(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_serve_refuses_to_start_and_says_why(tmp_path):
    corrupt_model = tmp_path / "model-broken.tar.gz"
    corrupt_model.write_bytes(b"\x1f\x8b" + os.urandom(1000))
    corrupt_db = tmp_path / "tracker.db"
    corrupt_db.write_bytes(b"not sqlite" * 300)
    run = _serve({"RASA_MODEL": str(corrupt_model), "TRACKER_DB_URL": f"sqlite:///{corrupt_db}",
                  "RASA_ENABLE_API": "1", "RASA_API_TOKEN": "", "VAR_DIR": str(tmp_path / "var"),
                  "RASA_PORT": "9", "ACTIONS_PORT": "9"})
    assert run.returncode == 1
    assert "preflight: model: " in run.stderr and "model-broken.tar.gz is corrupt" in run.stderr
    assert f"conversation store: {corrupt_db} cannot be opened" in run.stderr
    assert "RASA_API_TOKEN" in run.stderr
    assert "is running" not in run.stdout


def test_cli_exit_codes(tmp_path):
    model = small_model(tmp_path / "m.tar.gz")
    ok = subprocess.run([sys.executable, "scripts/preflight.py", "--model", str(model),
                         "--tracker-db", f"sqlite:///{tmp_path}/t.db"], cwd=ROOT,
                        env=dict(os.environ, RASA_ENABLE_API="0"), capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "scripts/preflight.py", "--model", str(tmp_path / "x")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "preflight: model:" in bad.stderr
