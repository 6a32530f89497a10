"""`make purge` forgets a conversation in the staff console too: its turns, ratings, search rows,
tickets and pending message, and its share of the dashboard; conversations still within the
retention period keep all of theirs."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import ROOT
from bot.staff import db, handoff, queries
from bot.stores import SQLTrackerStore
from scripts.purge_conversations import purge

DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))
DAY = 86400.0
NOW = time.time()


def talk(store, sender, age_days, text, rating=None):
    ts = NOW - age_days * DAY
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen", timestamp=ts - 1)])
    events = [UserUttered(text, intent={"name": "ask_clause", "confidence": 0.9}, timestamp=ts,
                          input_channel="widget"),
              ActionExecuted("action_answer", timestamp=ts + 0.1),
              BotUttered("博士后出站补助……", {"custom": {"citations": [{"clause_id": "m1"}]}}, timestamp=ts + 0.2),
              ActionExecuted("action_listen", timestamp=ts + 0.3)]
    if rating is not None:
        events.append(SlotSet("feedback", {"helpful": rating, "bot_timestamp": ts + 0.2, "reason": "回答错误",
                                           "rated_at": ts + 5}, timestamp=ts + 5))
    for e in events:
        tracker.update(e)
    asyncio.run(store.save(tracker))


def rows_of(engine, sender):
    t, k = db.turns.c, db.tickets.c
    with engine.connect() as conn:
        def n(table, cond):
            return conn.execute(sa.select(sa.func.count()).select_from(table).where(cond)).scalar()
        tickets = [r[0] for r in conn.execute(sa.select(k.id).where(k.sender_id == sender))]
        turn_ids = [r[0] for r in conn.execute(sa.select(t.id).where(t.sender_id == sender))]
        return {
            "turns": len(turn_ids),
            "rated": n(db.turns, sa.and_(t.sender_id == sender, t.rating.isnot(None))),
            "clauses": n(db.turn_clauses, db.turn_clauses.c.turn_id.in_(turn_ids or [-1])),
            "search": n(db.turn_text, db.turn_text.c.sender_id == sender),
            "conversation": n(db.conversations, db.conversations.c.sender_id == sender),
            "tickets": len(tickets),
            "ticket_messages": n(db.ticket_messages, db.ticket_messages.c.ticket_id.in_(tickets or [-1])),
            "pending": n(db.handoff_pending, db.handoff_pending.c.sender_id == sender),
            "daily": n(db.daily_conversations, db.daily_conversations.c.sender_id == sender),
        }


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "tracker.db"
    store = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
    talk(store, "widget:old", 200, "博士后出站补助有多少", rating=False)
    talk(store, "widget:old", 199, "我的电话13812345678")
    talk(store, "widget:new", 3, "博士后出站补助有多少", rating=True)
    handoff.create_ticket(store.engine, "widget:old", "widget", "widget:old", "请联系我", "asked")
    handoff.create_ticket(store.engine, "widget:new", "widget", "widget:new", "请联系我", "asked")
    handoff.set_pending(store.engine, "widget:old", "widget", "asked")
    store.engine.dispose()
    yield path


def test_purge_forgets_the_console_rows_of_purged_conversations(database):
    url = f"sqlite:///{database}"
    engine = db.engine_for(url)
    before_old, before_new = rows_of(engine, "widget:old"), rows_of(engine, "widget:new")
    assert before_old == {"turns": 2, "rated": 1, "clauses": 2, "search": 2, "conversation": 1, "tickets": 1,
                          "ticket_messages": 1, "pending": 1, "daily": 2}
    every_day = {"from": time.strftime("%Y-%m-%d", time.localtime(NOW - 400 * DAY))}
    dashboard = queries.dashboard(engine, queries.parse_filters(every_day))
    assert dashboard["questions"] == 3 and dashboard["ratings"]["down"] == 1

    dry = purge(url, days=180, now=NOW, dry_run=True)
    assert dry.console_conversations == 1 and rows_of(engine, "widget:old") == before_old
    result = purge(url, days=180, now=NOW)
    assert result.conversations == 1 and result.console_conversations == 1
    assert set(rows_of(engine, "widget:old").values()) == {0}
    assert rows_of(engine, "widget:new") == before_new
    # The dashboard no longer counts it, whether read from the daily counts or from the turns.
    for read in (queries.dashboard, queries.dashboard_over_turns):
        d = read(engine, queries.parse_filters(every_day))
        assert d["questions"] == 1 and d["ratings"] == {"up": 1, "down": 0, "down_share": 0.0}, read
    assert [c["id"] for c in queries.list_conversations(engine, queries.parse_filters({}))["items"]] == ["widget:new"]
    assert queries.list_conversations(engine, queries.parse_filters({"q": "13812345678"}))["items"] == []
    with engine.connect() as conn:  # the old conversation's answer text is no longer needed by any turn
        assert conn.execute(sa.select(sa.func.count()).select_from(db.answers)).scalar() == 1


def test_console_rows_left_by_an_earlier_purge_are_forgotten(database):
    """Events deleted before the purge knew about the console: its rows go at the next run."""
    url = f"sqlite:///{database}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events WHERE sender_id = 'widget:old'"))
    engine.dispose()
    out = subprocess.run([sys.executable, "scripts/purge_conversations.py", "--days", "180", "--db-url", url],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "deleted 0 events of 1 conversations" in out.stdout and "console's rows of 1" in out.stdout
    assert set(rows_of(db.engine_for(url), "widget:old").values()) == {0}
    assert rows_of(db.engine_for(url), "widget:new")["turns"] == 1
