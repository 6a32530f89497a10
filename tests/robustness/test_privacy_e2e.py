"""Privacy between people and protocol abuse, against the real assistant (action server + Rasa with
the trained model, two workers) on loopback: each channel's conversations out of the others'
reach, server-issued widget sessions, rate limits per client address, REST only for JSON and
allowed origins, WeChat's signed URLs used once, bounded JSON nesting, Content-Length and
request time (raw sockets)."""
from __future__ import annotations

import http.client
import itertools
import json
import socket
import time
import uuid

import pytest
import requests

from bot.channels.guard import RATE_LIMITED
from tests.channels.fake_wechat import TOKEN, WeChatPlatform
from tests.robustness.conftest import need_model, new_sender, stored_events, texts, user_events, verdicts

pytestmark = pytest.mark.e2e

PER_ADDRESS = 8
REQUEST_TIMEOUT = 3
ALLOWED_ORIGIN = "https://www.zjhrss.example"
ID_CARD = "33010219900307123X"
_addresses = (f"198.51.100.{i}" for i in itertools.count(1))


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    need_model()
    from bot.launcher import Assistant

    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_PASSIVE_TIMEOUT": "60", "ACTION_REPLY_TIMEOUT": "60",
           # loopback stands for nginx here: each test names its clients in X-Forwarded-For
           "TRUSTED_PROXIES": "127.0.0.1", "GUARD_CLIENT_EXEMPT": "",
           "GUARD_CLIENT_PER_MINUTE": str(PER_ADDRESS), "HTTP_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
           "WIDGET_ALLOWED_ORIGINS": ALLOWED_ORIGIN}
    with Assistant(env=env, log_dir=tmp_path_factory.mktemp("logs")) as a:
        yield a


def client() -> dict:
    """Headers of a request that nginx forwards for a client of its own."""
    return {"X-Forwarded-For": next(_addresses)}


def rest(a, sender, message, headers=None, **kw) -> requests.Response:
    return requests.post(a.rest, json={"sender": sender, "message": message}, timeout=90,
                         headers={**client(), **(headers or {})}, **kw)


def widget(a, path: str, method: str = "POST", headers=None, **kw) -> requests.Response:
    return requests.request(method, f"{a.base}/webhooks/widget/{path}", timeout=90,
                            headers={**client(), **(headers or {})}, **kw)


def session(a, headers=None) -> str:
    r = widget(a, "session", json={}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["session"]


def wechat(a) -> WeChatPlatform:
    return WeChatPlatform(f"{a.base}/webhooks/wechat/webhook", TOKEN)


def openid() -> str:
    return "o" + uuid.uuid4().hex[:27]


# ---------------------------------------------------------------- 1. a namespace per channel

def test_a_rest_sender_cannot_write_into_or_read_a_wechat_conversation(assistant):
    user, platform = openid(), wechat(assistant)
    reply = platform.send_text(user, "博士后出站后去松阳县工作，有补助吗", timeout=90)
    assert reply.status == 200 and reply.text
    for sender in (user, f"wechat:{user}"):
        msgs = rest(assistant, sender, "民营企业").json()
        # a new REST conversation: it knows nothing of the postdoc in WeChat
        assert "eligible" not in verdicts(msgs), msgs
        assert all(m["recipient_id"] == sender for m in msgs)
    events = user_events(assistant.rasa.tracker_db, f"wechat:{user}")
    assert [e["text"] for e in events] == ["博士后出站后去松阳县工作，有补助吗"]
    assert [e["text"] for e in user_events(assistant.rasa.tracker_db, f"rest:wechat:{user}")] == ["民营企业"]


def test_a_rest_sender_does_not_use_up_a_wechat_users_rate_limit(assistant):
    user = openid()
    for _ in range(21):  # GUARD_SENDER_PER_MINUTE=20 for the REST conversation named like the user
        last = rest(assistant, user, "你好")
    assert texts(last.json()) == [RATE_LIMITED]
    reply = wechat(assistant).send_text(user, "开化县是山区县吗", timeout=90)
    assert reply.status == 200 and reply.text != RATE_LIMITED and "开化县" in reply.text


def test_widget_history_refuses_other_channels_ids_and_shows_nothing(assistant):
    user = openid()
    wechat(assistant).send_text(user, f"我的身份证号是{ID_CARD}，开化县是山区县吗", timeout=90)
    rest_sender = "citizen-" + uuid.uuid4().hex  # 40 characters, as a widget id used to look
    rest(assistant, rest_sender, f"身份证{ID_CARD}")
    for made_up in (user, f"wechat:{user}", rest_sender, "w" + uuid.uuid4().hex):
        # a widget message does not claim the conversation either
        assert widget(assistant, "webhook", json={"sender": made_up, "message": "你好"}).status_code == 403
        r = widget(assistant, "history", "GET", params={"sender": made_up})
        assert r.status_code == 403 and ID_CARD not in r.text and "messages" not in r.json()
        r = widget(assistant, "rating", json={"sender": made_up, "message_index": 0, "helpful": True})
        assert r.status_code == 403


def test_a_widget_session_reads_only_its_own_conversation(assistant):
    mine, other = session(assistant), session(assistant)
    r = widget(assistant, "webhook", json={"sender": mine, "message": f"身份证{ID_CARD}，开化县是山区县吗"})
    assert r.status_code == 200 and all(m["recipient_id"] == mine for m in r.json())
    assert ID_CARD in widget(assistant, "history", "GET", params={"sender": mine}).text
    r = widget(assistant, "history", "GET", params={"sender": other})
    # a session of its own with no conversation yet: an empty history, nothing of anyone else's
    assert r.status_code == 200 and r.json()["messages"] == [] and ID_CARD not in r.text
    sid = mine.split(".")[0]
    assert [e["text"] for e in user_events(assistant.rasa.tracker_db, f"widget:{sid}")] == [
        f"身份证{ID_CARD}，开化县是山区县吗"]
    # the tracker's id alone, without the server's signature, opens nothing
    for guess in (sid, f"widget:{sid}", sid + "." + "A" * 22):
        assert widget(assistant, "history", "GET", params={"sender": guess}).status_code == 403
        assert rest(assistant, guess, "你好").status_code == 200
    assert len(user_events(assistant.rasa.tracker_db, f"widget:{sid}")) == 1


# ---------------------------------------------------------------- 2. limits per client address

def test_rest_limits_each_client_address_across_senders(assistant):
    headers = client()
    answers = [rest(assistant, new_sender(), "你好", headers=headers) for _ in range(PER_ADDRESS + 1)]
    assert all(r.status_code == 200 for r in answers)
    assert [texts(r.json()) == [RATE_LIMITED] for r in answers] == [False] * PER_ADDRESS + [True]
    assert texts(rest(assistant, new_sender(), "你好").json()) != [RATE_LIMITED]  # another address


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(assistant):
    """From 127.0.0.2 (not in TRUSTED_PROXIES) a made-up X-Forwarded-For is ignored: every
    message counts against 127.0.0.2 itself."""
    replies = []
    for _ in range(PER_ADDRESS + 1):
        conn = http.client.HTTPConnection("127.0.0.1", assistant.rasa.port, timeout=90,
                                          source_address=("127.0.0.2", 0))
        conn.request("POST", "/webhooks/rest/webhook",
                     json.dumps({"sender": new_sender(), "message": "你好"}),
                     {"Content-Type": "application/json", **client()})
        replies.append(json.loads(conn.getresponse().read()))
        conn.close()
    assert [texts(r) == [RATE_LIMITED] for r in replies] == [False] * PER_ADDRESS + [True]


def test_widget_messages_history_and_sessions_are_limited_per_address(assistant):
    headers = client()
    tokens = [widget(assistant, "session", json={}, headers=headers) for _ in range(PER_ADDRESS + 1)]
    assert [r.status_code for r in tokens] == [200] * PER_ADDRESS + [429]
    mine = tokens[0].json()["session"]
    codes = [widget(assistant, "history", "GET", params={"sender": mine}, headers=headers).status_code
             for _ in range(PER_ADDRESS + 1)]
    assert codes == [200] * PER_ADDRESS + [429]  # an empty history, until the limit
    codes = [widget(assistant, "webhook", json={"sender": t.json()["session"], "message": "你好"},
                    headers=headers).status_code for t in tokens[:PER_ADDRESS]]
    codes.append(widget(assistant, "webhook", json={"sender": mine, "message": "你好"},
                        headers=headers).status_code)
    assert codes == [200] * PER_ADDRESS + [429]


# ---------------------------------------------------------------- 3. REST: JSON and origins only

@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", None])
def test_rest_refuses_bodies_that_are_not_sent_as_json(assistant, ctype):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "开化县是山区县吗"})
    headers = {**client(), **({"Content-Type": ctype} if ctype else {})}
    r = requests.post(assistant.rest, data=body.encode(), headers=headers, timeout=30)
    if ctype is None:  # requests sends none for bytes
        assert "content-type" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 415 and r.json() == {"error": "Content-Type must be application/json"}
    assert stored_events(assistant.rasa.tracker_db, sender) == []


def test_rest_refuses_other_origins_and_never_compares_with_host(assistant):
    sender = new_sender()
    port = assistant.rasa.port
    for origin, host in (("https://evil.example", None), (f"http://evil.example:{port}", f"evil.example:{port}"),
                         ("null", None)):
        headers = {"Origin": origin, **({"Host": host} if host else {})}
        r = rest(assistant, sender, "开化县是山区县吗", headers=headers)
        assert r.status_code == 403 and r.json() == {"error": "origin not allowed"}
    assert stored_events(assistant.rasa.tracker_db, sender) == []
    assert rest(assistant, sender, "你好", headers={"Origin": ALLOWED_ORIGIN}).status_code == 200
    ok = rest(assistant, new_sender(), "开化县是山区县吗",
              headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and texts(ok.json())  # no Origin: a server, curl, the checks


# ---------------------------------------------------------------- 5. WeChat: a signed URL once

def test_wechat_signed_url_cannot_be_replayed_with_another_body(assistant):
    platform, user = wechat(assistant), openid()
    q = platform.query()
    url = {"timestamp": int(q["timestamp"]), "nonce": q["nonce"]}
    body = platform.text_xml(user, "开化县是山区县吗", msg_id="3001")  # WeChat retries the same bytes
    first = platform.post(body, timeout=90, **url)
    assert first.status == 200 and "开化县" in first.text
    again = platform.post(body, timeout=90, **url)  # a retry
    assert again.status == 200
    for _ in range(3):  # whichever worker takes it
        forged = platform.send_text(openid(), f"身份证{ID_CARD}", msg_id="3002", timeout=90, **url)
        assert (forged.status, forged.body) == (403, "signed URL already used")
    assert len(user_events(assistant.rasa.tracker_db, f"wechat:{user}")) == 1


# ---------------------------------------------------------------- 11. bad input below the channels

@pytest.mark.parametrize("body", [
    pytest.param(b"[" * 100_000, id="body"),
    pytest.param(b'{"sender": "deep-1", "message": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", id="message"),
    pytest.param(b'{"sender": "deep-2", "message": "hi", "metadata": ' + b'{"a":' * 5000 + b"1"
                 + b"}" * 5000 + b"}", id="metadata"),
    pytest.param(b'{"sender": "deep-3", "message": "hi", "metadata": ' + b'{"a":' * 500 + b"1"
                 + b"}" * 500 + b"}", id="metadata-500"),
])
def test_deeply_nested_json_gets_a_short_400(assistant, body):
    r = requests.post(assistant.rest, data=body, timeout=30,
                      headers={"Content-Type": "application/json", **client()})
    assert r.status_code == 400
    assert "nested deeper" in r.json()["error"] and len(r.content) < 120
    assert "Traceback" not in r.text
    r = widget(assistant, "webhook", data=body[:15_000], headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and len(r.content) < 120


def raw(assistant, data: bytes, wait: float = 10.0) -> bytes:
    """Sends bytes on a new connection and returns all the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", assistant.rasa.port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out + b"<no more within %.0f s>" % wait
            if not chunk:
                return out
            out += chunk


@pytest.mark.parametrize("length", ["-1", "-100", "abc", "+5", "5, 6", " 1e3", "٣"])
def test_a_negative_or_non_numeric_content_length_gets_400_at_once(assistant, length):
    head = (f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode("utf-8")
    started = time.monotonic()
    answer = raw(assistant, head + b'{"sender": "x", "message": "hi"}', wait=10)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert time.monotonic() - started < 3
    assert b"Traceback" not in answer


def test_two_different_content_lengths_get_400(assistant):
    head = (b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5\r\nContent-Length: 7\r\n\r\n")
    assert raw(assistant, head + b"{}").startswith(b"HTTP/1.1 400")


def trickle(assistant, data: bytes, every: float = 1.0, limit: float = 20.0):
    """Sends one byte every ``every`` seconds until the server answers or closes; returns what it
    said and after how many seconds."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", assistant.rasa.port), timeout=limit) as s:
        s.setblocking(False)
        for byte in data:
            try:
                s.send(bytes([byte]))
            except OSError:  # closed by the server
                break
            deadline = time.monotonic() + every
            answer = b""
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    time.sleep(0.05)
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    return answer, time.monotonic() - started
                answer += chunk
            if time.monotonic() - started > limit:
                return b"<still open>", limit
    return b"<sent everything>", time.monotonic() - started


def test_a_client_sending_one_byte_a_second_is_cut_off(assistant):
    request = (b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 40\r\n\r\n" + b"x" * 40)
    answer, after = trickle(assistant, request)
    assert after < REQUEST_TIMEOUT + 4, (answer, after)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_slow_body_after_quick_headers_is_cut_off_too(assistant):
    head = (b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 60\r\n\r\n")
    with socket.create_connection(("127.0.0.1", assistant.rasa.port), timeout=20) as s:
        s.sendall(head)
        started = time.monotonic()
        answer = b""
        try:
            for _ in range(20):
                s.sendall(b" ")
                s.settimeout(1.0)
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                answer += chunk
                if not chunk or answer:
                    break
        except OSError:
            pass
        after = time.monotonic() - started
    assert after < REQUEST_TIMEOUT + 4, after
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_kept_alive_connection_is_timed_per_request_not_per_connection(assistant):
    with requests.Session() as s:
        for _ in range(3):
            r = s.post(assistant.rest, json={"sender": new_sender(), "message": "你好"},
                       headers=client(), timeout=60)
            assert r.status_code == 200
            time.sleep(REQUEST_TIMEOUT * 0.8)  # together far longer than one request may take


def test_the_server_still_answers_after_all_that(assistant):
    r = rest(assistant, new_sender(), "开化县是山区县吗")
    assert r.status_code == 200 and "开化县" in "".join(texts(r.json()))
