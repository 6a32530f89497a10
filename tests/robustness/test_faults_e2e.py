"""Faults with the real assistant: the action server slow, failing or down gives the person an
apology with the 12333 hotline (not silence, not a 5xx); a Rasa restart mid-conversation keeps
the conversation and its slots; with the HTTP API enabled for staff, it needs the token.

Rasa reaches the real action server through a small proxy on loopback that can be made slow,
failing or absent."""
from __future__ import annotations

import http.server
import threading
import time
import urllib.error
import urllib.request

import pytest
import requests

from bot.channels.guard import APOLOGY
from tests.robustness.conftest import customs, need_model, new_sender, post, say, texts, verdicts

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 6.0
API_TOKEN = "staff-token-for-tests"


class ActionProxy:
    """Forwards Rasa's action calls to the real action server, or misbehaves (``mode``)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.mode = "ok"  # ok | slow | error
        self.slow_seconds = 30.0
        self.server = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self) -> "ActionProxy":
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.mode == "slow":
                    time.sleep(proxy.slow_seconds)
                if proxy.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"internal error")
                    return
                req = urllib.request.Request(proxy.target, data=body,
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture(scope="module")
def actions():
    need_model()
    from bot.launcher import ActionServer

    server = ActionServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(actions):
    p = ActionProxy(actions.url).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('tracker')}/tracker.db"


@pytest.fixture(scope="module")
def rasa(proxy, tracker_db, tmp_path_factory):
    from bot.launcher import RasaServer

    server = RasaServer(proxy.url, tracker_db=tracker_db,
                        env={"ACTION_REPLY_TIMEOUT": str(REPLY_TIMEOUT)},
                        log=tmp_path_factory.mktemp("logs") / "rasa.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def proxy_back_to_normal(request):
    yield
    if "proxy" in request.fixturenames:
        p = request.getfixturevalue("proxy")
        p.mode = "ok"
        if p.server is None:
            p.start()


def apology_only(response) -> None:
    assert response.status_code == 200
    assert texts(response.json()) == [APOLOGY]
    assert "12333" in APOLOGY


def test_normal_answers_pass_through_the_proxy(rasa, proxy):
    msgs = say(rasa.rest, new_sender(), "开化县是山区县吗")
    assert any(c.get("county", {}).get("name") == "开化县" for c in customs(msgs))


def test_slow_action_server_gets_an_apology_within_the_timeout(rasa, proxy):
    proxy.mode = "slow"
    started = time.monotonic()
    r = post(rasa.rest, new_sender(), "开化县是山区县吗")
    elapsed = time.monotonic() - started
    apology_only(r)
    assert REPLY_TIMEOUT - 0.5 <= elapsed < REPLY_TIMEOUT + 10


def test_failing_action_server_gets_an_apology(rasa, proxy):
    proxy.mode = "error"
    apology_only(post(rasa.rest, new_sender(), "开化县是山区县吗"))


def test_action_server_down_gets_an_apology_on_every_channel(rasa, proxy):
    proxy.stop()
    apology_only(post(rasa.rest, new_sender(), "开化县是山区县吗"))
    session = requests.post(f"{rasa.base}/webhooks/widget/session", json={}, timeout=60).json()
    r = requests.post(f"{rasa.base}/webhooks/widget/webhook",
                      json={"sender": session["session"], "message": "开化县是山区县吗"},
                      timeout=60)
    assert r.status_code == 200 and texts(r.json()) == [APOLOGY]
    # small talk goes through the action too (its words decide), so it gets the same apology
    apology_only(post(rasa.rest, new_sender(), "你好"))


def test_the_conversation_goes_on_after_the_action_server_is_back(rasa, proxy):
    sender = new_sender()
    assert verdicts(say(rasa.rest, sender, "博士后出站补助我能拿吗")) == ["need_info"]
    proxy.mode = "error"
    apology_only(post(rasa.rest, sender, "去遂昌"))
    proxy.mode = "ok"
    say(rasa.rest, sender, "去遂昌")
    assert verdicts(say(rasa.rest, sender, "民营企业")) == ["eligible"]


def test_rasa_restart_mid_conversation_keeps_the_slots_and_staff_api_needs_the_token(
        rasa, actions, tracker_db, tmp_path_factory):
    from bot.launcher import RasaServer

    sender = new_sender()
    assert verdicts(say(rasa.rest, sender, "博士后出站补助我能拿吗")) == ["need_info"]
    rasa.stop()
    again = RasaServer(actions.url, tracker_db=tracker_db,
                       env={"RASA_ENABLE_API": "1", "RASA_API_TOKEN": API_TOKEN},
                       log=tmp_path_factory.mktemp("logs-restarted") / "rasa.log")
    again.start()
    try:
        say(again.rest, sender, "去遂昌")
        last = say(again.rest, sender, "民营企业")
        assert verdicts(last) == ["eligible"]

        # The HTTP API, enabled for staff: nothing without the token.
        tracker_url = f"{again.base}/conversations/{sender}/tracker"
        assert requests.get(tracker_url, timeout=30).status_code == 401
        assert requests.get(tracker_url, params={"token": "wrong"}, timeout=30).status_code == 401
        assert requests.post(f"{again.base}/model/parse", json={"text": "你好"},
                             timeout=30).status_code == 401
        r = requests.get(tracker_url, params={"token": API_TOKEN}, timeout=30)
        assert r.status_code == 200
        facts = r.json()["slots"]["facts"]
        assert facts and facts.get("employer_type") == "private"
    finally:
        again.stop()


def test_launcher_refuses_the_api_without_a_token(tracker_db):
    need_model()
    from bot.launcher import RasaServer

    server = RasaServer(None, tracker_db=tracker_db, env={"RASA_ENABLE_API": "1", "RASA_API_TOKEN": ""})
    with pytest.raises(ValueError, match="RASA_API_TOKEN"):
        server.start()
    assert server.proc is None
