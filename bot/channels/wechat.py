"""WeChat Official Account channel: ``/webhooks/wechat/webhook``.

The WeChat platform verifies the server with a signed GET (echoing ``echostr``) and then POSTs
every user message as signed XML, in plaintext or, in safe mode, AES-encrypted. It waits five
seconds for a reply and retries twice more if none arrives. This channel:

1. refuses anything unsigned, stale, oversized or not plain WeChat XML before it is processed,
   and a signed URL (timestamp, nonce, signature) used again with another body: each one is
   remembered, with a hash of its body, for as long as its timestamp is accepted (shared by the
   workers), so a captured request cannot carry a forged message in plaintext mode;
2. processes each delivery once (keyed on MsgId, or sender + time for events) and lets retries
   share the result, also a retry that reaches another worker: the answer is kept where every
   worker reads it (bot/shared_state.py), and exactly one request delivers it, passively or
   through the API (a shared claim);
3. replies passively with the answer when it is ready within ``WECHAT_PASSIVE_TIMEOUT`` seconds,
   otherwise replies ``success`` (which stops the retries) and sends the answer later through the
   customer-service message API. The seconds are counted from when the platform sent the
   request (its signed timestamp, or the first byte received), not from when the handler began:
   under load a request can wait in the server's queue. A passive reply whose connection the
   platform has already closed is sent through the API instead;
4. keeps the first message for the answer: the clause it quotes follows in a second message
   through the customer-service API, or, without that API (or with
   ``WECHAT_QUOTATION=on_request``), the answer ends with "回复“原文”查看条文";
5. renders buttons as numbered options and maps a numbered reply back to the button's payload
   (the options of the assistant's last answer, read from the stored conversation by
   `Guard.offered`, for ``OPTIONS_TTL`` seconds).

Every message goes to Rasa through `Guard.answer` (bot/channels/guard.py), as in every channel.
A user's conversation is ``wechat:<OpenID>`` in the tracker (`guard.conversation_id`), out of
reach of the other channels.

Configuration is in bot/credentials.yml (token, appid, secret, aes_key) and the environment
(``WECHAT_API_BASE``, ``WECHAT_PASSIVE_TIMEOUT``); see docs/wechat.md.
"""
from __future__ import annotations

import asyncio
import binascii
import hashlib
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from rasa.core.channels.channel import InputChannel, UserMessage

from bot.channels.guard import Guard, Reply, conversation_id
from bot.channels.http import add_health
from bot.channels.wechat_api import DEFAULT_API_BASE, CustomerServiceClient
from bot.channels.wechat_render import (
    TEXT_LIMIT_BYTES, choose, parse_choice, render_turn, split_text,
)
from bot.channels.wechat_xml import MAX_BODY_BYTES, BadPayload, dedup_key, parse_xml, to_message
from bot.channels.wording import (
    EMPTY_TEXT, NO_ANSWER, TEXT_ONLY, UNAVAILABLE, VOICE_UNRECOGNISED, welcome,
)
from bot.settings import Settings
from bot.shared_state import LocalTTL, expiring

logger = logging.getLogger(__name__)

DEFAULT_PASSIVE_TIMEOUT = Settings().wechat_passive_timeout  # bot/settings.py
# WeChat's own tolerance is not documented; five minutes either way covers clock drift and
# retries while keeping a captured request from being replayed later.
MAX_CLOCK_SKEW = 300
# A timestamp up to MAX_CLOCK_SKEW ahead stays acceptable until MAX_CLOCK_SKEW after it: remember
# each signed URL that long.
NONCE_TTL = 2 * MAX_CLOCK_SKEW + 60
MAX_NONCES = 100_000
# Retries come within ~15 s; keep deliveries well past that.
DELIVERY_TTL = 600.0
MAX_DELIVERIES = 10_000
# Numbered options stay answerable for half an hour.
OPTIONS_TTL = 1800.0
# Pause before the rest of a split answer, so the passive first part arrives first.
FOLLOWUP_DELAY = 0.5


def _quotation_mode(value: Optional[str]) -> str:
    raw = (value if value is not None
           else Settings.from_env(check=False, lenient=True).wechat_quotation).strip().lower()
    if raw in ("", "follow"):
        return "follow"
    if raw == "on_request":
        return "on_request"
    raise ValueError(f"WECHAT_QUOTATION must be 'follow' or 'on_request', got {raw!r}")


@dataclass
class Delivery:
    """One WeChat delivery and what became of its answer, shared by the request and its retries."""

    task: "asyncio.Task[List[str]]"
    # "pending" until a request either replies passively ("passive") or gives up ("async").
    mode: str = "pending"
    followup_sent: bool = False


@dataclass
class _Request:
    """The verified parts of one POST."""

    fields: Dict[str, Any]
    message: BaseMessage
    encrypted: bool
    nonce: str
    timestamp: str


@dataclass
class _Settings:
    token: str = ""
    appid: str = ""
    secret: str = ""
    aes_key: str = ""
    api_base: str = DEFAULT_API_BASE
    passive_timeout: float = DEFAULT_PASSIVE_TIMEOUT
    text_limit: int = TEXT_LIMIT_BYTES
    # "follow": the quotation is sent after the answer (customer-service API); "on_request":
    # the answer says how to ask for it.
    quotation: str = "follow"


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat Official Account (plaintext, compatible and safe mode)."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        credentials = credentials or {}
        return cls(
            token=credentials.get("token") or "",
            appid=credentials.get("appid") or "",
            secret=credentials.get("secret") or "",
            aes_key=credentials.get("aes_key") or "",
        )

    def __init__(self, token: str = "", appid: str = "", secret: str = "", aes_key: str = "",
                 api_base: Optional[str] = None, passive_timeout: Optional[float] = None,
                 client: Optional[Any] = None, quotation: Optional[str] = None) -> None:
        settings = Settings.from_env(check=False, lenient=True)
        self.settings = _Settings(
            token=str(token).strip(), appid=str(appid).strip(), secret=str(secret).strip(),
            aes_key=str(aes_key).strip(),
            api_base=(api_base or settings.wechat_api_base).strip(),
            passive_timeout=passive_timeout if passive_timeout is not None
            else (settings.wechat_passive_timeout or DEFAULT_PASSIVE_TIMEOUT),
            quotation=_quotation_mode(quotation),
        )
        s = self.settings
        self.crypto: Optional[WeChatCrypto] = None
        if s.token and s.aes_key:
            if not s.appid:
                logger.error("WeChat safe mode needs the appid; encrypted messages will be refused")
            else:
                try:
                    self.crypto = WeChatCrypto(s.token, s.aes_key, s.appid)
                except (AssertionError, ValueError, binascii.Error):
                    logger.error("WECHAT_AES_KEY is not a valid EncodingAESKey (43 characters); "
                                 "encrypted messages will be refused")
        self.client = client
        if self.client is None and s.appid and s.secret:
            self.client = CustomerServiceClient(s.appid, s.secret, api_base=s.api_base)
        # The answer being prepared for each delivery, in this process (it holds the task).
        self._deliveries: LocalTTL[Delivery] = LocalTTL(DELIVERY_TTL, MAX_DELIVERIES)
        # With several workers a retry may reach another worker than the first message: which
        # deliveries are taken, their answers and the signed URLs seen are shared between them.
        self._claims = expiring("wechat-delivery", DELIVERY_TTL, MAX_DELIVERIES)
        self._answers = expiring("wechat-answer", DELIVERY_TTL, MAX_DELIVERIES)
        self._nonces = expiring("wechat-nonce", NONCE_TTL, MAX_NONCES)
        self._send_locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = (
            weakref.WeakValueDictionary())
        self._background: Set[asyncio.Task] = set()
        self.guard = Guard(self.name())
        if not s.token:
            logger.warning("WeChat channel loaded without WECHAT_TOKEN: its webhook answers 503")

    @property
    def configured(self) -> bool:
        return bool(self.settings.token)

    @property
    def quotation_follows(self) -> bool:
        """The quotation is sent after the answer, which needs the customer-service API."""
        return self.settings.quotation == "follow" and self.client is not None

    # ---------------------------------------------------------------- HTTP

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("wechat_webhook", __name__)
        add_health(bp, lambda: {"configured": self.configured})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("WeChat channel not configured", status=503)
            if not self._signed(request):
                return response.text("invalid signature", status=403)
            return response.text(request.args.get("echostr", ""))

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            started = _arrived(request)
            self.guard.bind(request.app)
            if not self.configured:
                return response.text("WeChat channel not configured", status=503)
            if not self._signed(request):
                return response.text("invalid signature", status=403)
            body = await _read_body(request, MAX_BODY_BYTES)
            if body is None:
                return response.text("payload too large", status=413)
            if not self._first_use(request, body):
                return response.text("signed URL already used", status=403)
            try:
                req = self._open(request, body)
            except InvalidSignatureException:
                return response.text("invalid signature", status=403)
            except _NotAvailable as e:
                return response.text(str(e), status=503)
            except BadPayload as e:
                logger.info("rejected WeChat payload: %s", e)
                return response.text("bad request", status=400)
            content = await self._answer(req, on_new_message, started)
            if not content:
                return response.text("success")
            transport = getattr(request, "transport", None)
            if transport is not None and transport.is_closing():
                # The platform gave up on this request: the reply would be written to nobody.
                logger.info("WeChat closed the connection before the reply to %s; sending it "
                            "through the customer-service API", req.message.source)
                self._spawn(self._send(req.message.source, [content]))
                return response.text("success")
            reply = TextReply(message=req.message, content=content).render()
            if req.encrypted:
                reply = self.crypto.encrypt_message(reply, req.nonce, req.timestamp)
            return response.text(reply, content_type="application/xml")

        return bp

    def _signed(self, request: Request) -> bool:
        """The request carries a valid signature made within the accepted clock window."""
        args = request.args
        signature, timestamp, nonce = (args.get(k, "") for k in ("signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce):
            return False
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            return False
        if skew > MAX_CLOCK_SKEW:
            logger.info("rejected WeChat request with timestamp %s (skew %.0f s)", timestamp, skew)
            return False
        try:
            check_signature(self.settings.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            return False
        return True

    def _first_use(self, request: Request, body: bytes) -> bool:
        """False when this signed URL came before with another body: a replay carrying a forged
        message. The same body again is WeChat's retry (answered once, by MsgId)."""
        args = request.args
        key = ":".join(args.get(k, "") for k in ("timestamp", "nonce", "signature"))
        digest = hashlib.sha256(body).hexdigest()
        seen = self._nonces.setdefault(key, digest)
        if seen is not None and seen != digest:
            logger.warning("refused a WeChat request whose signed URL (nonce %s) was already used "
                           "with another body", args.get("nonce", ""))
            return False
        return True

    def _open(self, request: Request, body: bytes) -> _Request:
        """The message in a signed body, decrypted in safe mode; raises on anything else."""
        args = request.args
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        fields = parse_xml(body)
        encrypted = args.get("encrypt_type", "raw").lower() == "aes"
        if encrypted:
            if self.crypto is None:
                raise _NotAvailable("WeChat safe mode not configured")
            encrypt = fields.get("Encrypt")
            if not isinstance(encrypt, str) or not encrypt:
                raise BadPayload("missing Encrypt")
            try:
                plain = self.crypto.decrypt_message(
                    {"Encrypt": encrypt}, args.get("msg_signature", ""), timestamp, nonce)
            except InvalidSignatureException:
                raise
            except Exception as e:  # bad base64, padding, length or appid
                raise BadPayload("cannot decrypt") from e
            fields = parse_xml(plain)
        return _Request(fields, to_message(fields), encrypted, nonce, timestamp)

    # ---------------------------------------------------------------- answering

    async def _answer(self, req: _Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      started: float) -> Optional[str]:
        """The passive reply's text, or None to reply ``success`` (answer sent later, or none)."""
        key = dedup_key(req.fields)
        delivery = self._deliveries.get(key) if key else None
        if delivery is None and key and not self._claims.claim(key):
            logger.debug("WeChat retry of %s, answered by another worker", key)
            return await self._answer_of_other_worker(key, req.message.source, started)
        if delivery is None:
            task = asyncio.ensure_future(self._process_safely(req, on_new_message, key))
            delivery = Delivery(task)
            if key:
                self._deliveries.set(key, delivery)
        else:
            logger.debug("WeChat retry of %s", key)
        if delivery.mode == "async":
            return None
        remaining = self.settings.passive_timeout - (time.monotonic() - started)
        try:
            await asyncio.wait_for(asyncio.shield(delivery.task), timeout=max(remaining, 0.0))
        except asyncio.TimeoutError:
            self._go_async(req.message.source, delivery, key)
            return None
        except asyncio.CancelledError:  # the platform hung up: deliver later
            self._go_async(req.message.source, delivery, key)
            raise
        if delivery.mode in ("async", "elsewhere") or not self._claim_delivery(key, delivery):
            return None
        delivery.mode = "passive"
        parts = delivery.task.result()
        if len(parts) > 1 and not delivery.followup_sent:
            delivery.followup_sent = True
            self._spawn(self._send(req.message.source, parts[1:], delay=FOLLOWUP_DELAY))
        return parts[0] if parts else None

    def _claim_delivery(self, key: Optional[str], delivery: Delivery) -> bool:
        """This worker delivers the answer (with one worker: always; with several: the first
        request, on any worker, to claim it)."""
        if delivery.mode == "passive":
            return True  # a retry of a passive reply that did not arrive gets it again
        if key and not self._claims.claim(f"deliver:{key}"):
            delivery.mode = "elsewhere"
            return False
        return True

    async def _answer_of_other_worker(self, key: str, openid: str, started: float
                                      ) -> Optional[str]:
        """A retry of a message another worker is answering: reply passively with its answer
        when it is ready within this request's time and nobody delivered it yet."""
        while time.monotonic() - started < self.settings.passive_timeout:
            parts = self._answers.get(key)
            if parts is not None:
                if not self._claims.claim(f"deliver:{key}"):
                    return None
                if len(parts) > 1:
                    self._spawn(self._send(openid, parts[1:], delay=FOLLOWUP_DELAY))
                return parts[0] if parts else None
            await asyncio.sleep(0.1)
        return None

    def _go_async(self, openid: str, delivery: Delivery, key: Optional[str] = None) -> None:
        """No request will reply with this answer: send it through the API once it is ready."""
        if delivery.mode == "pending" and self._claim_delivery(key, delivery):
            delivery.mode = "async"

            async def deliver_when_done() -> None:
                parts = await asyncio.shield(delivery.task)
                await self._send(openid, parts)

            self._spawn(deliver_when_done())

    async def _process_safely(self, req: _Request,
                              on_new_message: Callable[[UserMessage], Awaitable[Any]],
                              key: Optional[str] = None) -> List[str]:
        try:
            parts = await self._process(req, on_new_message)
        except Exception:
            logger.exception("WeChat message from %s could not be answered", req.message.source)
            parts = [UNAVAILABLE]
        if key:  # for a retry that reaches another worker
            self._answers.set(key, parts)
        return parts

    async def _process(self, req: _Request,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> List[str]:
        """The parts of the answer to one message (empty: nothing to say)."""
        message = req.message
        openid = message.source
        kind = str(req.fields.get("MsgType", "")).lower()
        if kind == "event":
            event = str(req.fields.get("Event", "")).lower()
            if event == "subscribe":
                reply = await self._ask(openid, "/greet", on_new_message, message, typed=False)
                return self._parts(self._texts(reply, fallback=welcome()))
            return []
        if kind == "voice":
            recognised = str(req.fields.get("Recognition") or "").strip()
            if not recognised:
                return [VOICE_UNRECOGNISED]
            return await self._ask_text(openid, recognised, on_new_message, message)
        if kind == "text":
            content = str(req.fields.get("Content") or "").strip()
            if not content:
                return [EMPTY_TEXT]
            return await self._ask_text(openid, content, on_new_message, message)
        return [TEXT_ONLY]

    async def _ask_text(self, openid: str, text: str,
                        on_new_message: Callable[[UserMessage], Awaitable[Any]],
                        message: BaseMessage) -> List[str]:
        payload = None
        if parse_choice(text) is not None:  # the number of an option just offered?
            offered = await self.guard.offered(conversation_id(self.name(), openid), OPTIONS_TTL)
            payload = choose(offered, text)
        # Typed text is cleaned and limited; a chosen option's payload is sent as it is.
        reply = await self._ask(openid, payload or text, on_new_message, message,
                                typed=payload is None)
        if reply.direct is not None:
            return [reply.direct]
        texts = self._texts(reply, fallback=NO_ANSWER)
        if reply.notices:
            texts[0] = "\n".join(reply.notices) + "\n\n" + texts[0]
        return self._parts(texts)

    def _parts(self, texts: List[str]) -> List[str]:
        """The WeChat messages for the texts of a turn, each split to the size limit."""
        return [part for text in texts for part in split_text(text, self.settings.text_limit)]

    async def _ask(self, openid: str, text: str,
                   on_new_message: Callable[[UserMessage], Awaitable[Any]],
                   message: BaseMessage, typed: bool) -> Reply:
        """Hands one message to the assistant (`Guard.answer`)."""
        metadata = {"wechat": {"msg_type": message.type, "msg_id": message.id or None,
                               "account": message.target}}
        return await self.guard.answer(on_new_message, text, conversation_id(self.name(), openid),
                                       metadata=metadata, typed=typed)

    def _texts(self, reply: Reply, fallback: str) -> List[str]:
        """The texts of an answer: the answer first, then (when it follows) the quotation."""
        if not reply.delivered:
            return [UNAVAILABLE]
        return render_turn(reply.answer).texts(self.quotation_follows) or [fallback]

    # ---------------------------------------------------------------- customer-service API

    async def _send(self, openid: str, parts: List[str], delay: float = 0.0) -> None:
        """Sends parts in order through the customer-service API; stops at the first failure."""
        if not parts:
            return
        if self.client is None:
            logger.warning("an answer for %s was not delivered: the customer-service API needs "
                           "WECHAT_APPID and WECHAT_SECRET", openid)
            return
        if delay:
            await asyncio.sleep(delay)
        lock = self._send_locks.get(openid)
        if lock is None:
            lock = asyncio.Lock()
            self._send_locks[openid] = lock
        async with lock:
            loop = asyncio.get_running_loop()
            for i, part in enumerate(parts):
                try:
                    await loop.run_in_executor(None, self.client.send_text, openid, part)
                except Exception as e:
                    logger.warning("customer-service message to %s failed (%d of %d parts "
                                   "unsent): %s", openid, len(parts) - i, len(parts), e)
                    return

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _arrived(request: Request) -> float:
    """When the platform sent this request, on the monotonic clock: the earliest of now, the
    first byte received on the connection (bot/patches/http_limits.py) and the signed
    timestamp. The timestamp has whole seconds, so one second of its age is taken for rounding
    and clock drift; what is left is time the request waited before the server read it."""
    now = time.monotonic()
    arrived = now
    first_byte = getattr(getattr(request.conn_info, "ctx", None), "_request_started", None)
    if isinstance(first_byte, float) and first_byte < arrived:
        arrived = first_byte
    try:
        age = time.time() - int(request.args.get("timestamp", ""))
    except ValueError:
        age = 0.0
    if 1.0 < age <= MAX_CLOCK_SKEW:
        arrived = min(arrived, now - (age - 1.0))
    return arrived


class _NotAvailable(Exception):
    """The request is fine but this server cannot handle it as configured."""


async def _read_body(request: Request, limit: int) -> Optional[bytes]:
    """The request body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            return None
    if request.stream is None:  # already read by the server
        body = request.body or b""
        return body if len(body) <= limit else None
    chunks: List[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
