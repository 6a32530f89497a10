"""Safe parsing of the XML the WeChat platform posts to the webhook.

Everything that arrives is parsed with defusedxml first: DTDs, entity declarations and external
references are refused outright, so entity expansion ("billion laughs") and XXE never reach a
parser. Only the flat ``<xml><Field>value</Field>…</xml>`` shape WeChat uses is accepted; the
resulting dict is handed to wechatpy's message classes, never the raw bytes.
"""
from __future__ import annotations

from typing import Dict, Optional, Union
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage

# WeChat's own messages are well under 4 KiB; anything near this is not from WeChat.
MAX_BODY_BYTES = 64 * 1024
# Fields every message and event carries.
REQUIRED_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


class BadPayload(ValueError):
    """The body is not a well-formed, safe WeChat XML message."""


def parse_xml(data: Union[bytes, str]) -> Dict[str, str]:
    """The top-level fields of a WeChat XML document, as text.

    Nested elements (e.g. ``ScanCodeInfo`` of menu events) are kept as their own flat dicts
    under their tag, which is all the channel needs of them.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_BODY_BYTES:
        raise BadPayload("body too large")
    if not data.strip():
        raise BadPayload("empty body")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise BadPayload(f"forbidden XML construct: {type(e).__name__}") from e
    except (ParseError, ValueError, UnicodeError, TypeError) as e:
        raise BadPayload("malformed XML") from e
    if root.tag != "xml":
        raise BadPayload(f"unexpected root element <{root.tag}>")
    fields: Dict[str, str] = {}
    for child in root:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        if len(child):
            fields[child.tag] = {c.tag: (c.text or "") for c in child if isinstance(c.tag, str)}
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


def to_message(fields: Dict[str, str]) -> BaseMessage:
    """A wechatpy message or event object for parsed fields (as ``wechatpy.parse_message``)."""
    missing = [f for f in REQUIRED_FIELDS if not fields.get(f)]
    if missing:
        raise BadPayload(f"missing fields: {', '.join(missing)}")
    for name in ("CreateTime", "MsgId"):
        value = fields.get(name)
        numeric = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 24
        if value is not None and not numeric:
            raise BadPayload(f"{name} is not a number")
    if not all(isinstance(fields[f], str) for f in REQUIRED_FIELDS):
        raise BadPayload("unexpected nested field")
    message = dict(fields)
    msg_type = message["MsgType"].lower()
    if msg_type == "event":
        event = (message.get("Event") or "").lower()
        key = message.get("EventKey") or ""
        if event == "subscribe" and isinstance(key, str) and key.startswith("qrscene_"):
            event = "subscribe_scan"
            message["Event"] = event
            message["EventKey"] = key[len("qrscene_"):]
        cls = EVENT_TYPES.get(event, UnknownMessage)
    else:
        cls = MESSAGE_TYPES.get(msg_type, UnknownMessage)
    return cls(message)


def dedup_key(fields: Dict[str, str]) -> Optional[str]:
    """What identifies one delivery across WeChat's retries: MsgId, or sender + time for events."""
    msg_id = fields.get("MsgId")
    if msg_id:
        return f"msg:{msg_id}"
    sender, created = fields.get("FromUserName"), fields.get("CreateTime")
    if sender and created:
        return f"evt:{sender}:{created}:{fields.get('Event', '')}"
    return None
