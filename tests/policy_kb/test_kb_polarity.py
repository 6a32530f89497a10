"""Whatever the facts and their polarity, a verdict never contradicts what the person said."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_kb import get_kb
from policy_kb.facts import DENIED

KB = get_kb()
ENUMS = {k: list(f.values) for k, f in KB.facts_vocabulary.items() if f.type == "enum"}
PLACES = ["开化县", "松阳县", "泰顺县", "义乌市", "杭州市", "丽水市", "苏州市", "椒江区"]


@st.composite
def facts(draw):
    out = {}
    for key, values in ENUMS.items():
        if draw(st.booleans()):
            value = draw(st.sampled_from(values))
            out[key] = DENIED + value if draw(st.booleans()) else value
    for key in ("place", "origin"):
        if draw(st.booleans()):
            out[key] = draw(st.sampled_from(PLACES))
    if draw(st.booleans()):
        out["years_since_graduation"] = draw(st.integers(0, 30))
    return out


@settings(max_examples=400, deadline=None)
@given(facts(), st.sampled_from(KB.rule_clauses()))
def test_a_denied_fact_is_never_met_and_a_failed_condition_is_never_eligible(stated, cid):
    verdict = KB.evaluate(cid, stated)
    labels = {k: KB.facts_vocabulary[k].values[v[len(DENIED):]].label
              for k, v in stated.items() if isinstance(v, str) and v.startswith(DENIED)}
    for key, label in labels.items():
        prefix = KB.facts_vocabulary[key].label + "：" + label
        assert not any(m.startswith(prefix) for m in verdict.met), (stated, verdict.met)
    if verdict.unmet:
        assert verdict.verdict == "not_eligible"
    if verdict.verdict == "eligible":
        assert not verdict.unmet and not verdict.missing


def test_read_facts_keeps_the_polarity_and_the_role_of_places():
    r = KB.read_facts("博士后刚出站，要去常山工作，不过单位不是民营企业，是县里的事业单位")
    assert r.facts["employer_type"] == "public_institution" and r.facts["place"] == "常山县"
    assert KB.evaluate("m1", r.facts).verdict == "not_eligible"
    assert KB.read_facts("单位不是民营企业").facts["employer_type"] == DENIED + "private"
    assert KB.read_facts("我是博士，不是博士后").facts["role"] == "phd"
    assert KB.read_facts("还没毕业，大三").facts == {"role": "student"}
    assert KB.read_facts("算不算高校毕业生").facts["role"] == "graduate"  # a question, not a denial
    going = KB.read_facts("我在杭州工作，出站后想去丽水的民营企业").facts
    assert going["place"] == "丽水市" and going["origin"] == "杭州市"
    assert KB.read_facts("以前在天台工作，今年调到椒江了").facts["place"] == "椒江区"
    assert KB.read_facts("我是椒江人 但是创业在三门").facts["place"] == "三门县"
    assert KB.read_facts("我老公博士后出站了").subject.address == "您丈夫"
    assert KB.read_facts("我们厂在龙游").subject.address == "贵单位"


def test_a_broader_value_said_later_does_not_replace_a_narrower_one():
    merged = KB.eligibility.merge({"employer_type": "private"}, {"employer_type": "enterprise", "place": "景宁"})
    assert merged == {"employer_type": "private", "place": "景宁"}


def test_every_citation_is_one_contiguous_passage_of_the_document():
    from policy_kb.text import squash

    source = squash(KB.source_text)
    for cid in KB.clauses:
        for c in KB.citations(cid):
            assert squash(c["text"]) in source, (cid, c["text"][:30])
            assert c["location"]


def test_aspects_state_only_the_documents_words():
    a = KB.aspect_answer("m7", KB.aspect_of("创业担保贷款额度是多少"))
    assert a.states in KB.clause("m7").text and a.missing and a.decided_by
    b = KB.aspect_answer("m1", KB.aspect_of("那能补多少钱"))
    assert b.states is None and "没有规定" in b.missing
    assert KB.aspect_answer("m2", "decider").states == "“飞地”人才的认定由飞入地负责"


def test_a_window_or_a_telephone_number_is_no_point_the_deciding_body_settles():
    # (省财政 decides whether to give the m1 subsidy, not where to ask about it)
    assert KB.aspect_answer("m1", "amount").decided_by == "省财政"
    assert KB.aspect_answer("m1", "contact").decided_by is None
    assert KB.aspect_answer("m2", "link").decided_by is None


@pytest.mark.parametrize("text, aspect", [
    ("提高几个百分点有说吗", "amount"),   # 几 asks what 多少 asks
    ("能补几万", "amount"),
])
def test_a_question_word_asks_the_same_point_in_either_form(text, aspect):
    assert KB.aspect_of(text) == aspect


@pytest.mark.parametrize("text, aspect", [
    ("优惠具体是多少个点", "rate"),
    ("单独划线的话合格分是多少", "amount"),
    ("要交啥材料", "materials"),
    ("山区县的企业看注册地还是经营地", "basis"),
    ("这种情况省里补不补", "decider"),
    ("这笔钱是直接发给个人，还是给县里？", "recipient"),  # a choice asked across a comma
])
def test_points_asked_in_everyday_words(text, aspect):
    assert KB.aspect_of(text) == aspect


def test_a_word_inside_another_asks_no_point():
    # 新材料公司 asks for no materials
    assert KB.aspect_of("现在入职了衢江区一家民营新材料公司，省财政那个补助我能拿吗") != "materials"


def test_how_the_document_settles_a_place_is_said_to_be_open():
    a = KB.aspect_answer("m4.1", KB.aspect_of("看注册地还是经营地"))
    assert a.states is None and "没有界定" in a.missing


@pytest.mark.parametrize("text, years", [
    ("不是毕业10年，是12年了，刚才说错了", 12),      # the years said instead of the ones denied
    ("不是毕业10年是12年了", 12),                  # ... with the space between read away
    ("他不是毕业7年，是毕业快13年了", 13),
    ("不是毕业10年，而是12年", 12),
    ("毕业不是5年，是15年了，现在在开化搞家庭农场", 15),  # the denial after 毕业
    ("不是毕业5年以内才行吗", None),                # years denied, none said instead
    ("没毕业几年，就两年", 2),                      # "没毕业几年" is a few years, not a denial
    ("毕业七年了，不是毕业十年", 7),
])
def test_years_denied_give_way_to_those_said_instead(text, years):
    assert KB.read_facts(text).facts.get("years_since_graduation") == years


@pytest.mark.parametrize("text, fact, value", [
    # "不是A，是B": the value of the denying clause is denied, whatever stands between the negator and it
    ("我们不是城里医院啊，是村卫生室，在开化马金镇", "institution_type", "village_clinic"),
    ("我们不是城里医院啊是村卫生室", "institution_type", "village_clinic"),
    ("单位不是民营企业，是县里的事业单位", "employer_type", "public_institution"),
    ("我不是国企的是民企的", "employer_type", "private"),
    # (the clause that says what is so keeps all of its own words: 私人老板 over 公司)
    ("单位不是国企也不是事业单位，就是私人老板开的科技公司", "employer_type", "private"),
])
def test_a_clause_that_says_what_is_so_instead_puts_right_the_one_before(text, fact, value):
    assert KB.read_facts(text).facts.get(fact) == value


def test_a_plan_to_go_to_a_mountain_county_not_named_leaves_the_place_open():
    facts = KB.read_facts("女儿在上海做博后，快出站了，她说想回浙江山区县的企业，省里有没有啥补助").facts
    assert "place" not in facts and facts["origin"] == "上海市"
    # the words of a measure ("去山区县民企的补助") are no plan: where the person is counts
    said = KB.read_facts("我表哥是出站博士后，现在在乐清一家私企上班，省里对去山区县民企的补助他有吗").facts
    assert said["place"] == "乐清市"


def test_a_follow_up_in_the_words_of_the_clause_just_discussed():
    # 挂职's paragraph says "服务经历作为职称、岗位优先晋升的依据": "评职称" is its word too
    assert KB.echoes("m4.2", "回来评职称能不能优先")
    assert KB.echoed_phrase("m4.2", "回来评职称能不能优先") == "服务经历作为职称、岗位优先晋升的依据"
    assert KB.echoes("m3.2", "那她以后评高级呢")
    assert not KB.echoes("m4.2", "创业担保贷款额度能提高吗")
    assert not KB.echoes("m4.2", "你好")


def test_years_said_again_after_the_person_puts_them_right():
    assert KB.read_facts("毕业十一年了，啊不是，我数错了，是九年，回泰顺老家开奶茶店").facts["years_since_graduation"] == 9
    # "还没毕业满五年" is a graduate of less than five years, not a student
    assert KB.read_facts("还没毕业满五年，才三年，在三门开了个小超市").facts["role"] == "graduate"


@pytest.mark.parametrize("text, place", [
    ("义乌，不对，语音转错了，是武义，我们武义的五金厂", "武义县"),               # a place put right
    ("老家平阳的，人在上海，毕业八年了，想回老家开个工作室", "平阳县"),           # going back home
    ("我老家泰顺筱村的，后来又跑去义乌做了两年直播，前年我爸身体不好我就回来了，现在想在县城开个工作室", "泰顺县"),
])
def test_the_place_a_measure_is_judged_on_after_corrections_and_moves(text, place):
    assert KB.read_facts(text).facts["place"] == place


def test_who_pays_is_a_point_of_its_own_that_the_document_states_for_two_measures():
    assert KB.aspect_of("这个钱是谁出的") == "funder"
    assert KB.aspect_answer("m1", "funder").states == "省财政视情给予补助"
    assert KB.aspect_answer("m8", "funder").states in KB.clause("m8").text
    open_point = KB.aspect_answer("m7", "funder")   # (a loan's money: the document does not say)
    assert open_point.states is None and "没有写明" in open_point.missing


def test_whom_the_funds_of_the_eighth_measure_go_to_is_what_it_states():
    a = KB.aspect_answer("m8", "recipient")
    assert a.states and "给予山区县适当倾斜" in a.states
    assert KB.aspect_answer("m1", "recipient").states is None  # 第一条 does not say whom it is paid to
