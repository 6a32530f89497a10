"""Rasa's REST channel behind the shared guard: ``POST /webhooks/rest/webhook``.

Same URL and answer shape as Rasa's own ``rest`` channel (a JSON list of bot messages), with what
every public channel gets from `bot.channels.guard`: cleaned and bounded text, polite replies to
empty, emoji-only and too-frequent messages, typed ``/intent{...}`` read as text unless it is a
button just offered, the answer awaited at most ``ACTION_REPLY_TIMEOUT`` seconds and an apology
with the hotline instead of silence. A malformed request (not a JSON object, no sender,
JSON nested deeper than `http.MAX_JSON_DEPTH`) gets a 400 with a JSON error, never a 500. The
channel name is fixed to ``rest``: a client cannot claim to be another channel.

Not for other web pages: a body must be sent as ``Content-Type: application/json`` (415
otherwise: a browser cannot send that cross-site without asking first), and a request whose
``Origin`` is not one of the public origins (``WIDGET_ALLOWED_ORIGINS``, as the widget) is refused
with 403; a request without ``Origin`` (a server, curl, the answer checks) is served.

One sender is one conversation, in REST's own namespace of conversation ids
(`guard.conversation_id`): a REST sender never reaches a widget or WeChat conversation. Besides
each conversation's limit, each client address may send `GUARD_CLIENT_PER_MINUTE` messages a
minute (addresses behind ``TRUSTED_PROXIES`` are read from ``X-Forwarded-For``; those in
``GUARD_CLIENT_EXEMPT``, the machine itself by default, are not limited per address).

The message goes to Rasa through `Guard.answer` (bot/channels/guard.py), as in every channel;
this module reads the request and writes the reply.

Registered in ``bot/credentials.yml`` as ``bot.channels.rest.GuardedRestInput``.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import InputChannel, UserMessage

from bot.channels.guard import Guard, Reply, conversation_id
from bot.channels.http import (
    MAX_JSON_DEPTH, BadRequest, ClientAddresses, OriginPolicy, add_health, client_per_minute,
    dumps, is_json_request, json_depth, read_json_object, require_sender,
)
from bot.channels.wording import RATE_LIMITED
from bot.shared_state import limiter
from bot.settings import current_value

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_METADATA_BYTES = 4096


class GuardedRestInput(InputChannel):
    """``{"sender": "...", "message": "..."}`` in, the bot's messages out."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        credentials = credentials or {}
        origins = credentials.get("allowed_origins")
        if origins is None:  # the widget's public origins, from the same setting
            origins = current_value("widget_allowed_origins")
        return cls(allowed_origins=origins)

    def __init__(self, guard: Optional[Guard] = None, allowed_origins: Any = None,
                 clients: Optional[ClientAddresses] = None,
                 per_client_per_minute: Optional[int] = None) -> None:
        self.guard = guard or Guard(self.name())
        self.origins = OriginPolicy(allowed_origins)
        self.clients = clients or ClientAddresses()
        self.client_limiter = limiter(
            client_per_minute() if per_client_per_minute is None else per_client_per_minute,
            namespace="rest-client")

    @staticmethod
    def _metadata(value: Any) -> Optional[Dict[str, Any]]:
        if not isinstance(value, dict) or json_depth(value) > MAX_JSON_DEPTH:
            return None
        try:
            if len(dumps(value)) > MAX_METADATA_BYTES:
                return None
        except (TypeError, ValueError, RecursionError):
            return None
        return value

    def _client_allowed(self, request: Request) -> bool:
        client = self.clients.of(request)
        if self.clients.is_exempt(client) or self.client_limiter.allow(client):
            return True
        logger.info("rest: client %s is sending too fast", client)
        return False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("custom_webhook_GuardedRestInput", __name__)
        add_health(bp)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                if self.origins.check(request) is False:
                    raise BadRequest(403, "origin not allowed")
                if not is_json_request(request):
                    raise BadRequest(415, "Content-Type must be application/json")
                body = read_json_object(request, MAX_BODY_BYTES)
                sender = require_sender(body.get("sender"))
                text = body.get("message")
                if text is not None and not isinstance(text, str):
                    raise BadRequest(400, "message must be a string")
            except BadRequest as e:
                return response.json({"error": e.message}, status=e.status)

            if not self._client_allowed(request):
                reply = Reply.refused(sender, RATE_LIMITED, "rate_limited")
            else:
                reply = await self.guard.answer(
                    on_new_message, text, conversation_id(self.name(), sender), sender,
                    app=request.app, metadata=self._metadata(body.get("metadata")))
            messages = reply.messages
            if _stream_requested(request):
                lines = "".join(dumps(m) + "\n" for m in messages)
                return response.text(lines, content_type="text/event-stream")
            return response.json(messages, dumps=dumps)

        return bp


def _stream_requested(request: Request) -> bool:
    return str(request.args.get("stream", "")).lower() in ("true", "1", "yes")
