"""The staff console reads its settings (STAFF_*, TRACKER_DB_URL, WECHAT_*) through bot.settings:
the defaults are those of bot/settings.py, a changed environment is followed per request, and a
value the console cannot use stops the Rasa server's start with the variable's name."""
from __future__ import annotations

import os
import subprocess
import sys

from bot.launcher import ROOT
from bot.settings import Settings
from bot.staff import auth, db, handoff, queries, turns

STAFF = [f.metadata["env"] for f in Settings.__dataclass_fields__.values()
         if f.metadata["env"].startswith(("STAFF_", "WECHAT_"))] + ["TRACKER_DB_URL", "VAR_DIR"]


def _clean(monkeypatch):
    for name in STAFF:
        monkeypatch.delenv(name, raising=False)


def test_the_defaults_are_those_of_the_settings_object(monkeypatch):
    _clean(monkeypatch)
    s = Settings()
    assert auth.settings() == {"idle": s.staff_session_idle_minutes * 60,
                               "absolute": s.staff_session_hours * 3600,
                               "max_failures": s.staff_max_failures,
                               "lock": s.staff_lock_minutes * 60}
    assert queries.low_confidence() == s.staff_low_confidence
    assert handoff.reply_within() == s.staff_reply_within
    assert handoff.failures_before_offer() == s.staff_handoff_after_failures
    assert str(turns.timezone()) == s.staff_timezone
    assert handoff.wechat_client() is None  # no AppID and AppSecret


def test_the_console_follows_the_environment(monkeypatch, tmp_path):
    _clean(monkeypatch)
    # The conversations' database is where VAR_DIR puts it, as for the Rasa server's store.
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    assert db.database_url() == f"sqlite:///{tmp_path}/tracker.db"
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://rasa@db/rasa")
    assert db.database_url() == "postgresql://rasa@db/rasa"
    monkeypatch.setenv("STAFF_SESSION_HOURS", "2")
    monkeypatch.setenv("STAFF_MAX_FAILURES", "3")
    assert auth.settings()["absolute"] == 7200 and auth.settings()["max_failures"] == 3
    monkeypatch.setenv("STAFF_LOW_CONFIDENCE", "0.4")
    monkeypatch.setenv("STAFF_REPLY_WITHIN", "48小时")
    monkeypatch.setenv("STAFF_HANDOFF_AFTER_FAILURES", "2")
    monkeypatch.setenv("STAFF_TIMEZONE", "Asia/Urumqi")
    assert queries.low_confidence() == 0.4 and handoff.reply_within() == "48小时"
    assert handoff.failures_before_offer() == 2 and str(turns.timezone()) == "Asia/Urumqi"
    monkeypatch.setenv("WECHAT_APPID", "wx123")
    monkeypatch.setenv("WECHAT_SECRET", "s3cret")
    client = handoff.wechat_client()
    assert client is not None and client.api_base == Settings().wechat_api_base
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9/")
    assert handoff.wechat_client().api_base.rstrip("/") == "http://127.0.0.1:9"


def test_the_admin_from_the_environment_or_a_given_one(monkeypatch, tmp_path):
    _clean(monkeypatch)
    engine = db.engine_for(f"sqlite:///{tmp_path}/tracker.db")
    db.ensure_schema(engine)
    assert auth.bootstrap_admin(engine) is None
    assert auth.bootstrap_admin(engine, {"STAFF_ADMIN_USER": "chen",
                                         "STAFF_ADMIN_PASSWORD": "long-enough-1"}) == "created"
    monkeypatch.setenv("STAFF_ADMIN_USER", "chen")
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", "long-enough-2")
    assert auth.bootstrap_admin(engine) == "reset"


def test_a_value_the_console_cannot_use_stops_the_servers_start():
    for name, value, says in (("STAFF_SESSION_HOURS", "0", "must be a positive number"),
                              ("STAFF_TIMEZONE", "Asia/Hangzhou", "no time zone")):
        run = subprocess.run([sys.executable, "-m", "bot.entry"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120,
                             env=dict(os.environ, PYTHONPATH=str(ROOT), **{name: value}))
        assert run.returncode == 2, run.stderr
        assert f"The Rasa server was not started: {name}={value!r}: {says}" in run.stderr \
            or f"The Rasa server was not started: {name}={value!r} {says}" in run.stderr, run.stderr
