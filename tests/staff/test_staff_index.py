"""The console's per-turn index is filled as the tracker store saves turns, and what the console
reads from it: masked text, NLU reading, flags, ratings, filters (with SQL metacharacters),
unanswered groups, NLU and CSV exports."""
from __future__ import annotations

import asyncio
import json

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.launcher import ROOT
from bot.staff import db, queries
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
