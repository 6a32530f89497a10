"""The console's per-turn index is filled as the tracker store saves turns, and what the console
reads from it: masked text, NLU reading, flags, ratings, filters (with SQL metacharacters),
unanswered groups, NLU and CSV exports."""
from __future__ import annotations

import asyncio
import json
import logging

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import ROOT
from bot.staff import db, queries, turns
from bot.stores import SQLTrackerStore

DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))
T0 = 1_790_000_000.0


def say(store, sender, text, answer, intent="ask_clause", confidence=0.95, custom=None,
        ts=T0, channel="widget"):
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_listen", timestamp=ts - 1)])
    for e in [UserUttered(text, intent={"name": intent, "confidence": confidence}, timestamp=ts,
                          input_channel=channel),
              ActionExecuted("action_answer", timestamp=ts + 0.1),
              BotUttered(answer, {"custom": custom or {}}, timestamp=ts + 0.25),
              ActionExecuted("action_listen", timestamp=ts + 0.3)]:
        tracker.update(e)
    asyncio.run(store.save(tracker))
    return ts + 0.25


def rate(store, sender, bot_ts, helpful, comment=None):
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(SlotSet("feedback", {"helpful": helpful, "bot_timestamp": bot_ts, "comment": comment,
                                        "rated_at": bot_ts + 5}))
    asyncio.run(store.save(tracker))


@pytest.fixture
def store(tmp_path):
    return SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def test_turns_are_indexed_with_masked_text_reading_answer_and_rating(store):
    bot_ts = say(store, "widget:a1", "我手机13812345678，身份证330102199001011234，博士后补助",
                 "博士后出站补助……请留意", intent="ask_eligibility", confidence=0.83,
                 custom={"citations": [{"clause_id": "m1"}], "eligibility": {"verdict": "eligible"}})
    rate(store, "widget:a1", bot_ts, False, "没说金额 13900001111")
    data = queries.conversation(store.engine, "widget:a1")
    turn = data["turns_detail"][0]
    assert "13812345678" not in turn["text"] and "138****5678" in turn["text"]
    assert "330102199001011234" not in turn["text"]
    assert turn["intent"] == "ask_eligibility" and turn["confidence"] == pytest.approx(0.83)
    assert turn["clauses"] == ["m1"] and turn["verdict"] == "eligible"
    assert turn["latency_ms"] == 250
    assert turn["rating"]["helpful"] is False and "139****1111" in turn["rating"]["comment"]
    assert data["down"] == 1 and data["up"] == 0
    # A changed rating moves the conversation's count.
    rate(store, "widget:a1", bot_ts, True)
    data = queries.conversation(store.engine, "widget:a1")
    assert (data["up"], data["down"]) == (1, 0)


def _count(engine, table, sender):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)
                            .where(table.c.sender_id == sender)).scalar()


def _commits(store):
    commits = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(1))
    return commits


def rows_of(store, sender):
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"),
                            {"s": sender}).fetchall()


def test_a_turn_and_its_index_rows_are_committed_in_one_transaction(store):
    commits = _commits(store)
    for i in range(3):
        say(store, "widget:c1", f"第{i}个问题", "回答", ts=T0 + 10 * i)
        assert len(commits) == i + 1  # one commit per save, for the events and the index
        assert _count(store.engine, db.turns, "widget:c1") == i + 1
    assert [t["text"] for t in queries.conversation(store.engine, "widget:c1")["turns_detail"]] == \
        ["第0个问题", "第1个问题", "第2个问题"]


def test_an_index_error_rolls_back_only_the_index_and_the_turn_is_stored(store, monkeypatch, caplog):
    """The error comes after the turn's index row is written: that row goes, the events stay."""
    def broken(conn, deltas):
        raise RuntimeError("the daily counts cannot be written")

    commits = _commits(store)
    monkeypatch.setattr(turns.summary, "apply", broken)
    with caplog.at_level(logging.ERROR, logger="bot.staff.turns"):
        say(store, "widget:e1", "博士后补助有多少", "博士后补助……")
    assert len(commits) == 1
    assert "the staff console's index missed a turn of a conversation" in caplog.text
    assert "the daily counts cannot be written" in caplog.text
    tracker = asyncio.run(store.retrieve("widget:e1"))
    assert tracker.latest_message.text == "博士后补助有多少"
    assert tracker.latest_bot_utterance.text == "博士后补助……"
    assert _count(store.engine, db.turns, "widget:e1") == 0
    assert _count(store.engine, db.conversations, "widget:e1") == 0
    monkeypatch.undo()
    say(store, "widget:e1", "怎么申请", "向人社部门申请", ts=T0 + 30)  # the next turn is indexed
    assert [t["text"] for t in queries.conversation(store.engine, "widget:e1")["turns_detail"]] == ["怎么申请"]
    assert len(rows_of(store, "widget:e1")) == 1 + 4 * 2


def test_a_transaction_lost_in_the_index_part_is_tried_again_whole(store, monkeypatch, caplog):
    """As when SQLite rolls a whole transaction back (a full disk, an I/O error): the savepoint
    is gone with the events, and the save is tried again rather than committing nothing."""
    real = turns.summary.apply
    calls = []

    def lose_the_transaction_once(conn, deltas):
        calls.append(1)
        if len(calls) == 1:
            conn.exec_driver_sql("ROLLBACK")
            raise RuntimeError("disk I/O error")
        real(conn, deltas)

    monkeypatch.setattr(turns.summary, "apply", lose_the_transaction_once)
    with caplog.at_level(logging.ERROR, logger="bot.staff.turns"):
        say(store, "widget:l1", "创业担保贷款", "创业担保贷款……")
    assert len(calls) == 2
    assert len(rows_of(store, "widget:l1")) == 1 + 4  # stored once, nothing twice
    assert [t["text"] for t in queries.conversation(store.engine, "widget:l1")["turns_detail"]] == ["创业担保贷款"]
    assert store.health.snapshot()["failing_since"] is None


def test_filters_find_the_right_conversations_and_treat_sql_as_text(store):
    say(store, "widget:a", "开化县是山区县吗", "是的", custom={"citations": [{"clause_id": "scope"}]})
    bot_b = say(store, "wechat:b", "社保卡丢了怎么办", "抱歉，这个问题不在……", intent="out_of_scope",
                custom={"out_of_scope": True}, ts=T0 + 100, channel="wechat")
    rate(store, "wechat:b", bot_b, False)
    say(store, "rest:c", "100% 的_补贴' OR 1=1 --", "抱歉，我没有完全理解您的问题。您可以换个说法", ts=T0 + 200,
        channel="rest")
    e = store.engine

    def ids(**args):
        return [c["id"] for c in queries.list_conversations(e, queries.parse_filters(args))["items"]]

    assert ids() == ["rest:c", "wechat:b", "widget:a"]  # newest first
    assert ids(channel="wechat") == ["wechat:b"]
    assert ids(rating="down") == ["wechat:b"]
    assert ids(oos="1") == ["wechat:b"]
    assert ids(flag="rephrase") == ["rest:c"]
    assert ids(clause="scope") == ["widget:a"]
    assert ids(q="山区县") == ["widget:a"]
    # Metacharacters are text: LIKE wildcards and quotes match only themselves.
    assert ids(q="100%") == ["rest:c"]
    assert ids(q="%") == ["rest:c"]
    assert ids(q="_补贴'") == ["rest:c"]
    assert ids(q="' OR '1'='1") == []
    assert ids(channel="wechat' OR '1'='1") == []
    assert ids(clause="x' UNION SELECT * FROM staff_users --") == []
    with pytest.raises(queries.BadFilter):
        queries.parse_filters({"from": "2024-01-01' OR 1=1"})
    # The tables are intact.
    with e.connect() as conn:
        assert conn.execute(db.turns.select()).fetchall()
    page = queries.list_conversations(e, queries.parse_filters({"per_page": "2"}))
    assert len(page["items"]) == 2 and page["has_more"] is True


def test_unanswered_groups_similar_texts_and_can_be_marked_reviewed(store):
    for i, text in enumerate(["社保卡丢了怎么补办", "社保卡丢了怎么补办？", "社保卡丢了 怎么补办呢", "今天天气怎么样"]):
        say(store, f"rest:u{i}", text, "抱歉，这个问题不在……", intent="out_of_scope",
            custom={"out_of_scope": True}, ts=T0 + i)
    say(store, "rest:ok", "开化县是山区县吗", "是的", ts=T0 + 10)
    say(store, "rest:low", "那个啥补助", "博士后……", confidence=0.3, ts=T0 + 11)
    e = store.engine
    groups = queries.unanswered(e, queries.parse_filters({}))["items"]
    top = groups[0]
    assert top["count"] == 3 and "社保卡" in top["text"]
    assert {g["text"] for g in groups} >= {"今天天气怎么样", "那个啥补助"}
    assert all("开化县" not in g["text"] for g in groups)
    queries.mark_reviewed(e, top["keys"], "admin")
    after = queries.unanswered(e, queries.parse_filters({}))["items"]
    assert all("社保卡" not in g["text"] for g in after)
    assert any("社保卡" in g["text"] for g in
               queries.unanswered(e, queries.parse_filters({}), include_reviewed=True)["items"])


def test_nlu_export_is_in_nlu_data_format_and_loads_as_training_data(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    text = queries.nlu_yaml([("out_of_scope", "社保卡丢了怎么补办"), ("out_of_scope", "社保卡丢了怎么补办"),
                             ("ask_clause", "飞地  人才有什么待遇")])
    assert text.startswith('version: "3.1"\n\nnlu:\n- intent: out_of_scope\n  examples: |\n    - 社保卡丢了怎么补办\n')
    path = tmp_path / "nlu.yml"
    path.write_text(text, "utf-8")
    data = load_data(str(path))
    assert sorted(m.get("text") for m in data.training_examples) == ["社保卡丢了怎么补办", "飞地 人才有什么待遇"]
    with pytest.raises(queries.BadFilter):
        queries.nlu_yaml([("bad intent: x", "hi")])


def test_csv_export_neutralises_formulas_and_keeps_chinese():
    out = queries.to_csv("conversations", [{"id": "rest:1", "channel": "rest", "first_ts": T0, "last_ts": T0,
                                            "turns": 1, "last_text": "=HYPERLINK(\"http://x\")", "up": 0, "down": 1}])
    assert out.startswith("\ufeff对话,渠道")
    assert "'=HYPERLINK" in out
