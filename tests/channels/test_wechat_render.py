"""What the WeChat user reads: long answers split to the 2048-byte limit, buttons as numbers."""
from __future__ import annotations

import pytest

from bot.channels.wechat_render import (
    OPTIONS_LEAD, TEXT_LIMIT_BYTES, choose, parse_choice, render, split_text, utf8_len,
)
from bot.channels.wechat_state import TTLCache

CLAUSE = ("对山区26县引进的高端人才，在人才项目评审、职称评聘等方面给予倾斜。"
          "支持山区26县设立“飞地”人才平台，在“飞地”工作的人才视同在山区县工作。")


def test_short_text_is_one_part_unchanged():
    assert split_text("开化县是山区26县之一。") == ["开化县是山区26县之一。"]


def test_empty_text_has_no_parts():
    assert split_text("  \n ") == []


def test_long_answer_splits_at_lines_within_limit_and_keeps_everything():
    lines = [f"第{i}行：{CLAUSE}" for i in range(40)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
    assert parts[0].endswith(f"（1/{len(parts)}）")
    assert parts[-1].endswith(f"（{len(parts)}/{len(parts)}）")
    body = "\n".join(p.rsplit("\n", 1)[0] for p in parts)
    assert body.split("\n") == lines  # nothing lost, nothing cut mid-line


def test_one_long_line_splits_at_sentence_ends():
    text = CLAUSE * 30  # one paragraph, ~6 KB
    parts = split_text(text, limit=1000)
    assert all(utf8_len(p) <= 1000 for p in parts)
    for p in parts[:-1]:
        assert p.rsplit("\n", 1)[0][-1] in "。！？；"
    assert "".join(p.rsplit("\n", 1)[0] for p in parts) == text


def test_text_without_punctuation_is_cut_between_characters():
    text = "山" * 3000
    parts = split_text(text)
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts)
    assert "".join(p.rsplit("\n", 1)[0] for p in parts) == text


def test_cdata_terminator_and_control_characters_cannot_break_the_reply():
    assert split_text("a]]>b\x00\x07c\r\nd") == ["a]] >bc\nd"]


def test_buttons_become_numbered_options_after_the_text():
    text, options = render([{
        "text": "您想了解哪一项？",
        "buttons": [{"title": "（一）支持引进高端人才", "payload": '/ask_clause{"measure":"m1"}'},
                    {"title": "（七）加强创业扶持", "payload": '/ask_clause{"measure":"m7"}'}],
        "custom": {"citations": []},
    }])
    assert text == ("您想了解哪一项？\n\n" + OPTIONS_LEAD +
                    "\n1. （一）支持引进高端人才\n2. （七）加强创业扶持")
    assert [o["payload"] for o in options] == ['/ask_clause{"measure":"m1"}',
                                               '/ask_clause{"measure":"m7"}']


def test_several_messages_are_joined_and_payload_not_repeated():
    text, options = render([
        {"text": "开化县是山区26县之一。", "custom": {"county": {"name": "开化县"}}},
        {"text": "还有其他问题吗？"},
    ])
    assert text == "开化县是山区26县之一。\n\n还有其他问题吗？"
    assert options == []


def test_payload_message_is_not_shown_again():
    # Rasa delivers a message's json_message as a separate message after its text.
    text, _ = render([
        {"text": "【原文】三、主要举措（七）\n“条款原文”"},
        {"custom": {"citations": [{"clause_id": "m7", "title": "加强创业扶持", "text": "条款原文"}]}},
    ])
    assert text == "【原文】三、主要举措（七）\n“条款原文”"


@pytest.mark.parametrize("reply, n", [
    ("1", 1), ("２", 2), (" 3 ", 3), ("一", 1), ("二", 2), ("十", 10), ("十二", 12),
    ("第2项", 2), ("第二个", 2), ("3.", 3), ("选1", 1), ("1。", 1),
])
def test_numbered_replies_are_recognised(reply, n):
    assert parse_choice(reply) == n


@pytest.mark.parametrize("reply", ["", "开化县", "1个月", "2021", "一次性创业补贴", "十十"])
def test_other_replies_are_not_choices(reply):
    assert parse_choice(reply) is None


def test_choose_maps_number_to_payload_within_range():
    options = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]
    assert choose(options, "2") == "/deny"
    assert choose(options, "一") == "/affirm"
    assert choose(options, "3") is None
    assert choose([], "1") is None


def test_ttl_cache_expires_and_stays_bounded():
    now = [0.0]
    cache = TTLCache(max_size=3, ttl=10, clock=lambda: now[0])
    for k in "abcd":
        cache.set(k, k.upper())
    assert "a" not in cache and cache.get("d") == "D" and len(cache) == 3
    now[0] = 11
    assert cache.get("d") is None and len(cache) == 0
