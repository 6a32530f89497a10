"""The search rows and daily counts the index keeps as it stores turns (bot/staff/summary.py):
the dashboard read from them equals the dashboard counted from every turn, after answers, later
bot messages, fallbacks and changed ratings; a rebuild from the turns gives the same rows; free
text finds words in the person's text and in the answer."""
from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import ROOT
from bot.staff import db, queries, summary
from bot.stores import SQLTrackerStore

DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


@pytest.fixture
def store(tmp_path):
    s = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    yield s
    s.engine.dispose()


def save(store, sender, *events):
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen")])
    for e in events:
        tracker.update(e)
    asyncio.run(store.save(tracker))


def turn(store, sender, text, answer, ts, channel="widget", intent="ask_clause", confidence=0.9, custom=None):
    save(store, sender,
         UserUttered(text, intent={"name": intent, "confidence": confidence}, timestamp=ts, input_channel=channel),
         ActionExecuted("action_answer", timestamp=ts + 0.1),
         BotUttered(answer, {"custom": custom or {}}, timestamp=ts + 0.2 + (ts % 7) / 10),
         ActionExecuted("action_listen", timestamp=ts + 1))
    return ts + 0.2 + (ts % 7) / 10


def rate(store, sender, bot_ts, helpful):
    save(store, sender, SlotSet("feedback", {"helpful": helpful, "bot_timestamp": bot_ts, "rated_at": bot_ts + 3}))


def comparable(d):
    d = dict(d)
    d["top_clauses"] = sorted((c["clause_id"], c["count"], c["down"]) for c in d["top_clauses"])
    d["per_channel"] = sorted((c["channel"], c["questions"]) for c in d["per_channel"])
    d["verdicts"] = sorted((v["verdict"], v["count"]) for v in d["verdicts"])
    return d


def daily_rows(engine):
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in db.SUMMARY_TABLES}


def test_daily_counts_follow_every_change_and_equal_the_turns(store):
    now = 1_790_000_000.0
    b1 = turn(store, "widget:a", "博士后出站补助我能拿吗", "博士后……【原文】……", now - 3 * 86400,
              intent="ask_eligibility", custom={"citations": [{"clause_id": "m1"}],
                                                "eligibility": {"verdict": "need_info"}})
    b2 = turn(store, "widget:a", "去遂昌", "符合……", now - 3 * 86400 + 60,
              custom={"citations": [{"clause_id": "m1"}, {"clause_id": "m4"}], "eligibility": {"verdict": "eligible"}})
    rate(store, "widget:a", b2, False)
    rate(store, "widget:a", b2, True)   # changed its mind
    rate(store, "widget:a", b1, False)
    turn(store, "wechat:b", "社保卡丢了", "抱歉，这个问题不在……", now - 86400, channel="wechat",
         intent="out_of_scope", custom={"out_of_scope": True})
    # A later save adds a bot message (the offer to leave a message) and a fallback to the turn.
    save(store, "wechat:b", BotUttered("如需工作人员答复，您可以给我们留言", {"custom": {"handoff": {"offer": "asked"}}},
                                       timestamp=now - 86400 + 5),
         ActionExecuted("action_default_fallback", timestamp=now - 86400 + 6))
    turn(store, "rest:c", "开化县是山区县吗", "开化县属于山区26县。", now - 3600, channel="rest", confidence=0.4)

    e = store.engine
    incremental = daily_rows(e)
    summary.rebuild_daily(e)
    assert daily_rows(e) == incremental
    args = {"from": "2026-09-01", "to": "2026-09-30"}
    for extra in ({}, {"channel": "widget"}, {"channel": "wechat"}):
        fast = queries.dashboard(e, queries.parse_filters({**args, **extra}))
        slow = queries.dashboard_over_turns(e, queries.parse_filters({**args, **extra}))
        assert comparable(fast) == comparable(slow), extra
    fast = queries.dashboard(e, queries.parse_filters(args))
    assert fast["questions"] == 4 and fast["conversations"] == 3
    assert fast["ratings"] == {"up": 1, "down": 1, "down_share": 0.5}
    assert {(c["clause_id"], c["count"], c["down"]) for c in fast["top_clauses"]} == {("m1", 2, 1), ("m4", 1, 0)}
    assert fast["answered_share"] == 0.75


def test_the_daily_count_and_answer_statements_are_compiled_once_not_at_every_turn(store):
    """These statements run in every save: after the first turn of a kind, each is found in the
    engine's statement cache (SQLAlchemy 1.4 compiles its dialects' ``ON CONFLICT`` inserts anew
    at every execution, reported as NO_CACHE_KEY)."""
    t0 = 1_790_000_000.0
    custom = {"citations": [{"clause_id": "m1"}], "eligibility": {"verdict": "eligible"}}
    rate(store, "widget:w", turn(store, "widget:w", "问题一", "回答一", t0, custom=custom), False)
    seen = []

    @sa.event.listens_for(store.engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if any(f"INTO {t.name} " in statement for t in (*db.SUMMARY_TABLES, db.answers)):
            seen.append((statement.split("(")[0].strip(), context.cache_hit))

    for i in range(1, 4):  # new answer texts, new senders, the same day and channel, ratings
        bot_ts = turn(store, f"widget:w{i}", f"问题{i}", f"回答{i}", t0 + 100 * i, custom=custom)
        rate(store, f"widget:w{i}", bot_ts, True)
    sa.event.remove(store.engine, "after_cursor_execute", record)
    kinds = {s for s, _ in seen}
    assert {f"INSERT INTO {t.name}" for t in (*db.SUMMARY_TABLES, db.answers)} <= kinds
    dialect = store.engine.dialect
    assert [(s, hit) for s, hit in seen if hit is not dialect.CACHE_HIT] == []
    incremental = daily_rows(store.engine)
    summary.rebuild_daily(store.engine)  # and the counts are those of the turns
    assert daily_rows(store.engine) == incremental
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(db.daily.c.questions, db.daily.c.up, db.daily.c.down)).all() == [(4, 3, 1)]


def test_free_text_is_found_in_the_question_and_in_the_answer(store):
    turn(store, "widget:q", "飞地人才落户", "【原文】……享受同等待遇……", 1_790_000_000.0)
    turn(store, "widget:r", "你好", "您好，请问有什么可以帮您？", 1_790_000_100.0)
    turn(store, "widget:s", "子女上学呢", "【原文】……享受同等待遇……", 1_790_000_200.0)
    e = store.engine

    def ids(**args):
        return [c["id"] for c in queries.list_conversations(e, queries.parse_filters(args))["items"]]

    assert ids(q="飞地") == ["widget:q"]
    assert ids(q="同等待遇") == ["widget:s", "widget:q"]
    with e.connect() as conn:  # one answer text stored once for both turns
        assert conn.execute(sa.select(sa.func.count()).select_from(db.answers)).scalar() == 2
    # A database indexed before the search rows existed gets them at once.
    with e.begin() as conn:
        conn.execute(db.turn_text.delete())
    assert ids(q="飞地") == []
    summary.rebuild_search(e)
    assert ids(q="飞地") == ["widget:q"]


@pytest.mark.parametrize("window_factor", [1, 20])
def test_a_filtered_list_pages_the_same_whether_found_among_the_newest_or_through_the_turns(
        store, monkeypatch, window_factor):
    monkeypatch.setattr(queries, "LIST_WINDOW_FACTOR", window_factor)
    t0 = 1_790_000_000.0
    for i in range(30):
        custom = {"citations": [{"clause_id": "m7"}]} if i % 3 == 0 else {}
        bot_ts = turn(store, f"widget:p{i:02d}", "技能人才怎么评" if i % 3 == 0 else "开化县是山区县吗", "……",
                      t0 + i * 100, custom=custom)
        if i % 10 == 0:
            rate(store, f"widget:p{i:02d}", bot_ts, False)
    e = store.engine

    def page(**args):
        out = queries.list_conversations(e, queries.parse_filters(args))
        return [c["id"] for c in out["items"]], out["has_more"]

    newest = [f"widget:p{i:02d}" for i in reversed(range(30))]
    assert page(channel="widget", per_page="5", page="2") == (newest[5:10], True)
    m7 = [s for s in newest if int(s[-2:]) % 3 == 0]
    assert page(clause="m7", per_page="4") == (m7[:4], True)
    assert page(clause="m7", per_page="4", page="3") == (m7[8:], False)
    assert page(rating="down", per_page="2") == (["widget:p20", "widget:p10"], True)
    assert page(rating="down", q="技能", per_page="2") == (["widget:p00"], False)
    assert page(rating="down", q="技能", per_page="2", page="2") == ([], False)


def test_a_stored_turn_is_indexed_in_few_statements_each_found_in_the_statement_cache(store):
    """What a turn costs the console's index: its row, its text, its clauses, its conversation and
    one statement for each daily table (the rows of a table in one execution), every one of them
    compiled once (values are parameters, not built into the statement at every turn)."""
    t0 = 1_790_000_000.0
    custom = {"citations": [{"clause_id": "m1"}, {"clause_id": "scope"}], "eligibility": {"verdict": "eligible"}}
    bot_ts = turn(store, "widget:s", "问题〇", "回答〇", t0, custom=custom)
    save(store, "widget:s", BotUttered("补充一句", {"custom": {}}, timestamp=bot_ts + 1))  # a stored turn updated
    staff = tuple(t.name for t in db.metadata.sorted_tables if t.name.startswith("staff_"))
    seen = []

    @sa.event.listens_for(store.engine, "after_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if any(name in statement for name in staff):
            seen.append((statement.split("(")[0].strip()[:60], context.cache_hit))

    turn(store, "widget:s", "问题一", "回答一", t0 + 100, custom=custom)
    save(store, "widget:s", BotUttered("补充一句", {"custom": {}}, timestamp=t0 + 105))
    sa.event.remove(store.engine, "after_cursor_execute", record)
    dialect = store.engine.dialect
    assert [(s, hit) for s, hit in seen if hit is not dialect.CACHE_HIT] == []
    # the new turn (12): its row, its answer (looked up, added, found), its text, its clauses, its
    # conversation, one for each of five daily tables; the later message (8): the turn looked up and
    # updated, its answer, its text, the latency counts moved (both rows at once) and the emptied one dropped
    assert len(seen) <= 20, seen
    incremental = daily_rows(store.engine)
    summary.rebuild_daily(store.engine)
    assert daily_rows(store.engine) == incremental
