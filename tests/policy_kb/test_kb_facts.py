"""Facts extracted from what users write."""
from datetime import date

import pytest

from policy_kb.facts import parse_years_since_graduation

TODAY = date(2024, 6, 1)


@pytest.mark.parametrize("text,years", [
    ("毕业7年", 7), ("毕业七年", 7), ("毕业三年了", 3), ("毕业了八年", 8), ("毕业已经十年了", 10),
    ("毕业十一年", 11), ("毕业两年", 2), ("毕业快9年", 9), ("5年前毕业的", 5), ("三年前大学毕业", 3),
    ("2016年毕业", 8), ("二零一六年毕业", 8), ("16年毕业的", 8), ("毕业于2019年", 5), ("2020届", 4),
    ("去年毕业", 1), ("今年刚毕业", 0), ("应届生", 0), ("我毕业12年了", 12), ("畢業七年", 7), ("毕业刚好5年", 5), ("毕业正好十年", 10),
    ("我大学毕业到现在有11个年头了", 11), ("高校毕业生 8年了", 8), ("高校毕业生 3年", 3), ("毕业 7 年 le", 7),
])
def test_years_since_graduation(text, years):
    assert parse_years_since_graduation(text, TODAY) == years


@pytest.mark.parametrize("text", ["我想创业", "2016年来的杭州", "毕业论文怎么写", "十年", "", "高校毕业生5年以内", "毕业生3年内创业"])
def test_years_not_stated(text):
    assert parse_years_since_graduation(text, TODAY) is None


def test_policy_today_env(kb, monkeypatch):
    monkeypatch.setenv("POLICY_TODAY", "2026-03-01")
    assert kb.today() == date(2026, 3, 1)
    assert kb.extract_facts("2016年毕业")["years_since_graduation"] == 10
    monkeypatch.delenv("POLICY_TODAY")
    assert kb.today() == date.today()


@pytest.mark.parametrize("text,expected", [
    ("博士后出站后去丽水松阳县的民营企业，能拿补助吗",
     {"place": "松阳县", "role": "postdoc", "postdoc_status": "completed", "employer_type": "private"}),
    ("我是在站博士后，想去开化的国企", {"place": "开化县", "role": "postdoc", "postdoc_status": "in_station", "employer_type": "state_owned"}),
    ("还没出站的博士后", {"role": "postdoc", "postdoc_status": "in_station"}),
    # the name of the measure asked about says nothing of who asks (a student may ask it too)
    ("毕业7年，在泰顺创业，算不算高校毕业生创业扶持对象",
     {"place": "泰顺县", "origin": "泰顺县", "years_since_graduation": 7, "activity": "startup"}),
    ("我是淳安县乡镇卫生院的护士", {"place": "淳安县", "origin": "淳安县", "role": "health_worker", "institution_type": "township_health_center"}),
    ("村医考卫生中级", {"role": "health_worker", "activity": "health_exam", "institution_type": "village_clinic",
                 "exam_level": "intermediate"}),
    ("我在杭州的三甲医院当医生", {"place": "杭州市", "origin": "杭州市", "role": "health_worker", "institution_type": "hospital"}),
    ("畢業七年，在龍泉開店", {"place": "龙泉市", "origin": "龙泉市", "years_since_graduation": 7, "activity": "startup"}),
    ("我们公司是景宁的私企", {"place": "景宁畲族自治县", "origin": "景宁畲族自治县", "role": "employer", "employer_type": "private"}),
    ("外企", {"employer_type": "foreign"}),
    ("事业单位的老师去磐安挂职", {"place": "磐安县", "role": "professional_technical", "employer_type": "public_institution", "activity": "secondment"}),
    ("我是飞地人才", {"role": "enclave_talent"}),
    ("大学生去山区县基层工作", {"role": "graduate", "activity": "grassroots_job"}),
    ("在苏州创业", {"place": "苏州市", "origin": "苏州市", "activity": "startup"}),
])
def test_extract_facts(kb, text, expected):
    assert kb.extract_facts(text, today=TODAY) == expected


@pytest.mark.parametrize("text", [
    "优质技师学院能到山区县办分院吗", "鼓励设立博士后工作站吗", "人行杭州中心支行负责什么", "发文机关是谁", "", "您好",
])
def test_nothing_extracted_when_nothing_is_said_about_the_person(kb, text):
    assert kb.extract_facts(text, today=TODAY) == {}


def test_normalise_facts_accepts_chinese_values(kb):
    norm = kb.eligibility.normalise_facts({"role": "博士后", "employer_type": "民企", "years_since_graduation": "七年", "place": "縉雲", "x": 1})
    assert norm == {"role": "postdoc", "employer_type": "private", "years_since_graduation": 7, "place": "缙云"}


@pytest.mark.parametrize("text,expected", [
    ("我们企业参加引才活动", {"role": "employer", "employer_type": "enterprise", "activity": "recruitment_event"}),
    ("我在公立医院工作", {"employer_type": "public_institution", "institution_type": "hospital"}),
    ("我是民营企业的博士后", {"role": "postdoc", "employer_type": "private"}),
])
def test_a_phrase_can_state_two_facts(kb, text, expected):
    assert kb.extract_facts(text) == expected


@pytest.mark.parametrize("text, expected", [
    # the family's home is the relative's too
    ("你好 我女儿前年从宁波读完研回来了 想在老家开个茶叶店 我们家是松阳的 她能享受不", {"place": "松阳县"}),
    # a value only of the past does not undo the correction ("之前是跟国企合作过")
    ("哦不对 说错了 不是国企 是一家民营的科技公司 之前是跟国企合作过", {"employer_type": "private"}),
    ("说错了 以前是民企 现在是国企", {"employer_type": "state_owned"}),
    # the years said instead, with a word before them
    ("毕业不是5年 是整整10年 在云和 创业那个还能放宽吗", {"years_since_graduation": 10}),
    ("不是毕业3年，是足足13年了", {"years_since_graduation": 13}),
    # an exam asked of as "考个中级" is the health exam
    ("我妈在庆元一个村卫生室干了二十年 今年想考个中级", {"activity": "health_exam"}),
    ("卫中考试 山区县单独划线 我乡卫 在庆元 适用不", {"activity": "health_exam", "institution_type": "township_health_center"}),
])
def test_facts_read_from_a_story(kb, text, expected):
    facts = kb.read_facts(text).facts
    assert {k: facts.get(k) for k in expected} == expected, facts


def test_english_years_of_graduation(kb):
    from policy_kb.romanized import romanize
    for text, years in (("I graduated in 2019 and want to start a business in Longquan", 2019),
                        ("I finished my master's in the UK in 2020 and moved back home to Lishui", 2020)):
        facts = kb.read_facts(romanize(text)).facts
        assert facts.get("years_since_graduation") == kb.today().year - years, (text, facts)
