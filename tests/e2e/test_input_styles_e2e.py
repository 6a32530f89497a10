"""Questions typed in pinyin, initials or English are answered, in Chinese, as their Chinese would be."""
from __future__ import annotations

import re

import pytest

from eval.scoring import cited_ids, customs, unfaithful_citations

pytestmark = pytest.mark.e2e


def text_of(msgs):
    return "\n".join(m.get("text") or "" for m in msgs)


@pytest.mark.parametrize("question, clause", [
    ("boshihou chuzhan butie", "m1"),
    ("bsh chuzhan hou qu lishui de minqi you butie ma", "m1"),
    ("postdoc subsidy in Lishui?", "m1"),
    ("cydbdk you shenme youhui", "m7"),
    ("chuangye danbao daikuan edu neng tigao ma", "m7"),
    ("Can a graduate get a startup loan in a mountain county?", "m7"),
])
def test_pinyin_and_english_questions_cite_the_clause_their_chinese_would(conversation, question, clause):
    msgs = conversation.say(question)
    assert clause in cited_ids(msgs), (question, text_of(msgs))
    assert unfaithful_citations(msgs) == []
    # The answer is in Chinese, whatever the question's script.
    assert len(re.findall(r"[\u4e00-\u9fff]", text_of(msgs))) > 20


def test_a_place_in_pinyin_is_judged_as_the_place(conversation):
    for question, county, covered in [("Is Songyang a mountainous county?", "松阳县", True),
                                      ("yiwu shi shanqu xian ma", "义乌市", False)]:
        msgs = conversation.say(question)
        found = [c["county"] for c in customs(msgs) if c.get("county")]
        assert found and found[0]["name"] == county, (question, text_of(msgs))
        assert found[0]["is_mountain_county"] is covered
