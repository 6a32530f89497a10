"""What the WeChat user reads: the answer first and the quotation apart, long texts split to the
2048-byte limit, buttons as numbers."""
from __future__ import annotations

import pytest

from bot.channels.wechat_render import (
    OPTIONS_LEAD, QUOTE_HINT, TEXT_LIMIT_BYTES, choose, parse_choice, render_turn, split_quotes,
    split_text, utf8_len,
)

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


def render(messages, quotation_follows=True):
    turn = render_turn(messages)
    return "\n\n".join(turn.texts(quotation_follows)), turn.options


M7 = ("加强创业扶持。有条件的山区县，在风险可控的前提下，可适当降低创业担保贷款申请门槛，适当提高创业担保贷款额度，"
      "给予利率优惠；高校毕业生享受重点人群创业扶持政策的毕业年限，可从毕业5年以内放宽至毕业10年以内。")
ANSWER = ("关于「加强创业扶持」的具体标准：文件只写了“适当提高创业担保贷款额度”，文件没有规定具体金额。\n"
          "【原文】三、主要举措（七）\n“" + M7 + "”\n责任单位：省人力社保厅、省财政厅。\n"
          "提示：只有具备条件的山区县才会实行这些放宽措施。")


def test_the_first_message_is_the_answer_and_the_quotation_follows():
    turn = render_turn([{"text": ANSWER}, {"custom": {"citations": [{"clause_id": "m7"}]}}])
    first, second = turn.texts(quotation_follows=True)
    assert first == ("关于「加强创业扶持」的具体标准：文件只写了“适当提高创业担保贷款额度”，文件没有规定具体金额。\n"
                     "责任单位：省人力社保厅、省财政厅。\n提示：只有具备条件的山区县才会实行这些放宽措施。")
    assert second == "【原文】三、主要举措（七）\n“" + M7 + "”"


def test_without_a_second_message_the_answer_says_how_to_ask_for_the_clause():
    [only] = render_turn([{"text": ANSWER}]).texts(quotation_follows=False)
    assert only.endswith("\n\n" + QUOTE_HINT) and "【原文】" not in only and M7 not in only


def test_an_answer_that_is_only_the_quotation_stays_the_answer():
    text = "【原文】三、主要举措（七）\n“" + M7 + "”"  # the reply to "原文"
    assert render_turn([{"text": text}]).texts(quotation_follows=True) == [text]
    assert render_turn([{"text": text}]).texts(quotation_follows=False) == [text]


def test_quotations_with_inner_quotes_and_several_lines_are_taken_whole():
    signatures = "中共浙江省委组织部\n浙江省人力资源和社会保障厅\n2021 年 5 月 18 日"
    text = ("（1）开化县属于山区县。\n【原文】正文末段（“山区县”的含义）\n“本意见的“山区县”指衢州、丽水两市的所辖县。”\n"
            "（2）成文日期是2021年5月18日。\n【原文】文号与落款\n“" + signatures + "”")
    rest, quotes = split_quotes(text)
    assert rest == "（1）开化县属于山区县。\n（2）成文日期是2021年5月18日。"
    assert quotes == ["【原文】正文末段（“山区县”的含义）\n“本意见的“山区县”指衢州、丽水两市的所辖县。”",
                      "【原文】文号与落款\n“" + signatures + "”"]
    assert split_quotes("【原文】不成对的引号\n没有引号的行") == ("【原文】不成对的引号\n没有引号的行", [])


def test_a_long_quotation_leaves_the_answer_in_one_message():
    text = "开化县属于山区县。\n【原文】正文末段\n“" + "山区县的范围。" * 150 + "”"  # ~3 KB quoted
    parts = [p for t in render_turn([{"text": text}]).texts(True) for p in split_text(t)]
    assert parts[0] == "开化县属于山区县。" and utf8_len(parts[0]) <= TEXT_LIMIT_BYTES
    assert all(utf8_len(p) <= TEXT_LIMIT_BYTES for p in parts) and len(parts) >= 3


def test_options_come_after_the_answer_and_the_hint():
    turn = render_turn([{"text": ANSWER, "buttons": [{"title": "加强创业扶持", "payload": "/m7"}]}])
    [only] = turn.texts(quotation_follows=False)
    assert only.endswith(QUOTE_HINT + "\n\n" + OPTIONS_LEAD + "\n1. 加强创业扶持")
    first, second = turn.texts(quotation_follows=True)
    assert first.endswith(OPTIONS_LEAD + "\n1. 加强创业扶持") and second.startswith("【原文】")


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
        {"text": "第七条讲创业扶持。\n【原文】三、主要举措（七）\n“条款原文”"},
        {"custom": {"citations": [{"clause_id": "m7", "title": "加强创业扶持", "text": "条款原文"}]}},
    ])
    assert text == "第七条讲创业扶持。\n\n【原文】三、主要举措（七）\n“条款原文”"


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

