"""The one path of a person's message to the assistant and back, for every channel.

Each channel hands a message to Rasa through `Guard.answer`, and only through it; the channel
modules keep their own protocol (parsing, signatures, sessions, rendering). `Guard.answer`:

1. cleans the text (control, zero-width and bidi characters dropped, HTML tags removed, white
   space collapsed) and bounds it (`GUARD_MAX_MESSAGE_CHARS`, the person is told when the rest
   was dropped); an empty message or one without a single letter, digit or Chinese character
   (emoji only, punctuation only) gets a polite request for a question instead of reaching the
   assistant. A message typed as ``/intent{...}`` cannot force an intent or set slots: unless it
   is exactly the payload of a button the assistant offered in its last answer (`offered`), its
   leading slashes are dropped and it is read as ordinary text;
2. limits each conversation to `GUARD_SENDER_PER_MINUTE` messages a minute (beyond that it is
   asked to slow down), unless the channel keeps its own limits (the widget answers 429);
3. delivers the message (`deliver`): the answer is awaited at most `ACTION_REPLY_TIMEOUT`
   seconds after the message's turn holds the conversation lock;
4. finishes the reply (`Reply.messages`): notices first, an apology with the hotline when the
   assistant failed, timed out or said nothing (Rasa swallows a failed custom action and then
   answers nothing), every message addressed to the sender as the client named it;
5. sanitises it: tag-like text in answers and button titles is neutralised so that no client
   renders it as markup.

What the assistant last offered a conversation (its buttons, in order) is read from the
conversation itself (`offered`): the bot messages of its last answer, as stored by the tracker
store, so a click is recognised by any worker and any server, and after a restart.

The fixed sentences are in bot/channels/wording.py, the HTTP helpers in bot/channels/http.py.
The log filter that masks ID-card and mobile numbers (`bot.privacy`) is installed by the
server's entry point (bot/entry.py), not by importing this module.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.wording import (  # noqa: F401  (the sentences this path says)
    APOLOGY, EMPTY, NO_TEXT, RATE_LIMITED, STILL_ANSWERING, TRUNCATED,
)
from bot.locks import LOCK_TAKEN, AtomicLockStore
from bot.settings import Settings
from bot.shared_state import limiter
from bot.staff import hooks as staff_hooks

logger = logging.getLogger(__name__)

# The defaults are those of bot/settings.py (GUARD_*, ACTION_REPLY_TIMEOUT).
_DEFAULTS = Settings()
DEFAULT_MAX_MESSAGE_CHARS = _DEFAULTS.guard_max_message_chars
DEFAULT_ACTION_REPLY_TIMEOUT = _DEFAULTS.action_reply_timeout

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
# The path (its rate limit: bot/shared_state.py)


@dataclass
class Checked:
    """What to do with one message: hand ``text`` to the assistant (``reply`` is None), or answer
    ``reply`` without it. ``notices`` go before the answer."""

    text: str = ""
    reply: Optional[str] = None
    notices: List[str] = field(default_factory=list)
    reason: str = "ok"  # ok | empty | no_text | rate_limited


@dataclass
class Reply:
    """What `Guard.answer` gives back for one message.

    ``messages`` is the reply in the REST shape, ready to send: the guard's own reply (an empty,
    emoji-only or too frequent message), or the notices, the assistant's messages and, when it
    said nothing, the apology. A channel that renders the answer its own way (WeChat) reads the
    parts: ``direct`` (the guard's own reply, or None), ``notices``, ``answer`` (the assistant's
    messages, sanitised) and ``delivered`` (False: it failed or timed out)."""

    sender: str
    checked: Checked
    answer: List[Dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    @classmethod
    def refused(cls, sender: str, text: str, reason: str) -> "Reply":
        """A reply the channel gives without the assistant (REST's per-address limit)."""
        return cls(sender, Checked(reply=text, reason=reason))

    @property
    def direct(self) -> Optional[str]:
        return self.checked.reply

    @property
    def notices(self) -> List[str]:
        return self.checked.notices

    @property
    def said(self) -> bool:
        return any(m.get("text") or m.get("image") or m.get("attachment")
                   for m in self.answer if isinstance(m, dict))

    @property
    def messages(self) -> List[Dict[str, Any]]:
        if self.direct is not None:
            return [{"recipient_id": self.sender, "text": self.direct}]
        out = [{"recipient_id": self.sender, "text": n} for n in self.notices]
        out.extend(self.answer)
        if not self.said:
            out.append({"recipient_id": self.sender, "text": APOLOGY})
        return out


def button_options(buttons: Any) -> List[Dict[str, str]]:
    """The options of a message's buttons, in order: ``{"title", "payload"}`` (a button with
    only one of them has it as both)."""
    options = []
    for button in buttons if isinstance(buttons, list) else []:
        if not isinstance(button, dict):
            continue
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title).strip()
        if title or payload:
            options.append({"title": title or payload, "payload": payload})
    return options


class Guard:
    """The message path of one channel (rate limits are per channel and sender). ``limit_senders``
    False: the channel limits its senders itself (the widget, which answers 429)."""

    def __init__(self, channel: str, max_chars: Optional[int] = None,
                 per_minute: Optional[int] = None, timeout: Optional[float] = None,
                 limit_senders: bool = True) -> None:
        self.channel = channel
        settings = _settings()
        self.max_chars = max_chars if max_chars is not None else settings.guard_max_message_chars
        if self.max_chars <= 0:
            self.max_chars = DEFAULT_MAX_MESSAGE_CHARS
        self.timeout = timeout if timeout is not None else settings.action_reply_timeout
        if self.timeout <= 0:
            self.timeout = DEFAULT_ACTION_REPLY_TIMEOUT
        self.limiter = (limiter(per_minute if per_minute is not None
                                else settings.guard_sender_per_minute) if limit_senders else None)
        self._app: Any = None
        self._late: "set[asyncio.Future]" = set()

    # ---- where the conversations are -----------------------------------------------------

    def bind(self, app: Any) -> None:
        """Remembers the Sanic app whose agent holds the conversations (``app.ctx.agent``)."""
        if app is not None:
            self._app = app

    async def offered(self, conversation: str, max_age: Optional[float] = None
                      ) -> List[Dict[str, str]]:
        """The options (buttons) the assistant offered in its last answer to this conversation,
        in order, read from the stored conversation: the bot messages after its last user
        message. None (an empty list) when that answer is older than ``max_age`` seconds, or
        when the conversation cannot be read (a payload is then read as text: fail closed)."""
        try:
            agent = getattr(getattr(self._app, "ctx", None), "agent", None)
            store = getattr(agent, "tracker_store", None)
            tracker = await store.retrieve(conversation) if store is not None else None
            if tracker is None:
                return []
            last: List[BotUttered] = []
            for event in reversed(tracker.events):
                if isinstance(event, UserUttered):
                    break
                if isinstance(event, BotUttered):
                    last.append(event)
        except Exception:
            logger.warning("could not read the offered buttons of a conversation", exc_info=True)
            return []
        if not last or (max_age is not None and time.time() - last[0].timestamp > max_age):
            return []
        return [option for event in reversed(last)
                for option in button_options((event.data or {}).get("buttons"))]

    # ---- before ----------------------------------------------------------------------------

    def check_text(self, text: Any, sender: str, offered: Iterable[str] = ()) -> Checked:
        """The synchronous part of `check`, given the offered payloads."""
        cleaned = clean_text(text)
        if cleaned.startswith(("/", "／", "\\")) and cleaned not in set(offered):
            cleaned = _LEADING_SLASHES.sub("", cleaned)
        if not cleaned:
            return Checked(reply=EMPTY, reason="empty")
        if not has_words(cleaned):
            return Checked(reply=NO_TEXT, reason="no_text")
        if self.limiter is not None and not self.limiter.allow(sender):
            logger.info("%s: conversation %s is sending too fast", self.channel, sender)
            return Checked(reply=RATE_LIMITED, reason="rate_limited")
        notices = []
        if len(cleaned) > self.max_chars:
            cleaned = cleaned[: self.max_chars].rstrip()
            notices.append(TRUNCATED.format(limit=self.max_chars))
        return Checked(text=cleaned, notices=notices)

    async def check(self, text: Any, sender: str) -> Checked:
        """Cleans, bounds and rate-limits one typed message (see the module's docstring)."""
        offered: List[str] = []
        if clean_text(text).startswith(("/", "／", "\\")):
            offered = [option["payload"] for option in await self.offered(sender)]
        return self.check_text(text, sender, offered)

    # ---- the whole path ------------------------------------------------------------------

    async def answer(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], text: Any,
                     conversation: str, sender: Optional[str] = None, *, app: Any = None,
                     output: Optional[CollectingOutputChannel] = None,
                     metadata: Optional[Dict[str, Any]] = None, typed: bool = True) -> Reply:
        """Hands one message to Rasa and returns the sanitised reply: the only way any channel
        does. ``conversation`` is the tracker's id (`conversation_id`), ``sender`` the id as the
        client gave it (each message of the reply is addressed to it; the conversation id when
        None). ``typed`` False: ``text`` is a payload the channel itself chose (a numbered
        option, WeChat's greeting), neither cleaned nor limited. ``output`` collects the
        assistant's messages (a channel's own subclass of CollectingOutputChannel)."""
        self.bind(app)
        sender = conversation if sender is None else sender
        checked = await self.check(text, conversation) if typed else Checked(text=text)
        if checked.reply is not None:
            return Reply(sender, checked)
        output = output if output is not None else CollectingOutputChannel()
        delivered = await self.deliver(on_new_message, UserMessage(
            checked.text, output, conversation, input_channel=self.channel, metadata=metadata))
        return self.finish(output.messages, sender, checked, delivered, conversation)

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
               checked: Optional[Checked] = None, delivered: bool = True,
               conversation: Optional[str] = None) -> Reply:
        """The reply to return: the assistant's messages addressed to ``sender`` (the id as the
        client gave it, not the tracker's namespaced conversation id), tag-like text
        neutralised; `Reply.messages` adds the notices and, when it said nothing, the apology."""
        answer = [sanitise_message(dict(m, recipient_id=sender)
                                   if isinstance(m, dict) and "recipient_id" in m else m)
                  for m in messages]
        reply = Reply(sender, checked or Checked(), answer, delivered)
        if not reply.said:
            logger.warning("%s: the assistant said nothing to %s", self.channel,
                           conversation or sender)
        return reply


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
