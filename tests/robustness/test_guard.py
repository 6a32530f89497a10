"""The shared input guard of the public channels, without servers."""
from __future__ import annotations

import asyncio
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.guard import (
    APOLOGY, EMPTY, NO_TEXT, RATE_LIMITED, TRUNCATED, Checked, Guard, clean_text, has_words,
    neutralise_markup,
)
from bot.shared_state import SlidingWindowLimiter

OFFERED = '/inform{"employer_type":"private"}'


def guard(**kw) -> Guard:
    kw.setdefault("per_minute", 0)
    g = Guard("test", **kw)
    # One worker's guard: its counts in memory (the shared one: tests/scale/test_shared_state.py).
    g.limiter = SlidingWindowLimiter(kw["per_minute"])
    return g


# ---------------------------------------------------------------- bad input

def test_empty_blank_and_invisible_messages_get_a_request_for_a_question():
    g = guard()
    for text in ("", "   ", "\n\t", "\u200b\u200c\ufeff", "\x00\x07", "\ud800", "\u0600\U000e0041",
                 None, 42, "<br/>", "///"):
        checked = g.check_text(text, "s")
        assert (checked.reply, checked.reason) == (EMPTY, "empty"), repr(text)


def test_emoji_and_punctuation_only_ask_for_words():
    g = guard()
    for text in ("😀", "👍👍👍", "？？？", "!!!", "🇨🇳 ❤️", "…… ——"):
        checked = g.check_text(text, "s")
        assert (checked.reply, checked.reason) == (NO_TEXT, "no_text"), text
    assert g.check_text("👍 开化县", "s").reply is None


def test_control_and_zero_width_characters_are_dropped():
    checked = guard().check_text("开\u200b化\x00县\u202e是\ufeff山区县吗\x1b", "s")
    assert checked.text == "开化县是山区县吗"


def test_html_tags_are_removed_from_what_the_assistant_reads():
    checked = guard().check_text("<script>alert(1)</script><b>开化县</b>是山区县吗<!-- x -->", "s")
    assert "<" not in checked.text and ">" not in checked.text
    assert "开化县" in checked.text
    assert guard().check_text("3 < 5 且 7 > 2", "s").text == "3 < 5 且 7 > 2"  # not a tag


def test_sql_looking_and_mixed_language_text_pass_as_text():
    for text in ("'; DROP TABLE events; --", "1 OR 1=1", "Is 开化 a 山区县?", "松阳 postdoc 补助 how much"):
        checked = guard().check_text(text, "s")
        assert checked.reply is None and checked.text == text


def test_long_message_is_bounded_and_the_person_told():
    checked = guard(max_chars=1000).check_text("开化县是山区县吗" + "啊" * 10_000, "s")
    assert len(checked.text) == 1000 and checked.text.startswith("开化县是山区县吗")
    assert checked.notices == [TRUNCATED.format(limit=1000)]
    assert "1000" in checked.notices[0]
    assert guard(max_chars=1000).check_text("短", "s").notices == []


def test_the_same_sender_is_rate_limited_politely_and_others_are_not():
    g = guard(per_minute=3)
    reasons = [g.check_text("开化县是山区县吗", "a").reason for _ in range(5)]
    assert reasons == ["ok", "ok", "ok", "rate_limited", "rate_limited"]
    assert g.check_text("开化县是山区县吗", "a").reply == RATE_LIMITED
    assert g.check_text("开化县是山区县吗", "b").reason == "ok"
    # rejected messages do not count; empty ones are answered without counting
    assert guard(per_minute=1).check_text("", "c").reason == "empty"


def test_limiter_window_slides_and_forgets_idle_senders():
    lim = SlidingWindowLimiter(2, window=60, max_keys=3)
    assert [lim.allow("a", now=t) for t in (0, 1, 2)] == [True, True, False]
    assert lim.allow("a", now=61)
    for i in range(10):
        lim.allow(f"x{i}", now=100)
    assert len(lim._hits) == 3
    assert SlidingWindowLimiter(0).allow("anyone")


# ---------------------------------------------------------------- typed payloads

def test_typed_payload_is_read_as_text_unless_just_offered():
    g = guard()
    assert g.check_text('/ask_eligibility{"place":"缙云县"}', "s").text == 'ask_eligibility{"place":"缙云县"}'
    assert g.check_text(OFFERED, "s", offered=[]).text == 'inform{"employer_type":"private"}'
    assert g.check_text(OFFERED, "s", offered=[OFFERED]).text == OFFERED
    assert g.check_text("//greet", "s").text == "greet"
    assert g.check_text(" ／greet", "s").text == "greet"
    assert g.check_text("\u200b/greet", "s").text == "greet"
    # a different payload than the one offered
    assert not g.check_text('/inform{"employer_type":"state"}', "s", offered=[OFFERED]).text.startswith("/")


class _Tracker:
    def __init__(self, events):
        self.events = events


class _Store:
    def __init__(self, trackers):
        self.trackers = trackers

    async def retrieve(self, sender):
        return self.trackers.get(sender)


class _App:
    def __init__(self, store):
        self.ctx = type("Ctx", (), {"agent": type("Agent", (), {"tracker_store": store})()})()


def test_offered_payloads_are_read_from_the_conversation():
    offer = BotUttered("您在哪类单位工作？", {"buttons": [{"title": "民营企业", "payload": OFFERED}]})
    app = _App(_Store({"s": _Tracker([UserUttered("博士后"), offer]),
                       "t": _Tracker([UserUttered("博士后"), offer, UserUttered("你好"),
                                      BotUttered("您好！")])}))
    g = guard()
    g.bind(app)
    assert asyncio.run(g.check(OFFERED, "s")).text == OFFERED
    assert asyncio.run(g.check(OFFERED, "t")).text == OFFERED[1:]
    assert asyncio.run(g.check(OFFERED, "unknown")).text == OFFERED[1:]
    assert asyncio.run(guard().check(OFFERED, "s")).text == OFFERED[1:]  # no app: fail closed


# ---------------------------------------------------------------- answering

def _deliver(g: Guard, handler) -> tuple:
    async def run():
        collector = CollectingOutputChannel()
        ok = await g.deliver(handler, UserMessage("开化县", collector, "s"))
        return ok, g.finish(collector.messages, "s").messages
    return asyncio.run(run())


def test_failure_timeout_and_silence_become_an_apology_with_the_hotline():
    async def fails(message):
        raise RuntimeError("action server down")

    async def slow(message):
        await asyncio.sleep(5)

    async def silent(message):
        return None

    async def answers(message):
        await message.output_channel.send_response("s", {"text": "开化县属于山区26县。"})

    for handler, ok in ((fails, False), (slow, False), (silent, True)):
        got_ok, messages = _deliver(guard(timeout=0.2), handler)
        assert got_ok is ok
        assert [m["text"] for m in messages] == [APOLOGY]
        assert "12333" in APOLOGY
    assert _deliver(guard(timeout=2), answers) == (True, [{"recipient_id": "s", "text": "开化县属于山区26县。"}])


def test_notices_come_first_and_markup_is_neutralised():
    msgs = guard().finish([{"recipient_id": "s", "text": "<script>x</script> 3 < 5",
                            "buttons": [{"title": "<b>是</b>", "payload": "/affirm"}]}],
                          "s", Checked(notices=["您的消息较长"])).messages
    assert msgs[0]["text"] == "您的消息较长"
    assert msgs[1]["text"] == "＜script>x＜/script> 3 < 5"
    assert msgs[1]["buttons"] == [{"title": "＜b>是＜/b>", "payload": "/affirm"}]
    assert neutralise_markup(None) is None


# ---------------------------------------------------------------- properties

@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=3000), st.booleans())
def test_check_never_crashes_and_its_output_is_well_formed(text, offer):
    g = guard(max_chars=1000)
    offered = [text.strip()] if offer else []
    checked = g.check_text(text, "s", offered=offered)
    assert checked.reason in ("ok", "empty", "no_text", "rate_limited")
    if checked.reply is not None:
        assert checked.text == "" and checked.reply in (EMPTY, NO_TEXT, RATE_LIMITED)
        return
    out = checked.text
    assert 0 < len(out) <= 1000 and has_words(out)
    assert out == out.strip() and "  " not in out
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn") for c in out)
    out.encode("utf-8")  # storable: no lone surrogates
    assert not out.startswith("/") or out in offered
    assert bool(checked.notices) == (len(clean_text(text)) > 1000)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=300))
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


# ---------------------------------------------------------------- ids, addresses, origins, JSON

def test_each_channel_has_its_own_namespace_of_conversation_ids():
    from bot.channels.guard import conversation_id

    assert conversation_id("rest", "citizen-1") == "citizen-1"  # as the checks and staff name it
    assert conversation_id("widget", "abc") == "widget:abc"
    assert conversation_id("wechat", "oUser") == "wechat:oUser"
    # a REST sender can never take the form of another channel's id
    assert conversation_id("rest", "wechat:oUser") == "rest:wechat:oUser"
    assert conversation_id("rest", "widget:abc") == "rest:widget:abc"
    assert conversation_id("rest", "rest:x") != conversation_id("rest", "x")


class _Request:
    def __init__(self, ip, forwarded=(), origin=None, port=5005):
        from types import SimpleNamespace

        from sanic.compat import Header

        self.ip = ip
        self.headers = Header([("x-forwarded-for", v) for v in forwarded]
                              + ([("origin", origin)] if origin else []))
        self.conn_info = SimpleNamespace(server_port=port)


def test_client_address_trusts_x_forwarded_for_only_from_configured_proxies():
    import pytest

    from bot.channels.http import ClientAddresses

    none = ClientAddresses(trusted="", exempt="")
    assert none.of(_Request("203.0.113.9", ["1.2.3.4"])) == "203.0.113.9"
    nginx = ClientAddresses(trusted="10.0.0.0/24, ::1", exempt="")
    assert nginx.of(_Request("10.0.0.5", ["198.51.100.7"])) == "198.51.100.7"
    # a client's own made-up hop in front of the one nginx appended is not believed
    assert nginx.of(_Request("10.0.0.5", ["6.6.6.6, 198.51.100.7"])) == "198.51.100.7"
    assert nginx.of(_Request("10.0.0.5", ["198.51.100.7, 10.0.0.6"])) == "198.51.100.7"
    assert nginx.of(_Request("10.0.0.5", ["garbage"])) == "10.0.0.5"
    assert nginx.of(_Request("10.0.0.5")) == "10.0.0.5"
    assert nginx.of(_Request("203.0.113.9", ["198.51.100.7"])) == "203.0.113.9"
    assert nginx.of(_Request("::ffff:203.0.113.9")) == "203.0.113.9"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES: 'nginx'"):
        ClientAddresses(trusted="nginx")
    default = ClientAddresses(trusted="")
    assert default.is_exempt("127.0.0.1") and default.is_exempt("::1")
    assert not default.is_exempt("203.0.113.9")


def test_origins_are_the_configured_ones_and_the_assistants_own_loopback_port():
    from bot.channels.http import OriginPolicy

    policy = OriginPolicy("https://www.zj.gov.cn/")
    assert policy.check(_Request("1.2.3.4")) is None
    assert policy.check(_Request("1.2.3.4", origin="https://WWW.zj.gov.cn")) is True
    assert policy.check(_Request("1.2.3.4", origin="http://127.0.0.1:5005")) is True
    assert policy.check(_Request("1.2.3.4", origin="http://localhost:5005")) is True
    assert policy.check(_Request("1.2.3.4", origin="http://127.0.0.1:8080")) is False
    assert policy.check(_Request("1.2.3.4", origin="http://evil.example:5005")) is False
    assert policy.check(_Request("1.2.3.4", origin="null")) is False
    assert OriginPolicy("*").check(_Request("1.2.3.4", origin="https://any.example")) is True


def test_json_bodies_are_bounded_in_depth_without_recursion():
    import pytest

    from bot.channels.http import BadJSON, json_depth, load_json_object

    assert json_depth({"a": [1, {"b": 2}]}) == 3 and json_depth("x") == 0
    assert load_json_object(b'{"sender": "x"}') == {"sender": "x"}
    for raw, message in ((b"[" * 100_000, "nested deeper"), (b'{"a":' * 21 + b"1" + b"}" * 21, "nested deeper"),
                         (b"[1]", "JSON object"), (b"\xff", "must be JSON"), (b"", "must be JSON")):
        with pytest.raises(BadJSON, match=message):
            load_json_object(raw)


def test_framing_headers_that_sanic_would_misread_are_refused():
    import pytest
    from sanic.compat import Header
    from sanic.exceptions import InvalidUsage

    from bot.patches.http_limits import check_framing

    check_framing(Header([("content-length", "42")]))
    check_framing(Header([("transfer-encoding", "chunked")]))
    check_framing(Header([("content-length", "5"), ("content-length", "5")]))
    for headers in ([("content-length", "-1")], [("content-length", "abc")], [("content-length", "+5")],
                    [("content-length", "5"), ("content-length", "6")],
                    [("transfer-encoding", "gzip")], [("transfer-encoding", "Chunked")],
                    [("transfer-encoding", "chunked"), ("content-length", "5")]):
        with pytest.raises(InvalidUsage):
            check_framing(Header(headers))
