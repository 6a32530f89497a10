"""Web chat widget channel: the chat endpoint, conversation history, answer ratings and the
widget's static files, all under ``/webhooks/widget/``.

Registered in ``bot/credentials.yml``::

    bot.channels.widget.WidgetInput:
      allowed_origins: "${WIDGET_ALLOWED_ORIGINS}"

Routes (relative to ``/webhooks/widget``):

- ``GET  /``            health check
- ``GET  /widget.js``, ``/widget.css``   the embeddable widget
- ``GET  /demo``        a sample government page with the widget embedded
- ``POST /session``     ``{}`` -> ``{"session": ID}``: a new conversation id, issued and signed by
                        the server (`WidgetSessions`); every other route wants one as ``sender``
- ``POST /webhook``     ``{"sender", "message"}`` -> list of bot messages, as the REST channel
                        returns them, each also carrying the ``timestamp`` of the bot event it
                        belongs to (the id a rating refers to)
- ``GET  /history?sender=ID``   the conversation so far, rebuilt from the tracker store (none
                        yet for a new session: an empty list)
- ``POST /rating``      ``{"sender", "timestamp" | "message_index", "helpful", "reason"?,
                        "comment"?}``; stored in the conversation as a ``SlotSet("feedback", ...)``
                        event (``reason``, for 👎 only, one of `RATING_REASONS`)

A browser can only reach its own conversation: the session id is random, signed with a secret
only the server knows (``WIDGET_SESSION_SECRET``, else a key generated once under ``var/``), and
stored in the tracker as ``widget:<id>`` (`guard.conversation_id`), a namespace no other channel
can write to. A made-up id, or another channel's, gets 403 and nothing else. Requests are limited
per session and per client address (`http.ClientAddresses`); the Origin policy is the one REST
shares (`http.OriginPolicy`). Rating comments are stored as plain text and every JSON answer
escapes ``<``, ``>`` and ``&``.

A message goes to Rasa through `Guard.answer` (bot/channels/guard.py), as in every channel; the
per-session and per-address limits stay this channel's own (answered with 429, as widget.js
expects).
"""
from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered

from bot.channels import wording
from bot.channels.guard import Guard, clean_text, conversation_id, neutralise_markup
from bot.channels.http import (
    BadRequest, ClientAddresses, OriginPolicy, add_health, html_safe_dumps, parse_origins,
    read_json_object,
)
from bot.channels.http import client_per_minute as default_client_per_minute
from bot.settings import Settings
from bot.shared_state import limiter

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "widget_static"
FEEDBACK_SLOT = "feedback"
_SANIC_CORS_EVALUATED = "_sanic_cors_e"  # sanic_cors.core.SANIC_CORS_EVALUATED

# A session id the server issued: 16 random bytes and 16 bytes of their HMAC, base64url, "." between.
SESSION_RE = re.compile(r"^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$")
MIN_SECRET_CHARS = 16

# What a 👎 can say was wrong (stored with the rating as ``reason``; the staff console shows it).
RATING_REASONS = ("回答错误", "没回答我的问题", "太长看不懂", "其他")

DEFAULT_MAX_MESSAGE_CHARS = 500
DEFAULT_MAX_COMMENT_CHARS = 500
DEFAULT_SENDER_PER_MINUTE = 20
DEFAULT_RESPONSE_TIMEOUT = 90.0
MAX_BODY_BYTES = 16 * 1024

_CONTENT_TYPES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.html": "text/html; charset=utf-8",
}

# A quoted clause inside an answer: "【原文】三、主要举措（七）" then "“<clause text>”".
_QUOTE_RE = re.compile(r"【原文】(?P<location>[^\n]+)\n“(?P<text>.*?)”(?=\n|$)", re.S)


# --------------------------------------------------------------------------------------------
# Configuration helpers


def _int_setting(credentials: Dict[str, Any], key: str, default: int) -> int:
    value = credentials.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"widget channel: '{key}' must be an integer, got {value!r}")


# --------------------------------------------------------------------------------------------
# Sessions


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def session_key_file(env: Optional[Dict[str, str]] = None) -> Path:
    var = Settings.from_env(os.environ if env is None else env, check=False, lenient=True).var_dir
    return Path(__file__).resolve().parents[2] / var / "widget-session.key"


def load_session_secret(env: Optional[Dict[str, str]] = None) -> bytes:
    """``WIDGET_SESSION_SECRET``, else the key in ``var/widget-session.key``, created once (by
    whichever worker or server comes first) with 32 random bytes and readable by its owner only."""
    env = os.environ if env is None else env
    configured = Settings.from_env(env, check=False, lenient=True).widget_session_secret.strip()
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"WIDGET_SESSION_SECRET must have at least {MIN_SECRET_CHARS} "
                             "characters (e.g. openssl rand -hex 32)")
        return configured.encode("utf-8")
    path = session_key_file(env)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic: the first key written stays, whoever wrote it
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"{path}: the widget's session key is shorter than {MIN_SECRET_CHARS} "
                         "characters; delete the file to have a new one made")
    return secret.encode("utf-8")


class WidgetSessions:
    """Conversation ids the server issues to browsers and recognises again: ``<id>.<signature>``,
    16 random bytes and the first 16 bytes of their HMAC-SHA256 under the server's secret. Only
    ``<id>`` is the conversation's name in the tracker and the logs; the whole token, which
    proves the browser got it from this server, stays with the browser."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the widget's session secret must have at least {MIN_SECRET_CHARS} bytes")
        self._secret = secret

    def _sign(self, sid: str) -> str:
        mac = hmac.new(self._secret, b"widget-session\x00" + sid.encode("ascii"), hashlib.sha256)
        return _b64(mac.digest()[:16])

    def issue(self) -> str:
        sid = _b64(secrets.token_bytes(16))
        return f"{sid}.{self._sign(sid)}"

    def verify(self, token: Any) -> Optional[str]:
        """The session's id when ``token`` is one this server issued, else None."""
        if not isinstance(token, str):
            return None
        m = SESSION_RE.match(token)
        if not m or not hmac.compare_digest(m.group(2), self._sign(m.group(1))):
            return None
        return m.group(1)


# --------------------------------------------------------------------------------------------
# Message shaping (shared by the chat endpoint and the history endpoint)


def quoted_locations(text: Optional[str]) -> List[Dict[str, str]]:
    """The clauses an answer quotes, with their place in the document, in order."""
    if not text:
        return []
    return [{"location": m.group("location").strip(), "text": m.group("text")}
            for m in _QUOTE_RE.finditer(text)]


def with_locations(custom: Any, text: Optional[str]) -> Any:
    """A copy of the payload whose citations also say where the clause stands ("location"),
    taken from the answer's 【原文】 lines, else from where the answer names the clause."""
    if not isinstance(custom, dict) or not isinstance(custom.get("citations"), list):
        return custom
    custom = copy.deepcopy(custom)
    quotes = quoted_locations(text)
    for cite in custom["citations"]:
        if not isinstance(cite, dict) or cite.get("location"):
            continue
        ctext = str(cite.get("text") or "")
        loc = next((q["location"] for q in quotes if ctext and q["text"] == ctext), None)
        if loc is None and text and cite.get("title"):
            title = re.escape(str(cite["title"]))
            # "「加强创业扶持」（三、主要举措（七））" or a numbered list "1. 三、主要举措（七）「加强创业扶持」"
            m = (re.search("「" + title + r"」（([^（）\n]*(?:（[^（）\n]*）)?)）", text)
                 or re.search(r"(?m)^\s*\d+\.\s*(\S+?)「" + title + "」", text))
            if m:
                loc = m.group(1)
        if loc:
            cite["location"] = loc
    return custom


class WidgetOutputChannel(CollectingOutputChannel):
    """Collects the bot's messages like the REST channel does, tagging each with the timestamp
    of the bot event it comes from, so that the browser can rate that answer later."""

    @classmethod
    def name(cls) -> Text:
        return "widget"

    def __init__(self) -> None:
        super().__init__()
        self._event_timestamp: Optional[float] = None
        self._event_text: Optional[str] = None

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self._event_timestamp = message.get("timestamp")
        self._event_text = message.get("text")
        if message.get("custom") is not None:
            message = dict(message)
            message["custom"] = with_locations(message["custom"], message.get("text"))
        try:
            await super().send_response(recipient_id, message)
        finally:
            self._event_timestamp = None
            self._event_text = None

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        if self._event_timestamp is not None:
            message["timestamp"] = self._event_timestamp
        self.messages.append(message)


def _clean(message: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in message.items() if v not in (None, [], {})}


def history_messages(events: Iterable[Any]) -> List[Dict[str, Any]]:
    """User and bot messages of a conversation, oldest first, with their ratings.

    A user message that repeats the payload of a button the bot had just offered is shown with
    that button's title, as the person saw it when they clicked."""
    ratings: Dict[float, Dict[str, Any]] = {}
    for event in events:
        if isinstance(event, SlotSet) and event.key == FEEDBACK_SLOT and isinstance(event.value, dict):
            ts = event.value.get("bot_timestamp")
            if isinstance(ts, (int, float)):
                ratings[float(ts)] = event.value

    out: List[Dict[str, Any]] = []
    offered: Dict[str, str] = {}
    bot_index = 0
    for event in events:
        if isinstance(event, UserUttered):
            if event.text is None:
                continue
            text = event.text
            item = {"role": "user", "text": offered.get(text, text), "timestamp": event.timestamp}
            if text in offered:
                item["payload"] = text
            out.append(item)
            offered = {}
        elif isinstance(event, BotUttered):
            data = event.data or {}
            buttons = data.get("buttons") or []
            offered = {str(b.get("payload")): str(b.get("title")) for b in buttons
                       if isinstance(b, dict) and b.get("payload") is not None}
            item = _clean({
                "role": "bot",
                "text": event.text,
                "buttons": buttons,
                "custom": with_locations(data.get("custom"), event.text),
                "timestamp": event.timestamp,
            })
            item["message_index"] = bot_index
            bot_index += 1
            rating = _find_rating(ratings, event.timestamp)
            if rating is not None:
                item["rating"] = {"helpful": rating.get("helpful")}
                if rating.get("reason"):
                    item["rating"]["reason"] = str(rating["reason"])
                if rating.get("comment"):
                    item["rating"]["comment"] = neutralise_markup(str(rating["comment"]))
            out.append(item)
    return out


def _find_rating(ratings: Dict[float, Dict[str, Any]], ts: float) -> Optional[Dict[str, Any]]:
    for key, value in ratings.items():
        if math.isclose(key, ts, rel_tol=0, abs_tol=1e-6):
            return value
    return None


def started_here(events: Iterable[Any], channel: str) -> bool:
    return any(isinstance(e, UserUttered) and e.input_channel == channel for e in events)


# --------------------------------------------------------------------------------------------
# The channel


class WidgetInput(InputChannel):
    """Chat channel for the embeddable web widget (see docs/widget.md)."""

    @classmethod
    def name(cls) -> Text:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WidgetInput":
        credentials = credentials or {}
        return cls(
            allowed_origins=parse_origins(credentials.get("allowed_origins")),
            max_message_chars=_int_setting(credentials, "max_message_chars", DEFAULT_MAX_MESSAGE_CHARS),
            sender_per_minute=_int_setting(credentials, "sender_per_minute", DEFAULT_SENDER_PER_MINUTE),
            client_per_minute=_int_setting(credentials, "client_per_minute",
                                           default_client_per_minute()),
            response_timeout=float(_int_setting(credentials, "response_timeout",
                                                int(DEFAULT_RESPONSE_TIMEOUT))),
        )

    def __init__(self, allowed_origins: Optional[List[str]] = None,
                 max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
                 sender_per_minute: int = DEFAULT_SENDER_PER_MINUTE,
                 client_per_minute: Optional[int] = None,
                 response_timeout: float = DEFAULT_RESPONSE_TIMEOUT,
                 max_comment_chars: int = DEFAULT_MAX_COMMENT_CHARS,
                 sessions: Optional[WidgetSessions] = None,
                 clients: Optional[ClientAddresses] = None) -> None:
        if client_per_minute is None:
            client_per_minute = default_client_per_minute()
        self.allowed_origins = parse_origins(allowed_origins or [])
        self.origins = OriginPolicy(self.allowed_origins)
        self.max_message_chars = max_message_chars
        self.max_comment_chars = max_comment_chars
        self.response_timeout = response_timeout
        self.sessions = sessions or WidgetSessions(load_session_secret())
        self.clients = clients or ClientAddresses()
        self.sender_limiter = limiter(sender_per_minute, namespace="widget-sender")
        self.client_limiter = limiter(client_per_minute, namespace="widget-client")
        self.history_sender_limiter = limiter(sender_per_minute, namespace="widget-history-sender")
        self.history_client_limiter = limiter(client_per_minute, namespace="widget-history-client")
        self.session_limiter = limiter(client_per_minute, namespace="widget-session-client")
        # Cleaning, typed payloads, timeout and apology; the rate limits above stay this
        # channel's own, answered with 429 as widget.js expects.
        self.guard = Guard(self.name(), limit_senders=False)

    # ---- CORS -------------------------------------------------------------------------------

    def _origin_allowed(self, request: Request) -> Optional[bool]:
        """None: no Origin header; True: an allowed origin; False: any other (see OriginPolicy)."""
        return self.origins.check(request)

    def _cors(self, request: Request, resp: HTTPResponse) -> HTTPResponse:
        # Rasa's app-wide Sanic-CORS (``rasa run --cors``) must not add a second set of headers.
        setattr(request.ctx, _SANIC_CORS_EVALUATED, "1")
        if self._origin_allowed(request):
            resp.headers["Access-Control-Allow-Origin"] = request.headers.get("origin")
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
            resp.headers["Access-Control-Max-Age"] = "600"
        resp.headers["Vary"] = "Origin"
        return resp

    def _json(self, request: Request, body: Any, status: int = 200) -> HTTPResponse:
        resp = response.json(body, status=status, dumps=html_safe_dumps,
                             headers={"Cache-Control": "no-store"})
        return self._cors(request, resp)

    def _error(self, request: Request, status: int, message: str) -> HTTPResponse:
        return self._json(request, {"error": message}, status=status)

    def _forbidden_origin(self, request: Request) -> Optional[HTTPResponse]:
        if self._origin_allowed(request) is False:
            return self._error(request, 403, "origin not allowed")
        return None

    def _session(self, value: Any) -> str:
        """The conversation id of a session this server issued; 400 without one, 403 for any
        other id (made up, or another channel's)."""
        if value is None or value == "":
            raise BadRequest(400, "sender is required: the session id from POST /session")
        sid = self.sessions.verify(value)
        if sid is None:
            raise BadRequest(403, "unknown session: ask POST /session for a new one")
        return conversation_id(self.name(), sid)

    def _too_many(self, request: Request, *checks: Any) -> Optional[HTTPResponse]:
        """429 unless every ``(limiter, key)`` allows one more request."""
        for rate_limiter, key in checks:
            if not rate_limiter.allow(key):
                logger.info("widget: %s is sending too fast", key)
                resp = self._error(request, 429, "too many requests, please slow down")
                resp.headers["Retry-After"] = "30"
                return resp
        return None

    # ---- routes -----------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("widget_webhook", __name__)
        add_health(bp)

        @bp.route("/widget.js", methods=["GET", "HEAD"])
        async def widget_js(request: Request) -> HTTPResponse:
            return self._static(request, "widget.js")

        @bp.route("/widget.css", methods=["GET", "HEAD"])
        async def widget_css(request: Request) -> HTTPResponse:
            return self._static(request, "widget.css")

        @bp.route("/demo", methods=["GET", "HEAD"])
        async def demo(request: Request) -> HTTPResponse:
            return self._static(request, "demo.html")

        @bp.route("/session", methods=["OPTIONS"])
        @bp.route("/webhook", methods=["OPTIONS"])
        @bp.route("/history", methods=["OPTIONS"])
        @bp.route("/rating", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            status = 403 if self._origin_allowed(request) is False else 204
            return self._cors(request, response.empty(status=status))

        @bp.middleware("response")
        async def preflight_answered_by_app(request: Request, resp: HTTPResponse) -> None:
            # Rasa's Sanic-CORS answers every OPTIONS request itself, before the routes above,
            # with the app-wide origins; replace that with this channel's allowed origins.
            if request.method == "OPTIONS":
                resp.status = 403 if self._origin_allowed(request) is False else 204
                for name in [h for h in resp.headers if h.lower().startswith("access-control-")]:
                    del resp.headers[name]
                self._cors(request, resp)

        @bp.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            denied = self._forbidden_origin(request)
            if denied:
                return denied
            limited = self._too_many(request, (self.session_limiter, self.clients.of(request)))
            if limited:
                return limited
            return self._json(request, {"session": self.sessions.issue()})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            denied = self._forbidden_origin(request)
            if denied:
                return denied
            try:
                body = read_json_object(request, MAX_BODY_BYTES)
                sender = body.get("sender")
                conversation = self._session(sender)
                text = body.get("message")
                if not isinstance(text, str) or not text.strip():
                    raise BadRequest(400, "message must be a non-empty string")
                if len(text) > self.max_message_chars:
                    raise BadRequest(413, f"message longer than {self.max_message_chars} characters")
            except BadRequest as e:
                return self._error(request, e.status, e.message)

            limited = self._too_many(request, (self.client_limiter, "ip:" + self.clients.of(request)),
                                     (self.sender_limiter, conversation))
            if limited:
                return limited

            metadata = {"widget": {"page": _short(request.headers.get("referer"), 300)}}
            try:
                reply = await asyncio.wait_for(self.guard.answer(
                    on_new_message, text, conversation, sender, app=request.app,
                    output=WidgetOutputChannel(), metadata=metadata),
                    timeout=self.response_timeout)
            except asyncio.TimeoutError:  # response_timeout below the path's own wait
                logger.error("widget: no answer for %s within %.0f s", conversation,
                             self.response_timeout)
                return self._error(request, 504, "the assistant did not answer in time")
            return self._json(request, reply.messages)

        @bp.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            denied = self._forbidden_origin(request)
            if denied:
                return denied
            try:
                sender = request.args.get("sender")
                conversation = self._session(sender)
            except BadRequest as e:
                return self._error(request, e.status, e.message)
            limited = self._too_many(
                request, (self.history_client_limiter, "ip:" + self.clients.of(request)),
                (self.history_sender_limiter, conversation))
            if limited:
                return limited
            store = request.app.ctx.agent.tracker_store
            tracker = await store.retrieve_full_tracker(conversation)
            if tracker is None or not started_here(tracker.events, self.name()):
                # A session this server issued whose first question has not been answered yet:
                # nothing to show, which is no error (the browser's console stays clean).
                return self._json(request, {"sender": sender, "messages": []})
            return self._json(request, {"sender": sender,
                                        "messages": history_messages(tracker.events)})

        @bp.route("/rating", methods=["POST"])
        async def rating(request: Request) -> HTTPResponse:
            denied = self._forbidden_origin(request)
            if denied:
                return denied
            try:
                body = read_json_object(request, MAX_BODY_BYTES)
                conversation = self._session(body.get("sender"))
                helpful = body.get("helpful")
                if not isinstance(helpful, bool):
                    raise BadRequest(400, "helpful must be true or false")
                reason = body.get("reason")
                if reason is not None and reason not in RATING_REASONS:
                    raise BadRequest(400, "reason must be one of " + " / ".join(RATING_REASONS))
                if reason is not None and helpful:
                    raise BadRequest(400, "a reason goes with an answer rated not helpful")
                comment = body.get("comment")
                if comment is not None and not isinstance(comment, str):
                    raise BadRequest(400, "comment must be a string")
                comment = (comment or "").strip()
                if len(comment) > self.max_comment_chars:
                    raise BadRequest(400, f"comment longer than {self.max_comment_chars} characters")
                # Kept as plain text: invisible characters and tags dropped, as from a message.
                comment = clean_text(comment)
                ts, index = body.get("timestamp"), body.get("message_index")
                if ts is None and index is None:
                    raise BadRequest(400, "timestamp or message_index is required")
                if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
                    raise BadRequest(400, "timestamp must be a number")
                if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                          or index < 0):
                    raise BadRequest(400, "message_index must be a non-negative integer")
            except BadRequest as e:
                return self._error(request, e.status, e.message)

            limited = self._too_many(request, (self.client_limiter, "ip:" + self.clients.of(request)))
            if limited:
                return limited

            agent = request.app.ctx.agent
            async with agent.lock_store.lock(conversation):
                full = await agent.tracker_store.retrieve_full_tracker(conversation)
                if full is None or not started_here(full.events, self.name()):
                    return self._error(request, 404, "no such conversation")
                bots = [e for e in full.events if isinstance(e, BotUttered)]
                if ts is not None:
                    match = [(i, e) for i, e in enumerate(bots)
                             if math.isclose(e.timestamp, float(ts), rel_tol=0, abs_tol=1e-6)]
                else:
                    match = [(index, bots[index])] if index < len(bots) else []
                if not match:
                    return self._error(request, 404, "no such message in this conversation")
                i, bot = match[0]
                feedback = {
                    "helpful": helpful,
                    "reason": reason,
                    "comment": comment or None,
                    "message_index": i,
                    "bot_timestamp": bot.timestamp,
                    "bot_text": _short(bot.text, 200),
                    "channel": self.name(),
                    "rated_at": time.time(),
                }
                tracker = await agent.tracker_store.retrieve(conversation)
                tracker.update(SlotSet(FEEDBACK_SLOT, feedback))
                await agent.tracker_store.save(tracker)
            logger.info("widget: rating for %s message %d: %s", conversation, i,
                        "helpful" if helpful else "not helpful")
            shown = dict(feedback, comment=neutralise_markup(feedback["comment"]))
            return self._json(request, {"status": "ok", "feedback": shown})

        return bp

    def _static(self, request: Request, name: str) -> HTTPResponse:
        resp = response.raw(static_file(name), content_type=_CONTENT_TYPES[name],
                            headers={"Cache-Control": "public, max-age=300",
                                     "X-Content-Type-Options": "nosniff"})
        if name != "demo.html":
            # Scripts and styles are embedded by other sites' pages.
            resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp


def static_file(name: str) -> bytes:
    """A file of widget_static/ as served: the document's number and titles and the hotline
    written in, from the knowledge base and the settings (``{{document_number}}`` …)."""
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    if "{{" in text:
        for key, value in wording.static_fields().items():
            text = text.replace("{{%s}}" % key, value)
    return text.encode("utf-8")


def _short(text: Optional[str], limit: int) -> Optional[str]:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"

