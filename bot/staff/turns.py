"""The per-turn index the console reads, filled as the tracker store saves each turn.

`TurnIndex.record` gets the events a save adds to one conversation (as Rasa's event dicts) and
writes, in a savepoint of the transaction that stores those events (bot/stores.py: one commit per
turn for both), or in a transaction of its own when it is given no connection:

- a ``staff_turns`` row for each message of the person: their text (ID-card and mobile numbers
  masked, `bot.privacy`), channel, time, intent, confidence, entities;
- the bot's answer to it (masked as well), the clause ids it cites, the eligibility verdict,
  out-of-scope / fallback / rephrase flags and the time from question to last answer;
- a rating (``SlotSet("feedback")`` from the widget) on the turn whose answer was rated;
- the conversation's row (``staff_conversations``: first and last time, turns, ratings);
- the turn's search row and its share of the dashboard's daily counts (`bot.staff.summary`).

A failure here is logged and never reaches the conversation: only the savepoint is rolled back,
and the events are committed without their index rows. Only when the database has lost the whole
transaction (the savepoint cannot be rolled back to) does the error go to the caller, whose
transaction is lost as well and is tried again (bot/stores.py).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa

from bot.privacy import mask_text
from bot.settings import current_value
from bot.staff import db, summary

logger = logging.getLogger(__name__)

FEEDBACK_SLOT = "feedback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback"}
FALLBACK_INTENTS = {"nlu_fallback"}
# The assistant asks the person to put the question differently (actions/messages.py REPHRASE).
REPHRASE_MARKERS = ("换个说法", "没有完全理解")
MAX_TEXT = 4000


def timezone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_value("staff_timezone"))


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone()).strftime("%Y-%m-%d")


def _short(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _entities(parse: Dict[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for e in parse.get("entities") or []:
        if isinstance(e, dict):
            out.append({k: mask_text(e.get(k)) for k in ("entity", "value", "extractor")
                        if e.get(k) is not None})
    return out


class _Turn:
    """One person's message and what the assistant answered, while a save is being indexed."""

    def __init__(self, row: Dict[str, Any], row_id: Optional[int] = None,
                 before: Optional[Dict[str, Any]] = None) -> None:
        self.row = row
        self.id = row_id
        self.before = before  # the stored row, when this turn is one stored earlier
        self.answers: List[str] = [row["answer"]] if row.get("answer") else []
        self.clauses: List[str] = json.loads(row.get("clauses") or "[]")
        self.new_clauses: List[str] = []
        self.changed = row_id is None

    def add_bot(self, event: Dict[str, Any]) -> None:
        data = event.get("data") or {}
        custom = data.get("custom") if isinstance(data.get("custom"), dict) else {}
        if custom.get("staff_reply"):
            return  # a staff reply to a ticket, kept with the ticket
        text = event.get("text")
        if text:
            self.answers.append(mask_text(text))
            if any(m in text for m in REPHRASE_MARKERS) and not custom.get("out_of_scope"):
                self.row["rephrase"] = True
        for cite in custom.get("citations") or []:
            cid = cite.get("clause_id") if isinstance(cite, dict) else None
            if cid and cid not in self.clauses:
                self.clauses.append(str(cid))
                self.new_clauses.append(str(cid))
        eligibility = custom.get("eligibility")
        if isinstance(eligibility, dict) and eligibility.get("verdict"):
            self.row["verdict"] = str(eligibility["verdict"])[:16]
        if custom.get("out_of_scope") is True:
            self.row["out_of_scope"] = True
        handoff = custom.get("handoff")
        if isinstance(handoff, dict):
            if handoff.get("offer"):
                self.row["handoff_offered"] = True
            else:
                self.row["handoff"] = True
        ts = event.get("timestamp")
        if isinstance(ts, (int, float)):
            if self.row.get("bot_first_ts") is None:
                self.row["bot_first_ts"] = ts
            self.row["bot_last_ts"] = ts
            self.row["latency_ms"] = max(0, int(round((ts - self.row["ts"]) * 1000)))
        self.changed = True

    def finish(self) -> Dict[str, Any]:
        self.row["answer"] = _short("\n".join(a for a in self.answers if a)) or None
        self.row["clauses"] = json.dumps(self.clauses, ensure_ascii=False)
        return self.row


def user_row(sender: str, event: Dict[str, Any]) -> Dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ts = float(event.get("timestamp") or 0.0)
    metadata = event.get("metadata") or {}
    name = intent.get("name")
    return {
        "sender_id": sender,
        "channel": (event.get("input_channel") or "")[:32] or None,
        "ts": ts,
        "day": day_of(ts),
        "user_text": _short(mask_text(event.get("text") or "")),
        "intent": name[:64] if isinstance(name, str) else None,
        "confidence": intent.get("confidence") if isinstance(intent.get("confidence"), (int, float)) else None,
        "entities": json.dumps(_entities(parse), ensure_ascii=False),
        "answer": None,
        "clauses": "[]",
        "verdict": None,
        "out_of_scope": False,
        "fallback": name in FALLBACK_INTENTS,
        "rephrase": False,
        "handoff": bool(isinstance(metadata, dict) and metadata.get("handoff")),
        "handoff_offered": False,
        "bot_first_ts": None,
        "bot_last_ts": None,
        "latency_ms": None,
    }


_INSERT_TURN = db.turns.insert()
_INSERT_CONVERSATION = db.conversations.insert()
_BUILT: Dict[Any, Any] = {}


def _update_turn(columns: tuple):
    """UPDATE of a stored turn's columns, its id given as ``turn_id``."""
    stmt = _BUILT.get(("turn", columns))
    if stmt is None:
        stmt = _BUILT[("turn", columns)] = db.turns.update().where(
            db.turns.c.id == sa.bindparam("turn_id")).values({c: sa.bindparam(c) for c in columns})
    return stmt


def _conversation_update(dialect: str):
    """A conversation's row after new turns: the latest time, the turns added, the last text."""
    stmt = _BUILT.get(("conversation", dialect))
    if stmt is None:
        c = db.conversations.c
        latest = sa.func.max if dialect == "sqlite" else sa.func.greatest
        stmt = _BUILT[("conversation", dialect)] = db.conversations.update().where(
            c.sender_id == sa.bindparam("of_sender")).values(
            last_ts=latest(c.last_ts, sa.bindparam("new_last_ts")), turns=c.turns + sa.bindparam("new_turns"),
            last_text=sa.bindparam("new_last_text"))
    return stmt


class TurnIndex:
    """Writes the console's index for the events one save adds (see the module docstring)."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        db.ensure_schema(engine)

    def record(self, sender: str, events: Iterable[Dict[str, Any]],
               conn: Optional[sa.engine.Connection] = None) -> None:
        """Indexes the events. With ``conn`` (a connection of this engine's database inside a
        transaction that has already written, such as the one that inserted these events), the rows
        are written in a savepoint of that transaction and committed with it; without it, in a
        transaction of their own. With SQLite the transaction must have written before (pysqlite
        begins a transaction only at the first write, so a SAVEPOINT first would be a transaction
        of its own, committed at its release)."""
        events = list(events)
        if not any(e.get("event") in ("user", "bot", "action", "slot") for e in events):
            return
        if conn is None:
            try:
                with self.engine.begin() as own:
                    self._record(own, sender, events)
            except Exception:
                logger.exception("the staff console's index missed a turn of a conversation")
            return
        savepoint = conn.begin_nested()
        try:
            self._record(conn, sender, events)
        except Exception:
            logger.exception("the staff console's index missed a turn of a conversation")
            savepoint.rollback()  # fails only when the whole transaction is lost: to the caller
            return
        savepoint.commit()

    def _record(self, conn: sa.engine.Connection, sender: str, events: List[Dict[str, Any]]) -> None:
        current: Optional[_Turn] = None
        done: List[_Turn] = []
        ratings: List[Dict[str, Any]] = []
        for e in events:
            kind = e.get("event")
            if kind == "user":
                if current is not None:
                    done.append(current)
                current = _Turn(user_row(sender, e))
            elif kind == "bot":
                if current is None:
                    current = self._latest(conn, sender)
                if current is not None:
                    current.add_bot(e)
            elif kind == "action" and e.get("name") in FALLBACK_ACTIONS:
                if current is None:
                    current = self._latest(conn, sender)
                if current is not None:
                    current.row["fallback"] = True
                    current.changed = True
            elif kind == "slot" and e.get("name") == FEEDBACK_SLOT and isinstance(e.get("value"), dict):
                ratings.append(e["value"])
        if current is not None:
            done.append(current)
        new_turns = 0
        last_text = None
        last_ts = None
        deltas: summary.Deltas = {}
        for t in done:
            if not t.changed:
                continue
            row = t.finish()
            # (the statements are built once and given their values as parameters: building a
            # statement with its values coerces each of them, at every turn)
            if t.id is None:
                t.id = conn.execute(_INSERT_TURN, row).inserted_primary_key[0]
                new_turns += 1
                last_text = row["user_text"]
            else:
                conn.execute(_update_turn(tuple(row)), dict(row, turn_id=t.id))
            if t.before is not None:
                summary.contribution(t.before, json.loads(t.before.get("clauses") or "[]"), -1, deltas)
            summary.contribution(dict(t.before or {}, **row), t.clauses, 1, deltas)
            summary.search_row(conn, t.id, sender, row["user_text"], row["answer"], new=t.before is None)
            if t.new_clauses:
                conn.execute(db.turn_clauses.insert(), [
                    {"turn_id": t.id, "clause_id": c[:64], "ts": row["ts"]} for c in t.new_clauses])
            last_ts = max(last_ts or 0.0, row.get("bot_last_ts") or row["ts"])
        if new_turns:
            self._conversation(conn, sender, done, new_turns, last_text, last_ts)
        for value in ratings:
            self._rate(conn, sender, value, deltas)
        summary.apply(conn, deltas)

    @staticmethod
    def _latest(conn, sender: str) -> Optional[_Turn]:
        row = conn.execute(
            sa.select(db.turns).where(db.turns.c.sender_id == sender)
            .order_by(db.turns.c.ts.desc()).limit(1)).mappings().first()
        if row is None:
            return None
        data = dict(row)
        row_id = data.pop("id")
        before = dict(data)
        for k in ("rating", "rating_reason", "rating_comment", "rated_at"):
            data.pop(k, None)
        return _Turn(data, row_id, before)

    @staticmethod
    def _conversation(conn, sender: str, done: List[_Turn], new_turns: int,
                      last_text: Optional[str], last_ts: Optional[float]) -> None:
        first = min(t.row["ts"] for t in done)
        channel = next((t.row["channel"] for t in done if t.row.get("channel")), None)
        updated = conn.execute(_conversation_update(conn.dialect.name), {
            "of_sender": sender, "new_last_ts": last_ts, "new_turns": new_turns, "new_last_text": last_text}).rowcount
        if not updated:
            conn.execute(_INSERT_CONVERSATION, {
                "sender_id": sender, "channel": channel, "first_ts": first, "last_ts": last_ts or first,
                "turns": new_turns, "last_text": last_text, "up": 0, "down": 0})

    @staticmethod
    def _rate(conn, sender: str, value: Dict[str, Any], deltas: summary.Deltas) -> None:
        ts = value.get("bot_timestamp")
        helpful = value.get("helpful")
        if not isinstance(ts, (int, float)) or not isinstance(helpful, bool):
            return
        t = db.turns.c
        row = conn.execute(
            sa.select(db.turns).where(t.sender_id == sender, t.ts <= float(ts) + 1e-6)
            .order_by(t.ts.desc()).limit(1)).first()
        if row is None:
            return
        rating = 1 if helpful else -1
        before = dict(row._mapping)
        clauses = json.loads(before.get("clauses") or "[]")
        summary.contribution(before, clauses, -1, deltas)
        summary.contribution(dict(before, rating=rating), clauses, 1, deltas)
        reason = value.get("reason")
        conn.execute(db.turns.update().where(t.id == row.id).values(
            rating=rating,
            rating_reason=str(reason)[:64] if reason else None,
            rating_comment=_short(mask_text(value.get("comment"))) or None,
            rated_at=value.get("rated_at") if isinstance(value.get("rated_at"), (int, float)) else None,
        ))
        c = db.conversations.c
        delta = {"up": c.up, "down": c.down}
        values = {}
        if row.rating != rating:
            if row.rating == 1:
                values["up"] = c.up - 1
            elif row.rating == -1:
                values["down"] = c.down - 1
            key = "up" if rating == 1 else "down"
            values[key] = delta[key] + 1
            conn.execute(db.conversations.update().where(c.sender_id == sender).values(**values))
