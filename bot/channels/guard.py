"""What every public channel (REST, widget, WeChat) does with a person's message before and after
the assistant answers it, in one place.

Before: the text is cleaned (control, zero-width and bidi characters dropped, HTML tags removed,
white space collapsed) and bounded (`GUARD_MAX_MESSAGE_CHARS`, the person is told when the rest
was dropped); an empty message or one without a single letter, digit or Chinese character
(emoji only, punctuation only) gets a polite request for a question instead of reaching the
assistant; each conversation may send `GUARD_SENDER_PER_MINUTE` messages a minute, beyond that
it is asked to slow down. A message typed as ``/intent{...}`` cannot force an intent or set
slots: unless it is exactly the payload of a button the assistant offered in its last answer
(slot ``offered_payloads``), its leading slashes are dropped and it is read as ordinary text.

After: the assistant's answer is awaited at most `ACTION_REPLY_TIMEOUT` seconds; when it fails,
times out or says nothing (Rasa swallows a failed custom action and then answers nothing), the
person gets an apology and the 12333 hotline instead of silence or an error. Tag-like text in
answers is neutralised so that no client renders it as markup.

Also here, because every public channel needs them the same way: each channel's own namespace
of conversation ids (`conversation_id`), the address of the client behind trusted proxies
(`ClientAddresses`), the Origin policy shared by REST and the widget (`OriginPolicy`), and JSON
bodies read with a bound on their nesting (`load_json_object`).

The log filter that masks ID-card and mobile numbers (`bot.privacy`) is installed by the
server's entry point (bot/entry.py), not by importing this module.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Union

from rasa.core.channels.channel import UserMessage

from bot.locks import LOCK_TAKEN, AtomicLockStore
from bot.settings import Settings
from bot.shared_state import limiter
from bot.staff import hooks as staff_hooks

logger = logging.getLogger(__name__)

# The defaults are those of bot/settings.py (GUARD_*, ACTION_REPLY_TIMEOUT).
_DEFAULTS = Settings()
DEFAULT_MAX_MESSAGE_CHARS = _DEFAULTS.guard_max_message_chars
DEFAULT_ACTION_REPLY_TIMEOUT = _DEFAULTS.action_reply_timeout
# Deeper JSON than any client of these channels sends; json.loads fails far deeper (~1000).
MAX_JSON_DEPTH = 20

EMPTY = "请输入您想咨询的问题，例如“开化县是山区县吗”“创业担保贷款有什么优惠”。"
NO_TEXT = "抱歉，我只能理解文字提问。请用文字描述您的问题，例如“开化县是山区县吗”。"
TRUNCATED = "您的消息较长，只处理了前{limit}个字符。"
RATE_LIMITED = "您发送消息过于频繁，请稍等片刻再试。"
APOLOGY = "抱歉，系统暂时无法回答您的问题，请稍后再试，或拨打12333人力资源和社会保障服务热线咨询。"
STILL_ANSWERING = "您的上一个问题还在解答中，这条消息没有处理。请等上一个回答出来后再发送一次。"

OFFERED_SLOT = "offered_payloads"

# Control characters other than ordinary white space, zero-width characters, bidi controls,
# the BOM, soft hyphens, interlinear annotation and Unicode "tag" characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_DROPPED = {"Cc", "Cf", "Cs", "Cn"}
# An HTML or XML tag, comment or declaration: "<script ...>", "</b>", "<!-- -->", "<?xml ?>".
_TAG = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>|<!--.*?-->", re.S)
_SPACES = re.compile(r"\s+")
_LEADING_SLASHES = re.compile(r"^[\s/／\\]+")
# In answers: anything a browser or WeChat could take for the start of a tag.
_TAG_START = re.compile(r"<(?=\s*[/A-Za-z!?])")


def _settings() -> Settings:
    return Settings.from_env(check=False, lenient=True)


# ------------------------------------------------------------------------------------------
# Conversation ids


def conversation_id(channel: str, sender: str) -> str:
    """The tracker's id of a channel's conversation: ``widget:<session>``, ``wechat:<OpenID>``.

    A REST sender stays as the client gave it (the id in the answer checks, the staff API and
    the scripts that name a REST conversation), unless it contains a colon: then it becomes
    ``rest:<sender>``. So no REST sender can take the form of another channel's id, and no
    channel can reach another channel's conversations."""
    if channel == "rest":
        return sender if ":" not in sender else f"rest:{sender}"
    return f"{channel}:{sender}"


# ------------------------------------------------------------------------------------------
# Client addresses (per-address rate limits)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_networks(value: Any, setting: str) -> List[Network]:
    """``"10.0.0.5, 192.168.0.0/16 ::1"`` -> networks; a wrong entry is an error naming the setting."""
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,\s]+", str(value or ""))
    networks = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{setting}: {item!r} is not an IP address or network "
                             "(e.g. 10.0.0.5 or 10.0.0.0/24)") from None
    return networks


def _address(text: str) -> Optional[Address]:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    return getattr(ip, "ipv4_mapped", None) or ip


def _within(ip: Address, networks: Iterable[Network]) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


class ClientAddresses:
    """The address a request comes from: the connection's peer, or, when the peer is one of the
    ``TRUSTED_PROXIES`` (nginx), the last address in ``X-Forwarded-For`` that is not itself a
    trusted proxy. ``X-Forwarded-For`` from anyone else is ignored: a client cannot choose the
    address it is counted under."""

    def __init__(self, trusted: Any = None, exempt: Any = None) -> None:
        settings = _settings()
        self.trusted = parse_networks(settings.trusted_proxies if trusted is None else trusted,
                                      "TRUSTED_PROXIES")
        self.exempt = parse_networks(settings.guard_client_exempt if exempt is None else exempt,
                                     "GUARD_CLIENT_EXEMPT")

    def of(self, request: Any) -> str:
        peer_text = getattr(request, "ip", "") or ""
        peer = _address(peer_text)
        if peer is None:
            return peer_text or "unknown"
        if not _within(peer, self.trusted):
            return str(peer)
        hops = [hop for value in request.headers.getall("x-forwarded-for", [])
                for hop in value.split(",")]
        client = peer
        for hop in reversed(hops):
            ip = _address(hop)
            if ip is None:  # garbage: the last proxy that can be trusted is what we know
                break
            client = ip
            if not _within(ip, self.trusted):
                break
        return str(client)

    def is_exempt(self, address: str) -> bool:
        """The address is one of ``GUARD_CLIENT_EXEMPT`` (REST does not limit it per address)."""
        ip = _address(address)
        return ip is not None and _within(ip, self.exempt)


def client_per_minute() -> int:
    return _settings().guard_client_per_minute


# ------------------------------------------------------------------------------------------
# Origins


def parse_origins(value: Any) -> List[str]:
    """``"https://a.gov.cn, https://b.gov.cn"`` (or a YAML list) -> normalised origins."""
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, (list, tuple)) else re.split(r"[,\s]+", str(value))
    origins = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if origin:
            origins.append(origin if origin == "*" else origin.lower())
    return origins


class OriginPolicy:
    """Which web pages may call a channel from a browser: the configured public origins
    (``WIDGET_ALLOWED_ORIGINS``; ``*`` for any) and the assistant's own loopback address (the
    demo page under ``make run``), whose port is the connection's own, never the ``Host`` header
    (which the page's own server, or DNS rebinding, can choose). A request without ``Origin`` (a
    server, curl, the answer checks) is not a browser's cross-site request and is allowed."""

    LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

    def __init__(self, allowed: Any = None) -> None:
        self.allowed = parse_origins(allowed)

    def check(self, request: Any) -> Optional[bool]:
        """None: no Origin header; True: an allowed origin; False: any other."""
        origin = (request.headers.get("origin") or "").strip().rstrip("/").lower()
        if not origin:
            return None
        if "*" in self.allowed or origin in self.allowed:
            return True
        conn = getattr(request, "conn_info", None)
        port = getattr(conn, "server_port", 0)
        own = {f"http://{host}:{port}" for host in self.LOOPBACK_HOSTS}
        if port == 80:
            own |= {f"http://{host}" for host in self.LOOPBACK_HOSTS}
        return origin in own


# ------------------------------------------------------------------------------------------
# JSON bodies


class BadJSON(ValueError):
    """A body that is not the JSON object a channel expects; the message says what is wrong."""


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply arrays and objects nest in ``value`` (counted without recursion, and only up
    to just past ``limit``)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json_object(raw: Optional[bytes], max_depth: int = MAX_JSON_DEPTH) -> Dict[str, Any]:
    """The JSON object in a request body; raises `BadJSON` for anything else, nesting deeper than
    ``max_depth`` included (the whole body, a message or metadata)."""
    try:
        value = json.loads(raw or b"")
    except RecursionError:
        raise BadJSON(f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise BadJSON("body must be JSON") from None
    if json_depth(value, max_depth) > max_depth:
        raise BadJSON(f"JSON nested deeper than {max_depth} levels")
    if not isinstance(value, dict):
        raise BadJSON("body must be a JSON object")
    return value


def is_json_request(request: Any) -> bool:
    """The request says its body is JSON (``Content-Type: application/json``, any parameters)."""
    ctype = str(request.headers.get("content-type") or "")
    return ctype.split(";", 1)[0].strip().lower() == "application/json"


# ------------------------------------------------------------------------------------------
# Text


def clean_text(text: Any) -> str:
    """One line of plain text: invisible characters and tags dropped, white space collapsed."""
    if not isinstance(text, str):
        return ""
    text = _INVISIBLE.sub("", text)
    # Whatever else is a control, format, surrogate or unassigned code point (a lone surrogate
    # cannot even be stored).
    if not text.isprintable():
        text = "".join(c for c in text if c.isspace() or unicodedata.category(c) not in _DROPPED)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def has_words(text: str) -> bool:
    """The text has at least one letter, digit or Chinese character (not only emoji, symbols
    or punctuation)."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


def neutralise_markup(text: Any) -> Any:
    """``<`` that could open a tag becomes the full-width ``＜``: shown, never rendered."""
    if isinstance(text, str) and "<" in text:
        return _TAG_START.sub("＜", text)
    return text


# ------------------------------------------------------------------------------------------
# The guard (its rate limit: bot/shared_state.py)


@dataclass
class Checked:
    """What to do with one message: hand ``text`` to the assistant (``reply`` is None), or answer
    ``reply`` without it. ``notices`` go before the answer."""

    text: str = ""
    reply: Optional[str] = None
    notices: List[str] = field(default_factory=list)
    reason: str = "ok"  # ok | empty | no_text | rate_limited


class Guard:
    """The shared checks; one instance per channel (rate limits are per channel and sender)."""

    def __init__(self, channel: str, max_chars: Optional[int] = None,
                 per_minute: Optional[int] = None, timeout: Optional[float] = None) -> None:
        self.channel = channel
        settings = _settings()
        self.max_chars = max_chars if max_chars is not None else settings.guard_max_message_chars
        if self.max_chars <= 0:
            self.max_chars = DEFAULT_MAX_MESSAGE_CHARS
        self.timeout = timeout if timeout is not None else settings.action_reply_timeout
        if self.timeout <= 0:
            self.timeout = DEFAULT_ACTION_REPLY_TIMEOUT
        self.limiter = limiter(per_minute if per_minute is not None
                               else settings.guard_sender_per_minute)
        self._app: Any = None
        self._late: "set[asyncio.Future]" = set()

    # ---- where the conversations are -----------------------------------------------------

    def bind(self, app: Any) -> None:
        """Remembers the Sanic app whose agent holds the conversations (``app.ctx.agent``)."""
        if app is not None:
            self._app = app

    async def offered_payloads(self, sender: str, app: Any = None) -> List[str]:
        """The button payloads the assistant offered in its last answer to this conversation."""
        try:
            agent = getattr((app or self._app).ctx, "agent", None)
            store = getattr(agent, "tracker_store", None)
            if store is None:
                return []
            tracker = await store.retrieve(sender)
            value = tracker.get_slot(OFFERED_SLOT) if tracker is not None else None
        except Exception:
            logger.warning("could not read the offered buttons of a conversation", exc_info=True)
            return []
        return [str(v) for v in value] if isinstance(value, list) else []

    # ---- before ----------------------------------------------------------------------------

    def check_text(self, text: Any, sender: str, offered: Iterable[str] = (),
                   rate_limit: bool = True) -> Checked:
        """The synchronous part of `check`, given the offered payloads."""
        cleaned = clean_text(text)
        if cleaned.startswith(("/", "／", "\\")) and cleaned not in set(offered):
            cleaned = _LEADING_SLASHES.sub("", cleaned)
        if not cleaned:
            return Checked(reply=EMPTY, reason="empty")
        if not has_words(cleaned):
            return Checked(reply=NO_TEXT, reason="no_text")
        if rate_limit and not self.limiter.allow(sender):
            logger.info("%s: conversation %s is sending too fast", self.channel, sender)
            return Checked(reply=RATE_LIMITED, reason="rate_limited")
        notices = []
        if len(cleaned) > self.max_chars:
            cleaned = cleaned[: self.max_chars].rstrip()
            notices.append(TRUNCATED.format(limit=self.max_chars))
        return Checked(text=cleaned, notices=notices)

    async def check(self, text: Any, sender: str, app: Any = None,
                    rate_limit: bool = True) -> Checked:
        """Cleans, bounds and rate-limits one typed message (see the module's docstring)."""
        offered: List[str] = []
        if clean_text(text).startswith(("/", "／", "\\")):
            offered = await self.offered_payloads(sender, app)
        return self.check_text(text, sender, offered, rate_limit=rate_limit)

    # ---- during ----------------------------------------------------------------------------

    async def deliver(self, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      message: UserMessage) -> bool:
        """Hands the message to the assistant; False when it failed or took longer than the
        timeout.

        The timeout counts from when the message's turn holds the conversation lock (with the
        project's lock stores, bot/locks.py): time spent waiting behind earlier messages of the
        same conversation is not the assistant failing. A message still waiting after the
        timeout is withdrawn before it is read, and the person is told `STILL_ANSWERING` (in the
        output channel, so every channel says it): nothing of it is stored.

        A late answer is not cancelled: it finishes in the background, so that the conversation
        is stored whole (the person was told to try again; the next message waits for it).

        The staff console's hand-off (`bot.staff.hooks`) may answer the message itself ("留言")
        or add an offer to leave a message after the answer."""
        if await staff_hooks.before_assistant(message):
            return True
        taken = asyncio.Event() if self._locks_signal() else None
        context_token = LOCK_TAKEN.set(taken)
        try:
            task = asyncio.ensure_future(on_new_message(message))  # runs with `taken` in context
        finally:
            LOCK_TAKEN.reset(context_token)
        try:
            if taken is not None:
                waiter = asyncio.ensure_future(taken.wait())
                try:
                    await asyncio.wait({task, waiter}, timeout=self.timeout,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                if not taken.is_set() and not task.done():
                    task.cancel()  # still queued: nothing of this message has been read
                    logger.warning("%s: %s still waiting for an earlier message after %.0f s; "
                                   "told to send it again", self.channel, message.sender_id,
                                   self.timeout)
                    await message.output_channel.send_text_message(message.sender_id,
                                                                   STILL_ANSWERING)
                    return True
            await asyncio.wait_for(asyncio.shield(task), timeout=self.timeout)
            await staff_hooks.after_assistant(message)
            return True
        except asyncio.TimeoutError:
            logger.error("%s: no answer for %s within %.0f s", self.channel, message.sender_id,
                         self.timeout)
            self._late.add(task)
            task.add_done_callback(self._late_done)
        except asyncio.CancelledError:  # the client hung up; the turn still completes
            self._late.add(task)
            task.add_done_callback(self._late_done)
            raise
        except Exception:
            logger.exception("%s: a message from %s could not be answered", self.channel,
                             message.sender_id)
        return False

    def _locks_signal(self) -> bool:
        """The server's lock store says when a turn holds the conversation lock."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        return isinstance(getattr(agent, "lock_store", None), AtomicLockStore)

    def _late_done(self, task: "asyncio.Future") -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: a late answer failed: %r", self.channel, task.exception())

    # ---- after -----------------------------------------------------------------------------

    def finish(self, messages: List[Dict[str, Any]], sender: str,
               notices: Iterable[str] = (), conversation: Optional[str] = None
               ) -> List[Dict[str, Any]]:
        """The messages to return: notices first, the apology when the assistant said nothing,
        tag-like text neutralised. ``sender`` is the id as the client gave it: each message is
        addressed to it (not to the tracker's namespaced conversation id)."""
        out = [{"recipient_id": sender, "text": n} for n in notices]
        said = [m for m in messages if isinstance(m, dict) and (m.get("text") or m.get("image")
                                                                or m.get("attachment"))]
        if not said:
            logger.warning("%s: the assistant said nothing to %s; apologising", self.channel,
                           conversation or sender)
        for m in messages:
            if isinstance(m, dict) and "recipient_id" in m:
                m = dict(m, recipient_id=sender)
            out.append(sanitise_message(m))
        if not said:
            out.append({"recipient_id": sender, "text": APOLOGY})
        return out

    def reply(self, checked: Checked, sender: str) -> List[Dict[str, Any]]:
        """A direct reply (empty, emoji-only or rate-limited message) in the REST shape."""
        return [{"recipient_id": sender, "text": checked.reply}]


def sanitise_message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = dict(message)
    if "text" in out:
        out["text"] = neutralise_markup(out["text"])
    if isinstance(out.get("buttons"), list):
        out["buttons"] = [dict(b, title=neutralise_markup(b.get("title")))
                          if isinstance(b, dict) and "title" in b else b for b in out["buttons"]]
    return out
