"""Two Rasa servers sharing one PostgreSQL conversation store (and a Redis lock store) share one
staff console: a turn stored through server A is listed by the console on server B, a message
left through A is a ticket B's console answers, and the reply reaches the conversation. The
servers start without staff accounts: the console and the offer to leave a message (留言)
appear on both as soon as an account is added, without a restart.

PostgreSQL and Redis are the Debian packages' binaries (tests/scale/services.py); without them
the test is skipped, except in CI (conftest.py)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.scale import services
from tests.staff.console import signed_in

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "results" / "test-logs" / "scale-staff"
ADMIN, PASSWORD = "lead", "correct-horse-battery"


@pytest.fixture(scope="module")
def pair(scale_binaries):
    env = {"SANIC_WORKERS": "1", "STAFF_ADMIN_USER": "", "STAFF_ADMIN_PASSWORD": "",
           "GUARD_SENDER_PER_MINUTE": "100"}
    with services.cluster(LOGS, env, nginx=False) as c:
        yield c.pg, c.a, c.b


def say(server, sender, text):
    r = requests.post(server.rest, json={"sender": sender, "message": text}, timeout=90)
    assert r.status_code == 200, r.text
    return " ".join(m.get("text") or "" for m in r.json())


def login(server):
    return signed_in(server, ADMIN, PASSWORD)


def test_one_console_for_two_servers_from_the_first_account_on(pair):
    pg, a, b = pair
    # No account yet: no console, and asking for a person offers no message to staff.
    assert requests.get(b.base + "/staff/api/conversations", timeout=10).status_code == 404
    before = say(a, f"rest-pre-{uuid.uuid4().hex[:6]}", "我要找人工")
    assert "12333" in before and "留言" not in before

    # An account is added while both servers run (make staff-user against the shared database).
    added = subprocess.run(
        [sys.executable, "-m", "bot.staff.cli", "--username", ADMIN, "--role", "管理", "--password-stdin",
         "--database", pg.url], input=PASSWORD + "\n", cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    time.sleep(1.5)  # servers without accounts look again every second

    sender = f"rest-ab-{uuid.uuid4().hex[:8]}"
    assert "开化县" in say(a, sender, "开化县是山区县吗")          # stored through A
    console_b = login(b)
    listed = console_b.get(b.base + "/staff/api/conversations", params={"q": "开化县"}, timeout=30).json()
    assert sender in [c["id"] for c in listed["items"]]
    conv = console_b.get(f"{b.base}/staff/api/conversations/{sender}", timeout=30).json()
    assert conv["turns_detail"][0]["text"] == "开化县是山区县吗" and conv["turns_detail"][0]["answer"]

    # Hand-off: asked for on A (the offer is there now), left on A, answered from B's console.
    assert "留言" in say(a, sender, "我要找人工")
    assert "下一条消息" in say(a, sender, "留言")
    assert "已收到您的留言" in say(a, sender, "补贴什么时候发？")
    tickets = console_b.get(b.base + "/staff/api/tickets", params={"status": "open"}, timeout=30).json()["items"]
    ticket = next(t for t in tickets if t["conversation"] == sender)
    r = console_b.post(f"{b.base}/staff/api/tickets/{ticket['id']}/reply", json={"text": "审核通过后一个月内发放。"},
                       timeout=60)
    assert r.status_code == 200 and r.json()["delivered"] is True
    # The reply is in the shared conversation: stored once, after the message left through A,
    # and A's console shows the ticket answered.
    rows = [(t, json.loads(d).get("text") or "") for t, d in
            pg.query("SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))]
    replies = [i for i, (t, text) in enumerate(rows) if t == "bot" and "审核通过后一个月内发放" in text]
    left = [i for i, (t, text) in enumerate(rows) if t == "user" and "补贴什么时候发" in text]
    assert len(replies) == 1 and left and left[0] < replies[0]
    console_a = login(a)
    assert console_a.get(f"{a.base}/staff/api/tickets/{ticket['id']}", timeout=30).json()["status"] == "answered"
    # The conversation goes on through B with its history.
    assert "开化县" in say(b, sender, "开化县是山区县吗")
    turns = console_a.get(f"{a.base}/staff/api/conversations/{sender}", timeout=30).json()["turns_detail"]
    assert [t["text"] for t in turns][0] == "开化县是山区县吗" and [t["text"] for t in turns][-1] == "开化县是山区县吗"
