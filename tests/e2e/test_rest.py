"""The assistant as a user meets it: real servers, the REST channel, answers per CONTRACT.md."""
from __future__ import annotations

import pytest

from eval.scoring import cited_ids, customs, unfaithful_citations

pytestmark = pytest.mark.e2e


def text_of(msgs):
    return "\n".join(m.get("text") or "" for m in msgs)


def test_greeting_is_answered_without_citation(conversation):
    msgs = conversation.say("你好")
    assert "政策问答助手" in text_of(msgs)
    assert cited_ids(msgs) == []


def test_policy_question_is_answered_with_a_verbatim_citation_and_units(conversation):
    msgs = conversation.say("创业担保贷款有什么优惠")
    assert cited_ids(msgs)[0] == "m7"
    assert unfaithful_citations(msgs) == []
    payload = customs(msgs)[0]
    assert {"省人力社保厅", "省财政厅", "人行杭州中心支行"} <= {u["name"] for u in payload["responsible_units"]}
    text = text_of(msgs)
    assert "三、主要举措（七）" in text
    assert "有条件的" in text  # the document's hedge is stated, not hidden


def test_eligibility_over_several_turns_asks_only_for_missing_facts(conversation):
    first = conversation.say("博士后出站补助我能拿吗")
    elig = [c["eligibility"] for c in customs(first) if "eligibility" in c]
    assert elig and elig[-1]["verdict"] == "need_info"
    assert any(m.get("buttons") for m in first) or elig[-1]["missing"]
    conversation.say("去遂昌")
    last = conversation.say("民营企业")
    elig = [c["eligibility"] for c in customs(last) if "eligibility" in c]
    assert elig[-1]["verdict"] == "eligible"
    assert elig[-1]["clause_id"] == "m1"
    assert "视情" in text_of(last)


def test_follow_up_uses_the_clause_just_discussed(conversation):
    conversation.say("第五条是什么内容")
    msgs = conversation.say("由哪个部门负责")
    assert cited_ids(msgs)[0] == "m5"
    assert any(u["name"] == "省人力社保厅" for c in customs(msgs) for u in c.get("responsible_units", []))


def test_county_question_carries_the_county_payload(conversation):
    msgs = conversation.say("景宁是山区县吗")
    county = [c["county"] for c in customs(msgs) if "county" in c][0]
    assert county == {"name": "景宁畲族自治县", "city": "丽水市", "is_mountain_county": True}
    msgs = conversation.say("那乐清呢")
    county = [c["county"] for c in customs(msgs) if "county" in c][0]
    assert county["name"] == "乐清市" and county["is_mountain_county"] is False


def test_out_of_scope_cites_nothing_and_says_where_to_turn(conversation):
    msgs = conversation.say("公积金怎么提取")
    assert any(c.get("out_of_scope") for c in customs(msgs))
    assert cited_ids(msgs) == []
    assert "12333" in text_of(msgs)


def test_empty_and_huge_messages_get_a_polite_reply(conversation):
    assert text_of(conversation.say("   "))
    assert text_of(conversation.say("创业" * 6000))
