"""The county answer for a township, town or street: which county it is in, and whether that county is covered."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer
from bot.components.kb_entities import KBMatcher


@pytest.fixture(scope="module")
def matcher():
    return KBMatcher()


def ask(text: str, matcher: KBMatcher):
    latest = {
        "text": text,
        "intent": {"name": "ask_county", "confidence": 0.95},
        "entities": [dict(e, extractor="KBEntityExtractor") for e in matcher.entities(text)],
    }
    d = CollectingDispatcher()
    ActionAnswer().run(d, Tracker("u1", {}, latest, [], False, None, {}, "action_listen"), {})
    return d.messages[0]


@pytest.mark.parametrize("text,first_line,county", [
    ("千岛湖是山区县吗", "千岛湖镇属于杭州市淳安县，淳安县是山区26县之一。", ("淳安县", "杭州市", True)),
    ("横店属于山区26县吗", "横店镇属于金华市东阳市，东阳市不在山区26县范围内。", ("东阳市", "金华市", False)),
    ("东阳横店是山区县吗", "横店镇属于金华市东阳市，东阳市不在山区26县范围内。", ("东阳市", "金华市", False)),
    ("廿八都镇算不算山区县", "廿八都镇属于衢州市江山市，江山市是山区26县之一。", ("江山市", "衢州市", True)),
])
def test_a_township_answer_names_its_county(matcher, text, first_line, county):
    msg = ask(text, matcher)
    assert msg["text"].split("\n")[0] == first_line
    name, city, covered = county
    assert msg["custom"]["county"] == {"name": name, "city": city, "is_mountain_county": covered}
    assert msg["custom"]["citations"][0]["clause_id"] == "scope"


def test_a_county_answer_is_unchanged(matcher):
    msg = ask("淳安县是山区县吗", matcher)
    assert msg["text"].startswith("是的，淳安县（杭州市）属于本意见所指的山区县")


def test_a_township_name_two_counties_share_is_answered_for_each(matcher):
    msg = ask("岩头镇是不是山区县", matcher)
    assert "永嘉县" in msg["text"] and "浦江县" in msg["text"] and "哪个县" in msg["text"]
    assert "county" not in (msg.get("custom") or {})  # which one is not known: no verdict on a place
