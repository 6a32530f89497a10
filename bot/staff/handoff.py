"""Hand-off to a person: leaving a message (留言), tickets, and staff replies reaching the person.

1. When the person asks for a person (intent ``request_human``: "转人工", "我要找人工") or the
   assistant failed several answers in a row (out of scope, not understood, asked to rephrase;
   ``STAFF_HANDOFF_AFTER_FAILURES``), the assistant offers to leave a message (a "留言" button,
   a numbered option on WeChat).
2. "留言" asks for the message, with optional contact details; the next message opens a ticket
   carrying the conversation so far (masked) and tells the person when to expect an answer
   (``STAFF_REPLY_WITHIN``). "取消" gives up.
3. Staff reply from the console. The reply is added to the conversation (the widget shows it when
   the person comes back, and at once while the page is open); on WeChat it is sent through the
   customer-service message API, which allows messages only within 48 hours of the person's last
   message and at most 5 of them: outside that (errors 45015, 45047, or the same limits checked
   here first) the ticket stays open and staff are told why.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from bot.privacy import mask_text
from bot.settings import current_value
from bot.staff import db

logger = logging.getLogger(__name__)

LEAVE_COMMANDS = {"留言", "我要留言", "留言给工作人员", "给工作人员留言", "人工留言"}
CANCEL_COMMANDS = {"取消", "取消留言", "不留言了", "算了"}
PENDING_TTL = 1800.0
WECHAT_WINDOW = 48 * 3600.0
WECHAT_MAX_MESSAGES = 5
TRANSCRIPT_TURNS = 30

OFFER = {
    "asked": "如需工作人员答复，您可以给我们留言，工作人员看到后会回复您。",
    "failures": "抱歉，这几个问题我没能很好地回答。您可以给工作人员留言，由工作人员答复您。",
}
OFFER_BUTTON = {"title": "留言", "payload": "留言"}
PROMPT = ("请在下一条消息中写下您想咨询的问题，可以附上联系方式（手机号或邮箱，选填）。"
          "回复“取消”可放弃留言。")
CANCELLED = "已取消留言。您可以继续向我提问。"
RECEIVED = "已收到您的留言（编号 {id}）。工作人员一般会在{within}内答复，{where}"
WHERE = {
    "wechat": "答复将通过本公众号发送给您。",
    "widget": "答复会显示在本对话窗口中，您稍后再打开时也能看到。",
    "shell": "答复会显示在本终端中（用同一 --sender 再次进入时也会显示）。",
}
WHERE_DEFAULT = "答复会记录在本对话中。"
CONTACT_NOTE = "工作人员也可能通过您留下的联系方式与您联系。"
STAFF_PREFIX = "【工作人员回复】"

ERRORS = {
    45015: "已超过微信规定的48小时回复时限（用户最后一次发消息后48小时内才能回复），请通过对方留下的联系方式联系，或等待对方再次发消息。",
    45047: "已达到微信客服消息的条数上限（用户每次发消息后最多可回复5条），请等待对方再次发消息。",
}

_CONTACT = re.compile(
    r"(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"|0\d{2,3}-?\d{7,8}")


def _normal(text: str) -> str:
    return re.sub(r"[\s。！!？?，,、~～]+", "", text or "")


def is_leave_command(text: str) -> bool:
    return _normal(text) in LEAVE_COMMANDS


def is_cancel(text: str) -> bool:
    return _normal(text) in CANCEL_COMMANDS


def reply_within() -> str:
    return current_value("staff_reply_within").strip()


def failures_before_offer() -> int:
    return current_value("staff_handoff_after_failures")


def contact_in(text: str) -> Optional[str]:
    found = _CONTACT.findall(text or "")
    return "；".join(dict.fromkeys(found))[:255] if found else None


# ----------------------------------------------------------------------------------- pending


def pending(engine: sa.engine.Engine, sender: str) -> Optional[Dict[str, Any]]:
    p = db.handoff_pending.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.handoff_pending).where(p.sender_id == sender)).mappings().first()
    if row is None or row["since"] < time.time() - PENDING_TTL:
        return None
    return dict(row)


def set_pending(engine: sa.engine.Engine, sender: str, channel: Optional[str], reason: str) -> None:
    p = db.handoff_pending.c
    with engine.begin() as conn:
        conn.execute(db.handoff_pending.delete().where(p.sender_id == sender))
        conn.execute(db.handoff_pending.insert().values(
            sender_id=sender, channel=channel, reason=reason, since=time.time()))


def clear_pending(engine: sa.engine.Engine, sender: str) -> None:
    with engine.begin() as conn:
        conn.execute(db.handoff_pending.delete().where(db.handoff_pending.c.sender_id == sender))


# ----------------------------------------------------------------------------------- offering


def offer_reason(engine: sa.engine.Engine, sender: str) -> Optional[str]:
    """Why to offer a message to staff after this turn ("asked", "failures"), or None."""
    t = db.turns.c
    n = failures_before_offer()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.intent, t.out_of_scope, t.fallback, t.rephrase, t.handoff,
                                      t.handoff_offered)
                            .where(t.sender_id == sender).order_by(t.ts.desc(), t.id.desc())
                            .limit(n)).all()
    if not rows or rows[0].handoff or rows[0].handoff_offered:
        return None
    if rows[0].intent == "request_human":
        return "asked"
    if len(rows) >= n and all((r.out_of_scope or r.fallback or r.rephrase)
                              and not (r.handoff or r.handoff_offered) for r in rows):
        return "failures"
    return None


# ----------------------------------------------------------------------------------- tickets


def transcript(engine: sa.engine.Engine, sender: str) -> List[Dict[str, Any]]:
    t = db.turns.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.ts, t.user_text, t.answer, t.intent).where(t.sender_id == sender)
                            .order_by(t.ts.desc(), t.id.desc()).limit(TRANSCRIPT_TURNS)).mappings().all()
    return [dict(r) for r in reversed(rows)]


def create_ticket(engine: sa.engine.Engine, sender: str, channel: Optional[str],
                  reply_to: Optional[str], message: str, reason: Optional[str],
                  history: Optional[List[Dict[str, Any]]] = None) -> int:
    """Opens a ticket carrying the conversation so far: from the console's index, or
    ``history`` (turns as `transcript` gives them) for a conversation not stored there (the
    staff shell's)."""
    now = time.time()
    history = json.dumps(transcript(engine, sender) if history is None else history, ensure_ascii=False)
    with engine.begin() as conn:
        ticket_id = conn.execute(db.tickets.insert().values(
            sender_id=sender, channel=channel, reply_to=reply_to, status="open", reason=reason,
            message=mask_text(message), contact=contact_in(message), transcript=history,
            created_at=now, updated_at=now)).inserted_primary_key[0]
        conn.execute(db.ticket_messages.insert().values(
            ticket_id=ticket_id, author="user", text=mask_text(message), at=now, delivered=True))
    logger.info("hand-off: ticket %s opened for a %s conversation", ticket_id, channel)
    return int(ticket_id)


def received_text(ticket_id: int, channel: Optional[str], has_contact: bool) -> str:
    text = RECEIVED.format(id=ticket_id, within=reply_within(),
                           where=WHERE.get(channel or "", WHERE_DEFAULT))
    return text + (CONTACT_NOTE if has_contact else "")


class ReplyRefused(Exception):
    """A reply that could not be sent; ``message`` tells staff why (the ticket stays open)."""

    def __init__(self, status: int, message: str, errcode: Optional[int] = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errcode = status, message, errcode


def wechat_client() -> Optional[Any]:
    appid = current_value("wechat_appid").strip()
    secret = current_value("wechat_secret").strip()
    if not appid or not secret:
        return None
    from bot.channels.wechat_api import CustomerServiceClient

    return CustomerServiceClient(appid, secret, api_base=current_value("wechat_api_base"))


def _wechat_window(engine: sa.engine.Engine, sender: str, now: float) -> None:
    """Refuses, before calling WeChat, a reply its rules would refuse."""
    t, m, k = db.turns.c, db.ticket_messages.c, db.tickets.c
    with engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(t.ts)).where(t.sender_id == sender)).scalar()
        if last is None or now - last > WECHAT_WINDOW:
            raise ReplyRefused(409, ERRORS[45015], 45015)
        sent = conn.execute(
            sa.select(sa.func.count()).select_from(db.ticket_messages.join(db.tickets, k.id == m.ticket_id))
            .where(k.sender_id == sender, m.author == "staff", m.delivered == sa.true(), m.at > last)
        ).scalar()
    if sent >= WECHAT_MAX_MESSAGES:
        raise ReplyRefused(409, ERRORS[45047], 45047)


async def send_reply(engine: sa.engine.Engine, agent: Any, ticket_id: int, text: str,
                     username: str, client: Optional[Any] = None) -> Dict[str, Any]:
    """Delivers a staff reply to the person of a ticket; ReplyRefused when it cannot."""
    text = (text or "").strip()
    if not text:
        raise ReplyRefused(400, "回复内容不能为空")
    if len(text) > 1000:
        raise ReplyRefused(400, "回复最多1000字")
    loop = asyncio.get_running_loop()
    k = db.tickets.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(db.tickets).where(k.id == ticket_id)).mappings().first()
    if row is None:
        raise ReplyRefused(404, "没有这个工单")
    if row["status"] == "closed":
        raise ReplyRefused(409, "工单已关闭")
    now = time.time()
    sent_text = STAFF_PREFIX + text
    error: Optional[ReplyRefused] = None
    if row["channel"] == "wechat":
        try:
            _wechat_window(engine, row["sender_id"], now)
            client = client or wechat_client()
            if client is None:
                raise ReplyRefused(503, "未配置 WECHAT_APPID 和 WECHAT_SECRET，无法通过公众号发送")
            try:
                await loop.run_in_executor(None, client.send_text, row["reply_to"] or row["sender_id"],
                                           sent_text)
            except Exception as e:
                code = getattr(e, "errcode", None)
                message = ERRORS.get(code) or f"微信接口返回错误：{getattr(e, 'errmsg', None) or e}"
                raise ReplyRefused(502, message, code)
        except ReplyRefused as e:
            error = e
    # The staff shell keeps its conversation in memory and fetches replies itself (`staff_replies`).
    if error is None and agent is not None and row["channel"] != "shell":
        await add_to_conversation(agent, row["sender_id"], sent_text,
                                  {"staff_reply": {"ticket": ticket_id, "by": username}})
    with engine.begin() as conn:
        conn.execute(db.ticket_messages.insert().values(
            ticket_id=ticket_id, author="staff", username=username, text=text, at=now,
            delivered=error is None, error=error.message if error else None))
        conn.execute(db.tickets.update().where(k.id == ticket_id).values(
            updated_at=now, status="open" if error else "answered",
            last_error=error.message if error else None))
    if error is not None:
        raise error
    return {"delivered": True, "channel": row["channel"]}


def staff_replies(engine: sa.engine.Engine, sender: str, after_id: int = 0) -> List[Dict[str, Any]]:
    """Staff replies to this conversation's tickets with an id above ``after_id``, oldest first
    (as the staff shell prints them)."""
    k, m = db.tickets.c, db.ticket_messages.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.id, m.ticket_id, m.text, m.at, m.username)
            .select_from(db.ticket_messages.join(db.tickets, k.id == m.ticket_id))
            .where(k.sender_id == sender, m.author == "staff", m.delivered == sa.true(), m.id > after_id)
            .order_by(m.id)).mappings().all()
    return [dict(r) for r in rows]


def close_ticket(engine: sa.engine.Engine, ticket_id: int) -> bool:
    k = db.tickets.c
    with engine.begin() as conn:
        return conn.execute(db.tickets.update().where(k.id == ticket_id)
                            .values(status="closed", updated_at=time.time())).rowcount > 0


# ----------------------------------------------------------------------------------- conversation


async def add_to_conversation(agent: Any, sender: str, bot_text: str, custom: Dict[str, Any],
                              user_text: Optional[str] = None, channel: Optional[str] = None,
                              user_metadata: Optional[Dict[str, Any]] = None,
                              buttons: Optional[List[Dict[str, str]]] = None) -> float:
    """Adds a message of the person (optional) and one of the assistant (with its buttons, which
    the channels read as what was just offered) to the stored conversation, under its lock, so
    that the history shows them. Returns the bot event's time."""
    from rasa.shared.core.events import BotUttered, UserUttered

    store, locks = agent.tracker_store, agent.lock_store
    async with locks.lock(sender):
        tracker = await store.get_or_create_tracker(sender)
        if user_text is not None:
            tracker.update(UserUttered(user_text, intent={"name": "request_human", "confidence": 1.0},
                                       input_channel=channel, metadata=user_metadata or {"handoff": True}))
        bot = BotUttered(bot_text, data={"custom": custom, **({"buttons": buttons} if buttons else {})})
        tracker.update(bot)
        await store.save(tracker)
    return bot.timestamp
