"""The staff console's own tables, in the conversation database (``TRACKER_DB_URL``).

Rasa's ``events`` table is never read by the console: scanning JSON events of every
conversation would be slow and would compete with the conversations for the database. Instead
the tracker store fills a small index as it stores each turn (`bot.staff.turns`), and the
console reads only these tables:

- ``staff_users``, ``staff_sessions``, ``staff_audit``: accounts, sign-in sessions, who did what;
- ``staff_conversations``, ``staff_turns``, ``staff_turn_clauses``: one row per conversation, per
  turn (the person's text masked, the NLU's reading, the answer, its clauses, verdict, flags,
  latency, rating), and per clause a turn cites;
- ``staff_turn_text``, ``staff_answers``: what free text is searched in (the person's text, and
  each distinct answer once);
- ``staff_daily*``: the dashboard's counts per day and channel (`bot.staff.summary`);
- ``staff_reviewed``: groups of unanswered questions staff have looked at;
- ``staff_tickets``, ``staff_ticket_messages``, ``staff_handoff_pending``: hand-off to a person.

SQLite (the embedded default) and PostgreSQL both work; the tables are created when missing.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Dict, Optional

import sqlalchemy as sa

from bot.settings import current_value

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

users = sa.Table(
    "staff_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # "view" (查看) | "manage" (管理)
    sa.Column("display_name", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.Float),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
)

sessions = sa.Table(
    "staff_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

audit = sa.Table(
    "staff_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("username", sa.String(64)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(255)),
    sa.Column("detail", sa.Text),
    sa.Column("ip", sa.String(64)),
)

conversations = sa.Table(
    "staff_conversations", metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), index=True),
    sa.Column("first_ts", sa.Float, nullable=False),
    sa.Column("last_ts", sa.Float, nullable=False, index=True),
    sa.Column("turns", sa.Integer, nullable=False, default=0),
    sa.Column("last_text", sa.Text),
    sa.Column("up", sa.Integer, nullable=False, default=0),
    sa.Column("down", sa.Integer, nullable=False, default=0),
)

turns = sa.Table(
    "staff_turns", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("ts", sa.Float, nullable=False, index=True),
    sa.Column("day", sa.String(10), nullable=False, index=True),
    sa.Column("user_text", sa.Text),
    sa.Column("intent", sa.String(64)),
    sa.Column("confidence", sa.Float),
    sa.Column("entities", sa.Text),  # JSON list
    sa.Column("answer", sa.Text),
    sa.Column("clauses", sa.Text),  # JSON list of clause ids
    sa.Column("verdict", sa.String(16)),
    sa.Column("out_of_scope", sa.Boolean, nullable=False, default=False),
    sa.Column("fallback", sa.Boolean, nullable=False, default=False),
    sa.Column("rephrase", sa.Boolean, nullable=False, default=False),
    sa.Column("handoff", sa.Boolean, nullable=False, default=False),  # a 留言 exchange
    sa.Column("handoff_offered", sa.Boolean, nullable=False, default=False),
    sa.Column("bot_first_ts", sa.Float),
    sa.Column("bot_last_ts", sa.Float),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("rating", sa.Integer),  # 1 helpful, -1 not helpful
    sa.Column("rating_reason", sa.String(64)),
    sa.Column("rating_comment", sa.Text),
    sa.Column("rated_at", sa.Float),
    sa.Index("ix_staff_turns_sender_ts", "sender_id", "ts"),
    # Filters that keep few turns are found through these, not by reading every turn.
    sa.Index("ix_staff_turns_rating_ts", "rating", "ts"),
    sa.Index("ix_staff_turns_verdict_ts", "verdict", "ts"),
    sa.Index("ix_staff_turns_handoff_ts", "handoff", "ts"),
)

turn_clauses = sa.Table(
    "staff_turn_clauses", metadata,
    sa.Column("turn_id", sa.Integer, nullable=False, index=True),
    sa.Column("clause_id", sa.String(64), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Index("ix_staff_turn_clauses_clause_ts", "clause_id", "ts"),
)

# Free text is searched in narrow rows (the person's text and a reference to the answer), and
# each distinct answer text is kept once: the assistant gives the same answer to many people,
# and scanning a long answer per turn would make a search for a rare word slow.
answers = sa.Table(
    "staff_answers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),  # SHA-256 of the text
    sa.Column("text", sa.Text, nullable=False),
)

turn_text = sa.Table(
    "staff_turn_text", metadata,
    sa.Column("turn_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("user_text", sa.Text),
    sa.Column("answer_id", sa.Integer, index=True),
)

# The dashboard's figures per day and channel, kept up to date by the index as it writes each
# turn (bot/staff/summary.py), so that a month or half a year is a few hundred rows to add up.
daily = sa.Table(
    "staff_daily", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),  # "" when the turn had none
    sa.Column("questions", sa.Integer, nullable=False, default=0),
    sa.Column("answered", sa.Integer, nullable=False, default=0),
    sa.Column("up", sa.Integer, nullable=False, default=0),
    sa.Column("down", sa.Integer, nullable=False, default=0),
)

daily_conversations = sa.Table(
    "staff_daily_conversations", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, default=0),
    sa.Index("ix_staff_daily_conversations_sender", "sender_id"),
)

daily_verdicts = sa.Table(
    "staff_daily_verdicts", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("verdict", sa.String(16), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, default=0),
)

daily_clauses = sa.Table(
    "staff_daily_clauses", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("clause_id", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, default=0),
    sa.Column("down", sa.Integer, nullable=False, default=0),
)

daily_latency = sa.Table(
    "staff_daily_latency", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("latency_ms", sa.Integer, primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, default=0),
)

SUMMARY_TABLES = (daily, daily_conversations, daily_verdicts, daily_clauses, daily_latency)

reviewed = sa.Table(
    "staff_reviewed", metadata,
    sa.Column("text_key", sa.String(255), primary_key=True),
    sa.Column("username", sa.String(64)),
    sa.Column("at", sa.Float, nullable=False),
)

tickets = sa.Table(
    "staff_tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(32)),
    sa.Column("reply_to", sa.String(255)),  # where a reply goes (the WeChat openid)
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open | answered | closed
    sa.Column("reason", sa.String(32)),  # asked | failures
    sa.Column("message", sa.Text),  # masked
    sa.Column("contact", sa.String(255)),  # as the person gave it, for staff to reach them
    sa.Column("transcript", sa.Text),  # JSON: the conversation so far, masked
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text),
)

ticket_messages = sa.Table(
    "staff_ticket_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket_id", sa.Integer, nullable=False, index=True),
    sa.Column("author", sa.String(16), nullable=False),  # user | staff
    sa.Column("username", sa.String(64)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("delivered", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
)

handoff_pending = sa.Table(
    "staff_handoff_pending", metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32)),
    sa.Column("reason", sa.String(32)),
    sa.Column("since", sa.Float, nullable=False),
)


def database_url() -> str:
    """TRACKER_DB_URL: the conversations' database, which holds the console's tables too."""
    return current_value("tracker_db_url")


_engines: Dict[tuple, sa.engine.Engine] = {}
_engines_lock = threading.Lock()
_schema_done: Dict[str, bool] = {}


def engine_for(url: Optional[str] = None) -> sa.engine.Engine:
    """One engine per database and process (a forked worker gets its own pool)."""
    url = url or database_url()
    key = (url, os.getpid())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            kwargs = {}
            if url.startswith("sqlite"):
                # Readers never wait for writers in WAL mode; a writer waits for another.
                kwargs = {"connect_args": {"check_same_thread": False, "timeout": 10}}
            else:
                kwargs = {"pool_pre_ping": True, "pool_size": 4, "max_overflow": 4}
            engine = sa.create_engine(url, **kwargs)
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            _engines[key] = engine
        return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def ensure_schema(engine: sa.engine.Engine) -> None:
    """Creates the console's tables when missing (several workers may race: retried)."""
    key = str(engine.url)
    if _schema_done.get(key):
        return
    for attempt in range(5):
        try:
            existing = set(sa.inspect(engine).get_table_names())
            metadata.create_all(engine, checkfirst=True)
            # create_all skips the indexes of a table that exists: an older database gets the
            # ones added since.
            for table in metadata.sorted_tables:
                if table.name in existing:
                    for index in table.indexes:
                        index.create(engine, checkfirst=True)
            if (answers.name not in existing or daily.name not in existing) and turns.name in existing:
                from bot.staff import summary

                try:
                    summary.rebuild(engine)  # a database indexed before these tables existed
                except Exception:
                    logger.exception("staff console: the search and dashboard tables could not be "
                                     "filled from the index; run `python -m bot.staff.summary`")
            _schema_done[key] = True
            return
        except sa.exc.OperationalError as e:
            if attempt == 4:
                raise
            logger.debug("staff tables not created yet (%s); retrying", e)
            time.sleep(0.2 * (attempt + 1))
        except sa.exc.ProgrammingError:  # PostgreSQL: another process created one meanwhile
            time.sleep(0.2)
