"""Forgetting conversations in the console's tables, for the retention purge
(scripts/purge_conversations.py, `make purge`).

A purged conversation leaves nothing in the console: its index rows (turns, cited clauses,
search rows, ratings, which live on the turns), its row in the conversation list, its hand-off
tickets with their messages, a pending 留言, and its rows in the dashboard's daily counts (the
days it had turns on are recomputed from the turns that remain).
"""
from __future__ import annotations

from typing import List, Sequence, Set

import sqlalchemy as sa

from bot.staff import db, summary


def present(engine: sa.engine.Engine) -> bool:
    """Whether the console's tables exist in this database (the console may never have run)."""
    return sa.inspect(engine).has_table(db.turns.name)


def stale_conversations(conn, cutoff: float) -> List[str]:
    """Conversations the console knows whose last turn is older than ``cutoff`` (also those
    whose events an earlier purge already deleted)."""
    c = db.conversations.c
    return [r[0] for r in conn.execute(sa.select(c.sender_id).where(c.last_ts < cutoff))]


def forget(conn, senders: Sequence[str]) -> Set[str]:
    """Deletes the console's rows of these conversations, in the caller's transaction; returns
    the days whose daily counts must be recomputed (`summary.rebuild_daily`)."""
    senders = list(senders)
    if not senders:
        return set()
    t, k = db.turns.c, db.tickets.c
    days = {r[0] for r in conn.execute(sa.select(sa.distinct(t.day)).where(t.sender_id.in_(senders)))}
    turn_ids = sa.select(t.id).where(t.sender_id.in_(senders)).scalar_subquery()
    ticket_ids = sa.select(k.id).where(k.sender_id.in_(senders)).scalar_subquery()
    conn.execute(db.turn_clauses.delete().where(db.turn_clauses.c.turn_id.in_(turn_ids)))
    conn.execute(db.turn_text.delete().where(db.turn_text.c.sender_id.in_(senders)))
    conn.execute(db.turns.delete().where(t.sender_id.in_(senders)))
    conn.execute(db.conversations.delete().where(db.conversations.c.sender_id.in_(senders)))
    conn.execute(db.ticket_messages.delete().where(db.ticket_messages.c.ticket_id.in_(ticket_ids)))
    conn.execute(db.tickets.delete().where(k.sender_id.in_(senders)))
    conn.execute(db.handoff_pending.delete().where(db.handoff_pending.c.sender_id.in_(senders)))
    conn.execute(db.daily_conversations.delete().where(db.daily_conversations.c.sender_id.in_(senders)))
    return days


def forget_unused_answers(conn) -> int:
    """Answer texts no remaining turn refers to."""
    s, a = db.turn_text.c, db.answers.c
    return conn.execute(db.answers.delete().where(
        ~sa.exists().where(s.answer_id == a.id))).rowcount or 0


def recount(engine: sa.engine.Engine, days: Set[str]) -> None:
    if days:
        summary.rebuild_daily(engine, sorted(days))
