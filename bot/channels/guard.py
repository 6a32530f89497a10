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

Importing this module installs the log filter that masks ID-card and mobile numbers
(`bot.privacy`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import UserMessage

from bot import privacy
from bot.shared_state import limiter
from bot.staff import hooks as staff_hooks

privacy.install()

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_CHARS = 1000
DEFAULT_SENDER_PER_MINUTE = 20
DEFAULT_ACTION_REPLY_TIMEOUT = 8.0

EMPTY = "请输入您想咨询的问题，例如“开化县是山区县吗”“创业担保贷款有什么优惠”。"
NO_TEXT = "抱歉，我只能理解文字提问。请用文字描述您的问题，例如“开化县是山区县吗”。"
TRUNCATED = "您的消息较长，只处理了前{limit}个字符。"
RATE_LIMITED = "您发送消息过于频繁，请稍等片刻再试。"
APOLOGY = "抱歉，系统暂时无法回答您的问题，请稍后再试，或拨打12333人力资源和社会保障服务热线咨询。"

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


def _env_number(name: str, default: float, cast=float) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return cast(raw)
    except ValueError:
        logger.warning("ignoring %s=%r: not a number", name, raw)
        return default


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
        self.max_chars = max_chars if max_chars is not None else int(_env_number(
            "GUARD_MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS, int))
        if self.max_chars <= 0:
            self.max_chars = DEFAULT_MAX_MESSAGE_CHARS
        self.timeout = timeout if timeout is not None else float(_env_number(
            "ACTION_REPLY_TIMEOUT", DEFAULT_ACTION_REPLY_TIMEOUT))
        if self.timeout <= 0:
            self.timeout = DEFAULT_ACTION_REPLY_TIMEOUT
        self.limiter = limiter(per_minute if per_minute is not None else int(_env_number(
            "GUARD_SENDER_PER_MINUTE", DEFAULT_SENDER_PER_MINUTE, int)))
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

        A late answer is not cancelled: it finishes in the background, so that the conversation
        is stored whole (the person was told to try again; the next message waits for it).

        The staff console's hand-off (`bot.staff.hooks`) may answer the message itself ("留言")
        or add an offer to leave a message after the answer."""
        if await staff_hooks.before_assistant(message):
            return True
        task = asyncio.ensure_future(on_new_message(message))
        try:
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

    def _late_done(self, task: "asyncio.Future") -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: a late answer failed: %r", self.channel, task.exception())

    # ---- after -----------------------------------------------------------------------------

    def finish(self, messages: List[Dict[str, Any]], sender: str,
               notices: Iterable[str] = ()) -> List[Dict[str, Any]]:
        """The messages to return: notices first, the apology when the assistant said nothing,
        tag-like text neutralised."""
        out = [{"recipient_id": sender, "text": n} for n in notices]
        said = [m for m in messages if isinstance(m, dict) and (m.get("text") or m.get("image")
                                                                or m.get("attachment"))]
        if not said:
            logger.warning("%s: the assistant said nothing to %s; apologising", self.channel, sender)
        for m in messages:
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
