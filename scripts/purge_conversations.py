"""Deletes conversations that have been idle for longer than the retention period.

A conversation is kept while its last event is younger than CONVERSATION_RETENTION_DAYS days
(bot/settings.py); after that all its events are deleted from Rasa's SQL tracker store (the ``events``
table), in batches, and with them everything the staff console keeps of it (its turn index,
ratings, search rows, hand-off tickets and its share of the dashboard's daily counts,
bot/staff/retention.py), also for a conversation whose events an earlier purge deleted. Works on
any SQLAlchemy URL Rasa's SQL tracker store accepts (SQLite, PostgreSQL, ...).

    python scripts/purge_conversations.py [--days N] [--db-url URL] [--dry-run]

Run it daily (cron or a systemd timer, see docs/operations.md). Prints how many conversations
and events were (or, with --dry-run, would be) deleted; exit status 0, or 2 on a bad setting.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bot.settings import Settings  # noqa: E402
from bot.staff import retention  # noqa: E402

BATCH = 500


@dataclass
class PurgeResult:
    conversations: int
    events: int
    cutoff: float
    console_conversations: int = 0


def retention_days(value: Optional[str] = None) -> float:
    """``value`` (--days), else CONVERSATION_RETENTION_DAYS; a ValueError names what is wrong."""
    if value is None:
        return Settings.from_env(check=False).conversation_retention_days
    try:
        return Settings.from_env({"CONVERSATION_RETENTION_DAYS": value},
                                 check=False).conversation_retention_days
    except ValueError as e:
        raise ValueError(str(e).replace("CONVERSATION_RETENTION_DAYS=", "--days ", 1)) from None


def purge(db_url: str, days: float, now: Optional[float] = None, dry_run: bool = False) -> PurgeResult:
    """Deletes (or counts, with dry_run) every event of the conversations whose newest event is
    older than ``days`` days."""
    cutoff = (time.time() if now is None else now) - days * 86400
    engine = sa.create_engine(db_url)
    try:
        has_events = sa.inspect(engine).has_table("events")
        console = retention.present(engine)
        if not has_events and not console:
            return PurgeResult(0, 0, cutoff)
        senders: List[str] = []
        events = None
        if has_events:
            events = sa.Table("events", sa.MetaData(), autoload_with=engine)
            stale = (sa.select(events.c.sender_id)
                     .group_by(events.c.sender_id)
                     .having(sa.func.max(events.c.timestamp) < cutoff))
            with engine.connect() as conn:
                senders = [row[0] for row in conn.execute(stale)]
        if console:
            # The console's conversations whose events are gone already (or were never
            # stored, like a message left for staff only) are forgotten too.
            with engine.connect() as conn:
                known = set(senders)
                senders += [s for s in retention.stale_conversations(conn, cutoff) if s not in known]
        deleted = 0
        forgotten = 0
        days = set()
        for i in range(0, len(senders), BATCH):
            chunk = senders[i:i + BATCH]
            with engine.begin() as conn:
                if dry_run:
                    if events is not None:
                        deleted += conn.execute(sa.select(sa.func.count()).select_from(events)
                                                .where(events.c.sender_id.in_(chunk))).scalar() or 0
                    if console:
                        c = retention.db.conversations.c
                        forgotten += conn.execute(sa.select(sa.func.count()).where(
                            c.sender_id.in_(chunk))).scalar() or 0
                    continue
                # Re-checked inside the delete: a conversation that came back to life since
                # the selection keeps its events.
                with_alive = set()
                if events is not None:
                    alive = (sa.select(events.c.sender_id)
                             .where(events.c.sender_id.in_(chunk), events.c.timestamp >= cutoff))
                    with_alive = {row[0] for row in conn.execute(alive)}
                doomed = [s for s in chunk if s not in with_alive]
                if doomed and events is not None:
                    result = conn.execute(events.delete().where(events.c.sender_id.in_(doomed)))
                    deleted += result.rowcount or 0
                if doomed and console:
                    days |= retention.forget(conn, doomed)
                    forgotten += len(doomed)
        if console and not dry_run:
            with engine.begin() as conn:
                retention.forget_unused_answers(conn)
            retention.recount(engine, days)
        return PurgeResult(len(senders), deleted, cutoff, forgotten)
    finally:
        engine.dispose()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", help="retention in days (default: CONVERSATION_RETENTION_DAYS)")
    ap.add_argument("--db-url", help="tracker store URL (default: TRACKER_DB_URL)")
    ap.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    args = ap.parse_args(argv)
    try:
        days = retention_days(args.days)
        db_url = args.db_url or Settings.from_env(check=False).tracker_db_url
    except ValueError as e:
        print(f"purge: {e}", file=sys.stderr)
        return 2
    result = purge(db_url, days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"purge: {verb} {result.events} events of {result.conversations} conversations idle "
          f"for more than {days:g} days (last event before "
          f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(result.cutoff))}), and the staff "
          f"console's rows of {result.console_conversations} of them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
