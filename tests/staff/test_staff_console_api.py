"""The staff console on the real assistant (both servers on loopback, as `make run` starts them,
with STAFF_ADMIN_USER / STAFF_ADMIN_PASSWORD): sessions, cookie flags, CSRF, lock-out, roles,
filters, and a hand-off from "转人工" to a staff reply."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests

from bot.launcher import Assistant
from tests.staff import console

ROOT = Path(__file__).resolve().parents[2]
ADMIN, PASSWORD = "admin", "correct-horse-battery"

API_GETS = ["me", "conversations", "conversations/rest:x", "turns", "unanswered", "dashboard",
            "tickets", "tickets/1", "users", "audit", "conversations?format=csv"]
API_POSTS = ["logout", "unanswered/review", "unanswered/export", "tickets/1/reply", "tickets/1/close",
             "users", "users/someone/disable"]


@pytest.fixture(scope="module")
def server():
    env = {"STAFF_ADMIN_USER": ADMIN, "STAFF_ADMIN_PASSWORD": PASSWORD, "SANIC_WORKERS": "1",
           "STAFF_MAX_FAILURES": "5", "GUARD_SENDER_PER_MINUTE": "100"}
    with Assistant(env=env, log_dir=ROOT / "results" / "test-logs" / "staff") as a:
        yield a


def login(server, username=ADMIN, password=PASSWORD, **headers):
    return console.login(server, username, password, **headers)


def say(server, sender, text):
    r = requests.post(server.rest, json={"sender": sender, "message": text}, timeout=60)
    assert r.status_code == 200, r.text
    return [m.get("text") or "" for m in r.json()]


def test_nothing_is_readable_without_a_session(server):
    for path in API_GETS:
        r = requests.get(f"{server.base}/staff/api/{path}", timeout=10)
        assert r.status_code == 401, path
        assert "items" not in r.text
    for path in API_POSTS:
        r = requests.post(f"{server.base}/staff/api/{path}", json={}, timeout=10)
        assert r.status_code == 401, path
    page = requests.get(server.base + "/staff/", timeout=10)
    assert page.status_code == 401 and 'id="login-form"' in page.text
    # A made-up session cookie is no session.
    r = requests.get(server.base + "/staff/api/conversations", cookies={"staff_session": "x" * 43}, timeout=10)
    assert r.status_code == 401


def test_session_cookie_flags(server):
    _, r = login(server)
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    _, r = login(server, **{"X-Forwarded-Proto": "https"})  # nginx on this machine terminating TLS
    assert "Secure" in r.headers["Set-Cookie"]
    page = requests.Session()
    page.cookies.update(login(server)[0].cookies)
    resp = page.get(server.base + "/staff/", timeout=10)
    assert resp.status_code == 200 and "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script src=\"/staff/static/staff.js\"></script>" in resp.text


def test_writes_need_the_csrf_token(server):
    s, _ = login(server)
    token = s.headers.pop("X-CSRF-Token")
    r = s.post(server.base + "/staff/api/unanswered/review", json={"keys": ["x"]}, timeout=10)
    assert r.status_code == 403
    r = s.post(server.base + "/staff/api/unanswered/review", json={"keys": ["x"]},
               headers={"X-CSRF-Token": "wrong"}, timeout=10)
    assert r.status_code == 403
    r = s.post(server.base + "/staff/api/unanswered/review", json={"keys": ["x"]},
               headers={"X-CSRF-Token": token, "Origin": "https://evil.example"}, timeout=10)
    assert r.status_code == 403
    r = s.post(server.base + "/staff/api/unanswered/review", json={"keys": ["x"]},
               headers={"X-CSRF-Token": token}, timeout=10)
    assert r.status_code == 200


def test_repeated_wrong_passwords_lock_the_account(server):
    admin, _ = login(server)
    name = "lock" + uuid.uuid4().hex[:6]
    assert admin.post(server.base + "/staff/api/users", json={"username": name, "password": "a-long-password",
                                                              "role": "查看"}, timeout=30).status_code == 201
    codes = [login(server, name, f"wrong-{i}")[1].status_code for i in range(5)]
    assert codes == [401, 401, 401, 401, 423]
    _, r = login(server, name, "a-long-password")
    assert r.status_code == 423 and "锁定" in r.json()["error"]
    users = admin.get(server.base + "/staff/api/users", timeout=10).json()["items"]
    assert next(u for u in users if u["username"] == name)["locked"] is True
    actions = [a["action"] for a in admin.get(server.base + "/staff/api/audit?per_page=200", timeout=10).json()["items"]
               if a["username"] == name]
    assert "account_locked" in actions and "login_failed" in actions


def test_a_read_only_account_cannot_reply_or_manage_accounts(server):
    admin, _ = login(server)
    name = "view" + uuid.uuid4().hex[:6]
    admin.post(server.base + "/staff/api/users", json={"username": name, "password": "a-long-password",
                                                       "role": "view"}, timeout=30)
    viewer, r = login(server, name, "a-long-password")
    assert r.json()["user"]["role_name"] == "查看"
    assert viewer.get(server.base + "/staff/api/conversations", timeout=10).status_code == 200
    assert viewer.post(server.base + "/staff/api/tickets/1/reply", json={"text": "hi"}, timeout=10).status_code == 403
    assert viewer.get(server.base + "/staff/api/users", timeout=10).status_code == 403
    assert viewer.post(server.base + "/staff/api/users", json={"username": "x" + name, "password": "a-long-password",
                                                               "role": "manage"}, timeout=10).status_code == 403


def test_filters_with_sql_metacharacters_are_plain_text(server):
    s, _ = login(server)
    sender = "sql-" + uuid.uuid4().hex[:8]
    say(server, sender, "开化县是山区县吗")
    for params in [{"q": "' OR 1=1 --"}, {"channel": "rest' OR '1'='1"}, {"clause": "\"; DROP TABLE staff_turns; --"},
                   {"q": "%"}, {"verdict": "x' UNION SELECT password_hash FROM staff_users --"}]:
        r = s.get(server.base + "/staff/api/conversations", params=params, timeout=10)
        assert r.status_code == 200, params
        assert "argon2" not in r.text
        assert all(c["id"] != sender for c in r.json()["items"]) or params == {"q": "%"}
    assert s.get(server.base + "/staff/api/conversations", params={"from": "1' OR '1"}, timeout=10).status_code == 400
    found = s.get(server.base + "/staff/api/conversations", params={"q": "开化县", "channel": "rest"}, timeout=10).json()
    assert sender in [c["id"] for c in found["items"]]
    csv = s.get(server.base + "/staff/api/conversations", params={"q": "开化县", "format": "csv"}, timeout=10)
    assert csv.headers["Content-Type"].startswith("text/csv") and sender in csv.text


def test_hand_off_from_asking_for_a_person_to_a_staff_reply(server):
    sender = "handoff-" + uuid.uuid4().hex[:8]
    texts = say(server, sender, "我要找人工")
    assert any("12333" in t for t in texts) and any("留言" in t for t in texts)
    assert "下一条消息" in " ".join(say(server, sender, "留言"))
    received = " ".join(say(server, sender, "补贴什么时候发？我的电话13812345678"))
    assert "已收到您的留言" in received and "1个工作日" in received

    s, _ = login(server)
    tickets = s.get(server.base + "/staff/api/tickets", params={"status": "open"}, timeout=10).json()["items"]
    ticket = next(t for t in tickets if t["conversation"] == sender)
    assert ticket["contact"] == "13812345678" and "138****5678" in ticket["message"]
    detail = s.get(f"{server.base}/staff/api/tickets/{ticket['id']}", timeout=10).json()
    assert any("我要找人工" in (x["user_text"] or "") for x in detail["transcript"])

    r = s.post(f"{server.base}/staff/api/tickets/{ticket['id']}/reply", json={"text": "您好，审核通过后一个月内发放。"},
               timeout=30)
    assert r.status_code == 200 and r.json()["delivered"] is True
    detail = s.get(f"{server.base}/staff/api/tickets/{ticket['id']}", timeout=10).json()
    assert detail["status"] == "answered"
    # The conversation goes on normally afterwards.
    assert any("开化县" in t for t in say(server, sender, "开化县是山区县吗"))
    conv = s.get(f"{server.base}/staff/api/conversations/{sender}", timeout=10).json()
    assert [t["text"] for t in conv["turns_detail"]][-1] == "开化县是山区县吗"
    assert conv["tickets"][0]["id"] == ticket["id"]
