"""Only plain WeChat XML is parsed; DTDs, entities and external references never are."""
from __future__ import annotations

import pytest

from bot.channels.wechat_xml import BadPayload, dedup_key, parse_xml, to_message

TEXT = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oU1]]></FromUserName>"
        "<CreateTime>1622505600</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[开化县是山区县吗]]></Content><MsgId>1234567890123456</MsgId></xml>")

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><Content>&lol3;</Content></xml>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_1</ToUserName><Content>&xxe;</Content></xml>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">
<xml><Content>x</Content></xml>"""


def test_text_message_fields():
    fields = parse_xml(TEXT.encode())
    msg = to_message(fields)
    assert (msg.type, msg.source, msg.target, msg.content) == ("text", "oU1", "gh_1", "开化县是山区县吗")
    assert dedup_key(fields) == "msg:1234567890123456"


def test_event_key_is_sender_and_time():
    fields = parse_xml("<xml><ToUserName>gh_1</ToUserName><FromUserName>oU1</FromUserName>"
                       "<CreateTime>1622505600</CreateTime><MsgType>event</MsgType>"
                       "<Event>subscribe</Event></xml>")
    assert to_message(fields).event == "subscribe"
    assert dedup_key(fields) == "evt:oU1:1622505600:subscribe"


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_dtds_and_entities_are_refused(payload):
    with pytest.raises(BadPayload):
        parse_xml(payload.encode())


@pytest.mark.parametrize("payload", [
    b"", b"not xml", b"<xml><Content>unclosed</xml>", b"<html><body/></html>",
    "<xml><Content>é</Content></xml>".encode("latin-1"), b"\xff\xfe\x00<",
])
def test_malformed_bodies_are_refused(payload):
    with pytest.raises(BadPayload):
        parse_xml(payload)


@pytest.mark.parametrize("xml", [
    "<xml><FromUserName>oU1</FromUserName><MsgType>text</MsgType></xml>",  # missing fields
    TEXT.replace("<MsgId>1234567890123456</MsgId>", "<MsgId>12x</MsgId>"),
    TEXT.replace("<CreateTime>1622505600</CreateTime>", "<CreateTime>yesterday</CreateTime>"),
    TEXT.replace("<![CDATA[oU1]]>", "<a>oU1</a>"),
])
def test_incomplete_or_mistyped_messages_are_refused(xml):
    with pytest.raises(BadPayload):
        to_message(parse_xml(xml))


def test_oversized_body_is_refused_before_parsing():
    with pytest.raises(BadPayload):
        parse_xml(b"<xml><Content>" + b"a" * 70_000 + b"</Content></xml>")
