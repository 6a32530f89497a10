"""The two calls every public channel makes around a person's message, for the hand-off to a
person (`bot.staff.handoff`). `bot.channels.guard.Guard.deliver` makes them, so REST, the
widget and WeChat behave alike:

- `before_assistant(message)`: True when the message was answered here ("留言", the message
  itself after "留言", "取消"), and must not reach the assistant;
- `after_assistant(message)`: after the assistant answered, offers to leave a message when the
  person asked for a person or several answers in a row failed.

Both do nothing unless the staff console is served (`bind`, called by `bot.staff.channel` when
the server starts with staff accounts), and neither ever raises into the conversation.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional

from bot.staff import handoff

logger = logging.getLogger(__name__)

_state: Dict[str, Any] = {"app": None, "engine": None, "enabled": None}


def bind(app: Any, engine: Any, enabled: Optional[Callable[[], bool]] = None) -> None:
    """Turns the hand-off on for the conversations of this Sanic app, while ``enabled()`` (the
    console has accounts)."""
    _state.update(app=app, engine=engine, enabled=enabled)


def unbind() -> None:
    _state.update(app=None, engine=None, enabled=None)


def _agent() -> Optional[Any]:
    app = _state["app"]
    enabled = _state["enabled"]
    if app is None or (enabled is not None and not enabled()):
        return None
    agent = getattr(getattr(app, "ctx", None), "agent", None) if app is not None else None
    return agent if getattr(agent, "tracker_store", None) is not None else None


def reply_address(message: Any) -> str:
    """Where a staff reply to this conversation goes: the WeChat OpenID (given in the metadata
    as ``{"wechat": {"openid": ...}}``, or the conversation id ``wechat:<OpenID>`` without its
    channel prefix, `bot.channels.guard.conversation_id`), else the conversation id."""
    meta = getattr(message, "metadata", None) or {}
    openid = (meta.get("wechat") or {}).get("openid") if isinstance(meta, dict) else None
    sender = str(message.sender_id)
    channel = getattr(message, "input_channel", None)
    if not openid and channel and sender.startswith(f"{channel}:"):
        openid = sender[len(channel) + 1:]
    return str(openid or sender)


async def _say(message: Any, text: str, custom: Dict[str, Any], timestamp: float,
               buttons: Optional[list] = None) -> None:
    out: Dict[str, Any] = {"text": text, "custom": custom, "timestamp": timestamp}
    if buttons:
        out["buttons"] = buttons
    await message.output_channel.send_response(message.sender_id, out)


async def before_assistant(message: Any) -> bool:
    engine, agent = _state["engine"], _agent()
    if engine is None or agent is None or not isinstance(message.text, str):
        return False
    try:
        sender, channel, text = message.sender_id, message.input_channel, message.text.strip()
        waiting = handoff.pending(engine, sender)
        if waiting is not None:
            if handoff.is_cancel(text):
                handoff.clear_pending(engine, sender)
                reply, custom = handoff.CANCELLED, {"handoff": {"cancelled": True}}
            else:
                ticket_id = handoff.create_ticket(engine, sender, channel, reply_address(message),
                                                  text, waiting.get("reason"))
                handoff.clear_pending(engine, sender)
                reply = handoff.received_text(ticket_id, channel, handoff.contact_in(text) is not None)
                custom = {"handoff": {"ticket": ticket_id, "status": "open"}}
        elif handoff.is_leave_command(text):
            handoff.set_pending(engine, sender, channel, handoff.offer_reason(engine, sender) or "asked")
            reply, custom = handoff.PROMPT, {"handoff": {"waiting_for_message": True}}
        else:
            return False
        ts = await handoff.add_to_conversation(agent, sender, reply, custom, user_text=text,
                                               channel=channel, user_metadata={"handoff": True})
        await _say(message, reply, custom, ts)
        return True
    except Exception:
        logger.exception("hand-off: a message could not be handled; passing it to the assistant")
        return False


async def after_assistant(message: Any) -> None:
    engine, agent = _state["engine"], _agent()
    if engine is None or agent is None:
        return
    try:
        reason = handoff.offer_reason(engine, message.sender_id)
        if reason is None:
            return
        custom = {"handoff": {"offer": reason}}
        ts = await handoff.add_to_conversation(agent, message.sender_id, handoff.OFFER[reason], custom,
                                               buttons=[dict(handoff.OFFER_BUTTON)])
        await _say(message, handoff.OFFER[reason], custom, ts, buttons=[dict(handoff.OFFER_BUTTON)])
    except Exception:
        logger.exception("hand-off: could not offer to leave a message")
