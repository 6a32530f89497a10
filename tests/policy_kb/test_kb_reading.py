"""How a message's words become facts: patterns beside synonyms, years on either side of a
number, places one has left, values only asked about, and whom the message is about."""
from __future__ import annotations

import pytest
import yaml

from policy_kb import KBError, get_kb, load_kb
from policy_kb.models import EnumValue

KB = get_kb()


def facts(text: str) -> dict:
    return KB.read_facts(text).facts


@pytest.mark.parametrize("text, fact, value", [
    ("去年在磐安开了一家小面馆", "activity", "startup"),          # 开了一家…馆 is not in any list of words
    ("我打算办个竹制品作坊", "activity", "startup"),
    ("毕业以后想回去自己当老板", "activity", "startup"),
    ("她是公办小学的语文老师", "employer_type", "public_institution"),
    ("单位是公立的", "employer_type", "public_institution"),
    ("我是专科毕业", "role", "graduate"),
    ("两年期满离站了", "postdoc_status", "completed"),
    ("县里打算把他下派到云和", "activity", "secondment"),
    ("我在村里当乡村医生", "institution_type", "village_clinic"),
    ("他今年要考那个卫生的中级", "activity", "health_exam"),
    ("我在松阳做茶叶电商", "activity", "startup"),
])
def test_patterns_say_what_lists_of_words_cannot(text, fact, value):
    assert facts(text).get(fact) == value


def test_a_pattern_does_not_read_inside_a_longer_term():
    # "农村医疗卫生单位" holds the letters of 村医 but names no village clinic.
    assert "institution_type" not in facts("考试时农村医疗卫生单位有单独的线吗")
    # "开化县的店" is no shop of one's own.
    assert facts("我在开化县的店里打工").get("activity") is None


def test_a_pattern_that_is_not_a_regular_expression_is_refused_at_load():
    with pytest.raises(ValueError, match="not a regular expression"):
        EnumValue(label="x", patterns=["(unclosed"])


@pytest.mark.parametrize("text, years", [
    ("毕业还不到三年", 2),
    ("毕业不满一年", 0),
    ("毕业超过十年了", 11),
    ("毕业已经十年多了", 11),
    ("毕业快六年了", 6),
    ("毕业整十年", 10),
    ("毕业没超过十年", 10),
])
def test_years_on_either_side_of_the_number(text, years):
    assert facts(text)["years_since_graduation"] == years


def test_a_place_one_was_born_in_or_has_left_is_not_where_one_is():
    born = facts("我在文成出生的，毕业六年，现在在温州市区开公司")
    assert born["place"] == "温州市区"
    left = facts("之前在宁波的流动站做了两年，今年出站了，现在去了一家民企")
    assert "place" not in left and "origin" not in left
    # Sent from where one still works: the origin stays.
    sent = facts("我在嘉兴的医院干了十年，现在被派去泰顺")
    assert sent["origin"] == "嘉兴市" and sent["place"] == "泰顺县"


def test_a_value_only_asked_about_gives_way_to_one_stated():
    said = facts("难道只有医院的才算？我就是松阳一个乡镇卫生院的护士")
    assert said["institution_type"] == "township_health_center"
    # Without such a question the first stated value stays ("大学没读完" before the topic's words).
    assert facts("大学没读完 现在在云和搞民宿 高校毕业生创业扶持的年限我适用吗")["role"] == "non_graduate"


def test_one_who_leaves_a_postdoc_station_is_a_postdoc_unless_they_deny_it():
    assert facts("有个从博士后站出站的博士想来我们厂")["role"] == "postdoc"
    denied = facts("我是博士，没做过博士后，出站这事跟我无关")
    assert denied["role"] == "phd"


def test_implies_over_names_only_implied_facts(data_copy):
    path = data_copy / "eligibility.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["facts"]["postdoc_status"]["values"]["completed"]["implies_over"] = {"employer_type": ["private"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(KBError, match="implies_over: 'employer_type' is not implied"):
        load_kb(data_copy)


def test_the_person_who_tells_of_themselves_after_a_relative_is_the_subject():
    assert KB.read_facts("我老公也说这边机会多。我自己大学毕业四年，想在龙泉开店").subject.kind == "self"
    told = KB.read_facts("我老公是博士后，出站后想去遂昌的民企，他能拿补助吗").subject
    assert told.kind == "relative"


def test_who_asked_the_writer_to_ask_is_not_the_one_asked_about():
    said = KB.read_facts("邻居家的孩子在做博士后，还在站里，合作企业是江山市一家民企，他妈让我问问现在能不能领省里补助")
    assert said.subject.relation != "妈" and said.facts["postdoc_status"] == "in_station"
    # ...unless no one else is named: then it is the writer's own case.
    assert KB.read_facts("我妈让我问问，我毕业3年在开化创业能享受吗").subject.kind == "self"


@pytest.mark.parametrize("text, found", [
    ("想问下住房公积金怎么提取", "公积金"),
    ("浙人社发2022年那个技能提升补贴的文件说了什么", "浙人社发2022年"),  # a number typed without its brackets
    ("宁波给人才的租房补贴怎么领", "租房补贴"),
    ("浙人社发〔2022〕5号讲什么", "浙人社发〔2022〕5号"),
    ("2024年新出台的人才政策有哪些", "2024年新出台的人才政策"),
    ("丽水出的实施细则在哪看", "实施细则"),
    ("嘉兴市对新引进的硕士有补贴吗", "嘉兴市对新引进的硕士有补贴"),   # a place's own money
    ("绍兴给来绍工作的大学生奖励多少", "绍兴给来绍工作的大学生奖励"),
])
def test_what_the_document_does_not_cover_is_named(text, found):
    assert KB.not_covered(text) == found


@pytest.mark.parametrize("text", [
    f"{KB.document.number}从哪天开始施行",                    # its own number
    f"{KB.document.issued.year}年出台的这个意见有几条措施",     # its own year
    "浙人社发[2021]22号讲了啥",                                # its own number, typed with other brackets
    "浙人社发2021年22号第几条是创业的",
    "2019年毕业的大学生能享受创业政策吗",                     # a year of graduation, not of a policy
    "省财政对出站博士后有补助吗",                              # the document's own subsidy
    "丽水给博士后补助多少",                                    # a place with mountain counties: m1 may be meant
])
def test_this_document_is_not_another(text):
    assert KB.not_covered(text) is None


def test_a_citys_urban_area_is_its_districts():
    area = KB.find_place("杭州市区")
    assert area.area is not None and "西湖区" in area.area.counties and "淳安县" not in area.area.counties
    verdict = KB.evaluate("m7", {"place": "杭州市区", "role": "graduate", "years_since_graduation": 3,
                                 "activity": "startup"})
    assert verdict.verdict == "not_eligible"
    # places.yml's own areas stand: 衢州市区 is its two districts, both covered.
    assert KB.find_place("衢州市区").area.counties == ["柯城区", "衢江区"]


def test_a_measure_named_by_whom_it_is_for_says_nothing_of_the_person():
    assert "role" not in facts("在常山一家私企上班，那个博士后补贴我能不能沾点光")
    # Said of oneself, the same words are a fact.
    assert facts("我是博士后，在常山一家私企上班")["role"] == "postdoc"


def test_the_places_of_the_one_asked_about_count_when_several_people_are_named():
    said = KB.read_facts("我姐在永嘉开店，我弟媳在海宁开店，两人都是大学毕业三年，我替弟媳问问创业扶持")
    assert said.subject.relation == "弟媳" and said.facts["place"] == "海宁市"


def test_more_ways_of_saying_a_start_up_and_years_out_of_college():
    assert facts("在景宁整了个养鸡场")["activity"] == "startup"
    assert facts("学校出来都五年了")["years_since_graduation"] == 5


def test_a_model_reading_inside_a_phrase_that_names_a_measure_is_no_fact():
    x = KB.extractor
    assert x.states_no_fact("高校毕业生那个年限我能用吗", "高校毕业生")
    assert not x.states_no_fact("我是高校毕业生，高校毕业生那个年限我能用吗", "高校毕业生")
    assert not x.states_no_fact("我是高校毕业生", "高校毕业生")


def test_when_a_message_says_whom_it_asks_about_only_what_it_says_of_them_counts():
    said = KB.read_facts("我姐姐还没毕业 我表哥毕业三年了在云和开了家店 我想问的是表哥 他能享受创业扶持吗")
    assert said.subject.relation == "哥哥"
    assert said.facts["years_since_graduation"] == 3 and said.facts.get("role") != "student"
    # Run together by voice input, the same.
    run_on = KB.read_facts("我爸在县人民医院我妈在乡镇卫生院我问的是我妈")
    assert run_on.facts["institution_type"] == "township_health_center"
    # Without a word of whom it asks, nothing is blanked.
    assert KB.read_facts("我老公是博士后，出站后想去遂昌的民企").facts["postdoc_status"] == "completed"


def test_what_used_to_be_gives_way_to_what_is_now_and_denials_agree_with_what_was_said():
    assert facts("以前在乡镇卫生院，后来调到县人民医院了")["institution_type"] == "hospital"
    assert facts("毕业七八年了")["years_since_graduation"] == 8
    assert facts("他去年出的站")["postdoc_status"] == "completed"
    merge = KB.eligibility.merge
    assert merge({"employer_type": "private"}, {"employer_type": "not:public_institution"}) == {"employer_type": "private"}
    assert merge({"employer_type": "private"}, {"employer_type": "not:private"}) == {"employer_type": "not:private"}
    assert merge({"employer_type": "enterprise"}, {"employer_type": "not:private"}) == {"employer_type": "not:private"}


def test_the_person_a_question_names_is_the_one_asked_about():
    # Named last before the question: the cousin, not the husband named first.
    said = KB.read_facts("我老公还在站里，他堂弟前年出站去了庆元一家私企，他堂弟这种情况有补助吗")
    assert said.subject.relation == "弟弟" and said.facts["postdoc_status"] == "completed"
    # The writer, after a relative: the relative's hospital is not the writer's.
    said = KB.read_facts("我婆婆在缙云县人民医院上班，我在缙云一个村卫生室，想问我自己考卫生中级有没有照顾")
    assert said.subject.kind == "self" and said.facts["institution_type"] == "village_clinic"


def test_what_is_said_of_both_counts_for_each_of_them():
    said = KB.read_facts("我和我老婆都是博士后，她在杭州还没出站，我去年出站去了遂昌一家民企，问的是我本人")
    assert said.subject.kind == "self"
    assert said.facts["role"] == "postdoc" and said.facts["place"] == "遂昌县"
    said = KB.read_facts("我和表哥都没上过大学，表嫂是本科毕业的，毕业六年，问问表嫂能不能享受创业扶持")
    assert said.subject.relation == "嫂子" and said.facts["role"] == "graduate"


def test_asking_about_oneself_after_a_relative_reads_only_what_is_said_of_oneself():
    said = KB.read_facts("我爸在江山一家民企，博士后出站了。那我呢，我大学毕业四年，在江山开网店")
    assert said.subject.kind == "self"
    assert "postdoc_status" not in said.facts and said.facts["years_since_graduation"] == 4
    # What the question is about is no one person's: the exam is read from all that was said.
    said = KB.read_facts("我在衢州市人民医院，考卫生中级有单独线吗。换成我表妹呢，她在常山一个乡镇卫生院")
    assert said.subject.relation == "妹妹" and said.facts["activity"] == "health_exam"
    assert said.facts["institution_type"] == "township_health_center"


def test_a_relative_is_matched_by_its_longest_name():
    assert KB.read_facts("我姐夫在开化民企，博士后出站了").subject.relation == "姐夫"
    assert KB.read_facts("我姐在开化开了个店").subject.relation == "姐姐"
    assert KB.extractor.asked_of("我想问的是我姐夫") == "姐夫"


def test_where_one_lives_gives_way_to_where_one_works():
    assert facts("我家在青田，但在瑞安一家乡镇卫生院上班")["place"] == "瑞安市"
    assert facts("户口在文成但我在鹿城区一个村卫生室")["place"] == "鹿城区"
    assert facts("我家在云和，毕业三年想创业")["place"] == "云和县"


def test_the_unit_of_now_replaces_the_unit_of_before_inside_a_longer_name():
    said = facts("原来在乡镇卫生院，后来调到庆元县人民医院了")
    assert said["institution_type"] == "hospital"


def test_years_still_short_of_a_number():
    assert facts("毕业还没满五年")["years_since_graduation"] == 4
    assert facts("我表妹前年大专毕业")["years_since_graduation"] == 2


def test_a_conversation_is_read_for_the_one_its_last_message_asks_about():
    turns = ["我和我同事都是博士后，都出站了，我去了杭州一家私企，他去了龙游一家民企", "按他的情况算呢"]
    said = KB.read_conversation(turns)
    assert said.subject.relation == "同事" and said.facts["place"] == "龙游县"
    # A correction in a later turn still wins over what was said first.
    turns = ["替我外甥问问，他大学毕业三年，想在泰顺创业", "说错了，是在瑞安创业，不是泰顺", "那他能享受吗"]
    said = KB.read_conversation(turns)
    assert said is None or said.facts["place"] == "瑞安市"
    # Nothing to pick: one person only.
    assert KB.read_conversation(["我毕业三年在泰顺创业", "那我呢"]) is None


def test_a_person_named_by_what_they_are_to_the_asker_is_the_one_asked_about():
    said = KB.read_facts("经理叫我问的，我们公司在缙云，厂里有个新员工本科毕业两年，他想自己出去创业，能享受创业扶持吗")
    assert said.subject.kind == "other" and said.subject.address == "该新员工"
    assert said.facts["years_since_graduation"] == 2 and "role" not in said.facts or said.facts["role"] == "graduate"


def test_who_speaks_for_an_employer_tells_the_setting_of_the_one_asked_about():
    said = KB.read_facts("我是遂昌一家民营企业的HR，老板的女儿博士后出站了，她来我们公司上班能拿补助吗")
    assert said.subject.relation == "女儿"
    assert said.facts["place"] == "遂昌县" and said.facts["employer_type"] == "private"
    # "我是老板": the writer, not another person; the employer asks for itself.
    said = KB.read_facts("我是老板，我们厂在景宁，去省人才市场招人收参展费吗")
    assert said.subject.kind == "employer" and said.facts["role"] == "employer"
    said = KB.read_facts("我们厂在庆元，想去省人才市场招两个技术员，参展费能免吗")
    assert said.subject.kind == "employer" and said.facts["role"] == "employer"
    said = KB.read_facts("我女婿博士后出站了，在松阳一家私人老板开的厂里上班，他能拿补助吗")
    assert said.subject.relation == "女婿" and said.facts["employer_type"] == "private"


def test_more_ways_of_naming_the_one_asked_about():
    # "那口子" is the spouse; "都是" is said of both; "…吧" asks.
    turns = ["我和我家那口子都是博士后，他出站了在龙泉一家私企，我还在站里", "他那个补助应该能拿吧", "那我呢"]
    assert KB.read_conversation(turns).facts["postdoc_status"] == "in_station"
    assert KB.read_conversation(turns[:2]).facts["place"] == "龙泉市"
    # "…补助不" ends a question; "我是她领导" is the writer.
    said = KB.read_facts("我带的研究生小王是博士后，出站后去了开化一家民企，我是她导师，她能拿补助不")
    assert said.facts["place"] == "开化县" and said.facts["postdoc_status"] == "completed"
    # Graduated "from" a university, last year.
    said = KB.read_facts("我是厂里的出纳，职高毕业，我们老板的女儿前年从浙江工业大学毕业，想回景宁创业，老板女儿能享受吗")
    assert said.subject.relation == "女儿"
    assert said.facts["role"] == "graduate" and said.facts["years_since_graduation"] == 2


def test_asking_to_be_counted_as_a_graduate_is_no_statement_of_being_one():
    said = KB.read_facts("我还在读大二，想在泰顺开个店，能按高校毕业生享受创业扶持吗")
    assert said.facts["role"] == "student"


def test_the_one_asked_about_is_where_the_writer_is_only_when_said_so():
    turns = ["我是庆元一个村的村支书", "村里有个小伙子本科毕业四年，回来办了个养殖场", "他能享受创业扶持吗"]
    said = KB.read_conversation(turns)
    assert said.subject.relation == "小伙子" and said.facts["place"] == "庆元县"
    # Nothing says the brother is where the writer is: his place stays unknown (and is asked).
    said = KB.read_conversation(["我在宁波上班", "我弟弟大学毕业三年想创业", "他能享受吗"])
    assert "place" not in said.facts


def test_words_of_a_measures_condition_state_nothing_of_the_person():
    # "毕业10年以内" and "高校毕业生那个…扶持" are the measure's; "初中毕业" is the person's.
    turns = ["我初中毕业就出来打工了", "想回泰顺办个加工厂，高校毕业生那个毕业10年以内的创业扶持我能用吗"]
    said = KB.read_facts(turns[1]).facts
    assert "years_since_graduation" not in said and "role" not in said
    # "博士后出站的那个补助" names a measure: the denial of being a postdoc stands.
    said = KB.read_facts("我爱人博士毕业，没进过博士后站，在江山一家民企，他能拿博士后出站的那个补助吗").facts
    assert said["role"] == "phd" and "postdoc_status" not in said


def test_who_is_named_and_who_is_the_writer():
    # "扶持对象" is no partner; "当爸的" is the writer, so "他" is the son.
    said = KB.read_facts("我还在读大三，想在云和开个网店，算不算创业扶持的对象")
    assert said.subject.kind == "self" and said.facts["role"] == "student"
    said = KB.read_facts("我女儿去年博士后出站，在松阳一家民企上班，当爸的想问下她能不能拿补助")
    assert said.subject.relation == "女儿" and said.facts["place"] == "松阳县"
    # "合伙" is said of both; "今年7月刚大学毕业" is this year.
    said = KB.read_conversation(["我和我表哥合伙在文成开农家乐", "他毕业12年了不问，我今年7月刚大学毕业，我能享受吗"])
    assert said.subject.kind == "self" and said.facts["place"] == "文成县"
    assert said.facts["years_since_graduation"] == 0


@pytest.mark.parametrize("text, expected", [
    ("我住义乌，但公司注册在磐安，大学毕业6年", {"place": "磐安县"}),              # where one lives gives way
    ("我从龙港过来的，在平阳开了家公司", {"place": "平阳县"}),                    # where one came from
    ("我来自开化，想问问创业的政策", {"place": "开化县"}),                        # ...unless nothing else is said
    ("从丽水云和派到杭州去挂职的老师", {"place": "杭州市", "origin": "云和县"}),  # sent from is where one is
    ("说错了，是在泰顺，乐清是我老婆老家", {"place": "泰顺县"}),                 # a place named as someone's home
    ("户口在龙游，家也在龙游，但我公司开在杭州滨江", {"place": "滨江区"}),        # home gives way to the business
    ("后来在上海做了两年多博士后，本来想留上海，后来回了浙江，现在在丽水遂昌", {"place": "遂昌县"}),  # 本来, 后来: no move
    ("过去在天台工作，现在在椒江", {"place": "椒江区"}),                          # 过去 is the past, not going
    ("我刚出站，要是过去江山一家民营企业上班，有补助吗", {"place": "江山市"}),       # 过去 after 要是: going there
    ("浦城的，想过去江山工作", {"place": "江山市"}),
    ("两个子公司 一个在临海 一个在仙居 仙居那家去招聘要交参展费吗", {"origin": "仙居县"}),  # the one picked
    ("博士后出站后去了宁波一家民企，户口还在衢州，能拿衢州丽水那个博士后补助吗", {"place": "宁波市"}),  # a measure named
])
def test_the_role_of_a_place_said_around_it(text, expected):
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


def test_a_relative_named_only_for_whose_home_a_place_is_is_not_asked_about():
    assert KB.read_facts("说错了，是在泰顺，乐清是我老婆老家").subject.kind == "self"
    assert KB.read_facts("我老婆在开化工作，她是护士").subject.relation == "妻子"


@pytest.mark.parametrize("text, role", [
    ("在磐安乡下村卫生室干了快二十年了，当年卫校毕业就回村里", "health_worker"),
    ("我考了卫生中级没过", "health_worker"),
    ("我是医学院毕业的，在开化创业", "graduate"),
])
def test_who_studied_or_sits_the_health_exam_is_a_health_worker(text, role):
    assert facts(text).get("role") == role


@pytest.mark.parametrize("text, years", [
    ("我两个表弟都在松阳创业，一个毕业4年，一个毕业12年，毕业12年那个能按高校毕业生享受吗", 12),
    ("我毕业12年了，我朋友毕业3年，我能享受吗", 12),
    ("我儿子今年6月大学本科毕业", 0),
])
def test_years_the_question_names_win_over_others_said_before(text, years):
    assert facts(text).get("years_since_graduation") == years


def test_the_writers_firm_named_last_is_the_writer_asking():
    reading = KB.read_conversation(["我们公司在乐清，我姐夫的公司在永嘉", "省人才市场组织的引才活动，我们公司能免参展费吗"])
    assert reading is not None and reading.subject.kind == "self"
    assert reading.facts["place"] == "乐清市"


def test_the_last_measure_is_the_ninth():
    assert KB.measure_reference("最后一条举措讲啥的") == KB.document.measure_count
    assert KB.measure_reference("第三条") == 3


def test_a_near_miss_of_a_place_inside_a_longer_term_is_no_place():
    assert KB.find_place("能像山区县企业一样免参展费吗") is None
    assert KB.find_place("隋昌县的企业").name == "遂昌县"


def test_a_shared_township_name_is_settled_only_by_a_place_of_one_of_its_counties():
    assert KB.settle_shared_township("岩头镇那里算山区县吧", ["永嘉县"]).name == "永嘉县"
    assert KB.settle_shared_township("岩头镇那里算山区县吧", ["温州市"]).name == "永嘉县"
    assert KB.settle_shared_township("岩头镇那里算山区县吧", ["开化县"]) is None
    assert KB.settle_shared_township("岩头镇那里算山区县吧", []) is None


def test_this_one_points_back_at_the_person_named_before():
    said = KB.read_facts("我舅妈住院了，她的主治医生在开化县人民医院，医生说她儿子在开化一个村卫生室。"
                         "那这位医生本人考卫生中级，能用那个单独分数线吗")
    assert said.subject.kind == "other" and said.subject.relation == "医生"
    assert said.facts["institution_type"] == "hospital"
    # "我是…医生": the writer, whatever their work
    assert KB.read_facts("我是医生，在开化县的乡镇卫生院").subject.kind == "self"


def test_a_person_called_by_surname_is_a_person_of_the_story():
    said = KB.read_facts("我们三个合伙在遂昌创业：老王大学毕业15年，小陈毕业4年，我没读过大学。想问小陈能不能享受")
    assert said.subject.relation == "小陈" and said.subject.address == "小陈"
    assert said.facts["years_since_graduation"] == 4
    assert KB.read_facts("小时候在开化长大").subject.kind == "self"  # 小时 is no one


def test_his_wife_is_not_him():
    reading = KB.read_conversation(["我哥是博士后，出站后去了江山一家民营企业，有补助吗",
                                    "那他老婆呢，她是博士，没做过博士后，也在那家企业"])
    assert reading.subject.relation == "妻子" and reading.facts["role"] == "phd"


def test_the_place_one_last_moved_to_is_the_place():
    said = KB.read_facts("我先在宁波打了几年工，后来跑去义乌做电商，去年回了老家文成县开了个厂，毕业8年了")
    assert said.facts["place"] == "文成县"


@pytest.mark.parametrize("text, other", [
    ("杭州市的大学生创业无偿资助一般给多少钱", True),     # a city only partly covered: its own money
    ("杭州市自己对大学生创业有没有无偿资助", True),
    ("温州的山区县有哪些补助", False),                       # this document's, for its mountain counties
    ("开化县的创业补贴有多少", False),
    ("好的，另外问下个税专项附加扣除怎么填", True),
])
def test_a_places_own_subsidy_is_another_policy(text, other):
    assert (KB.not_covered(text) is not None) == other


def test_the_name_of_a_measure_states_nothing_of_the_person():
    assert "role" not in facts("她想回松阳老家开个茶叶网店，能不能享受高校毕业生毕业10年内的创业扶持")


def test_people_counted_are_whom_one_hires_not_a_person_asked_about():
    said = KB.read_facts("我是磐安一家竹制品厂的老板，想去省人才市场组织的引才活动招几个技术员，展位费要交吗")
    assert said.subject.kind != "other" and said.facts["place"] == "磐安县"
    assert KB.read_facts("我们厂有个技术员大学毕业三年了，他想在磐安自己创业，他能享受吗").facts["years_since_graduation"] == 3


def test_what_one_is_compared_with_is_no_fact_of_ones_own():
    said = facts("她在松阳县城一个社区卫生服务站上班，她考中级那个分数线是不是跟城里大医院的一样啊")
    assert said["institution_type"] == "community_health_station"
    assert KB.not_covered("衢州市本级自己出的博士后工作站建站资助标准是多少") is not None
    # "像博士后那样的补助": what one would like to be treated as
    assert "role" not in facts("去衢州的民营企业工作，省财政有没有像博士后那样的补助")
    assert facts("我是博士后，像我这样的能拿吗")["role"] == "postdoc"


def test_the_closest_measure_of_a_listed_group_is_a_clause_of_the_document(data_copy):
    import yaml as _yaml
    path = data_copy / "unnamed.yml"
    raw = _yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["groups"][0]["closest"] = "m99"
    path.write_text(_yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KBError, match="unknown clause 'm99'"):
        load_kb(data_copy)
    assert KB.unnamed_closest("大学生村官").id == "m6" and KB.unnamed_closest("灵活就业") is None


@pytest.mark.parametrize("text", ["老师好，我是博士后，上个月刚从浙大的站出站", "您好老师，我是博士后", "老师，我是博士后"])
def test_calling_the_one_who_answers_teacher_says_nothing_of_oneself(text):
    assert facts(text).get("role") == "postdoc"


def test_a_teacher_who_says_so_is_still_one():
    assert facts("我是老师，在丽水").get("role") == "professional_technical"


def test_what_is_read_after_others_are_left_out_keeps_its_places():
    # The writer's own words open the message and are left out; the son's places are where they were.
    r = KB.read_facts("我今年六十八了，就一个儿子，毕业以后在上海打工好几年，去年回来说城里压力大，"
                      "要回我们遂昌老家承包几十亩山种高山蔬菜，他是毕业第八年了，我就想问问他还能不能享受那个创业的扶持")
    assert r.subject.relation == "儿子"
    assert r.facts["place"] == "遂昌县" and r.facts["years_since_graduation"] == 8


def test_a_counted_group_is_not_the_one_asked_about():
    r = KB.read_facts("我们单位在松阳，是一家民营茶叶公司。去年引进了几个大学生，今年想招一个博士后站出来的博士，"
                      "人已经出站了，就是他老婆在杭州上班孩子还小有点顾虑。老板想知道他来了省里有没有补助")
    assert r.facts["role"] == "postdoc"
    # 他 is the one hired, not his wife or child
    assert r.subject.kind == "other" and r.subject.relation is None


def test_someone_elses_relative_is_no_relative_of_the_writer():
    r = KB.read_facts("他女朋友还在读大三，也想跟他一起在常山创业")
    assert (r.subject.kind, r.subject.relation) == ("other", "女朋友")
    assert r.facts["role"] == "student"
    r = KB.read_conversation(["我儿子大学毕业5年，在常山开网店创业", "他女朋友还在读大三，也想跟他一起在常山创业",
                              "她能按高校毕业生享受扶持吗"])
    assert r.subject.relation == "女朋友" and r.subject.address == "该女朋友"
    assert r.facts["role"] == "student"


def test_a_boss_spoken_of_as_a_person_is_one():
    r = KB.read_facts("老板让我来问的 我们厂在磐安 老板自己没上过大学 厂里有个技术员大学毕业三年了 "
                      "想在磐安自己出来单干 他能享受高校毕业生创业扶持吗")
    assert r.subject.relation == "技术员" and r.facts["role"] == "graduate"
    assert KB.read_facts("博后出站去遂昌一家私人老板开的厂").facts["employer_type"] == "private"


@pytest.mark.parametrize("text", ["我侄女研究生还在读，没毕业", "研究生还在读", "大学没读完，算大学生吗"])
def test_not_yet_or_never_a_graduate_wins_over_the_word_for_one_in_either_order(text):
    assert facts(text)["role"] in ("student", "non_graduate")


def test_a_graduate_is_still_one():
    assert facts("我研究生毕业3年").get("role") == "graduate"


def test_the_writer_saying_who_they_are_to_someone_is_said_of_the_writer():
    r = KB.read_facts("我外甥大学毕业第三年,在平阳开了家奶茶店,我是他舅舅,没上过大学,也在平阳开店,"
                      "我外甥能按高校毕业生享受创业扶持吗")
    assert r.subject.relation == "外甥" and r.facts["role"] == "graduate" and r.facts["years_since_graduation"] == 3


def test_who_sends_the_writer_to_ask_is_not_asked_about_unless_family():
    r = KB.read_facts("村支书让我问问 我们村卫生室的乡村医生考卫生中级 有没有单独的线")
    assert r.subject.kind == "self" and r.facts.get("institution_type") == "village_clinic"
    r = KB.read_facts("我们村支书的儿子大学毕业整10年，在磐安搞茶叶合作社创业，支书自己没上过大学，他儿子还在年限内吗")
    assert r.subject.relation == "儿子" and r.facts["role"] == "graduate"


@pytest.mark.parametrize("text", ["我是宁波市第一医院的医生", "温州市中心医院", "县中医院的护士"])
def test_a_public_hospital_named_by_its_place_is_a_public_institution(text):
    assert facts(text).get("employer_type") == "public_institution"


@pytest.mark.parametrize("text, value", [("我大三，还没毕业，在开化搞了个校园跑腿的小项目", "startup"),
                                         ("我在杭州市区一家农业事业单位做农技推广研究员", None)])
def test_more_undertakings_and_professionals(text, value):
    if value:
        assert facts(text)["activity"] == value
    else:
        assert facts(text)["role"] == "professional_technical"


@pytest.mark.parametrize("text", ["温州市自己出台的大学生创业补贴有多少钱", "杭州市自己对大学生创业有没有无偿资助"])
def test_a_citys_own_policy_is_another_document(text):
    assert KB.not_covered(text)


def test_coming_back_home_to_stay_makes_where_one_went_before_the_past():
    r = KB.read_facts("我从小在景宁长大，后来去杭州读的护理，毕业以后在杭州一家私立医院干了三年，"
                      "去年就回来了，现在在我们镇上的卫生院当护士，今年单位让我报卫生中级")
    assert r.facts["place"] == "景宁畲族自治县" and r.facts["institution_type"] == "township_health_center"
    # a visit home is no coming back to stay
    assert KB.read_facts("我老家在开化，在杭州工作，过年回来了").facts["place"] == "杭州市"


def test_whom_one_heard_it_from_is_not_asked_about():
    r = KB.read_facts("我在松阳的乡镇卫生院当护士，听同事说山区县有单独的分数线，是真的吗")
    assert r.subject.kind == "self"


@pytest.mark.parametrize("text", ["他考中级能按乡镇卫生院那条单独线吗", "想在江山开奶茶店，高校毕业生创业扶持我能用吗"])
def test_words_that_name_a_measure_say_nothing_of_the_person(text):
    f = facts(text)
    assert "institution_type" not in f and "role" not in f


@pytest.mark.parametrize("text, years", [("没毕业几年,就两年", 2), ("毕业没多久，在开化开店", None)])
def test_graduated_not_long_ago_is_a_graduate(text, years):
    f = facts(text)
    assert f["role"] == "graduate" and f.get("years_since_graduation") == years


def test_the_description_of_a_measure_for_graduates_says_nothing_of_who_asks():
    assert "role" not in facts("她能用上那个高校毕业生毕业10年内的创业扶持吗")
    assert facts("我是高校毕业生，想了解创业扶持")["role"] == "graduate"


@pytest.mark.parametrize("text, place", [
    ("我们公司在江西上饶，离衢州很近，参加浙江省人才市场组织的引才活动也免参展费吗", "上饶市"),
    ("我在衢州旁边的龙游开厂", "龙游县"),
    ("我们在开化，离江西很近", "开化县"),
])
def test_a_place_named_only_as_near_is_not_where_one_is(text, place):
    f = facts(text)
    assert f["place"] == place and f["origin"] == place


def test_where_the_business_is_wins_over_where_the_person_stays():
    f = facts("人在义乌，公司注册在缙云，是民营企业，参加省人才市场引才活动免参展费吗")
    assert f["place"] == "缙云县" and f["origin"] == "缙云县"
    # (someone there is not the writer staying there)
    assert facts("有个人在义乌开了家公司")["place"] == "义乌市"


def test_going_back_to_a_place_talked_of_is_no_move():
    f = facts("回到景宁，那边的企业参加省里的引才活动要交参展费吗")
    assert f["origin"] == "景宁畲族自治县" and f["place"] == "景宁畲族自治县"
    assert "origin" not in facts("我想回到景宁创业")  # going back to live there: where one goes


@pytest.mark.parametrize("text, startup", [
    ("我同学毕业11年，在松阳开茶厂", True),
    ("在遂昌开服装店三年了", True),
    ("我在开化县的店里打工", False),
    ("我在开发公司上班", False),
    ("我开车去厂里", False),
])
def test_opening_a_shop_or_works_is_a_start_up(text, startup):
    assert (facts(text).get("activity") == "startup") is startup


def test_a_unit_sending_people_and_the_service_period_name_the_secondment():
    topics = KB.clauses_for_topic("就是我在宁波的医院当医生然后院里说要派人去山区县那个服务期是多长时间啊")
    assert topics[0][0].id == "m4.2"


def test_house_prices_are_another_matter():
    assert KB.not_covered("好的，那淳安现在房价多少") == "房价"


def test_one_of_a_unit_asking_about_an_exam_asks_for_themselves():
    r = KB.read_facts("我们单位不是乡镇卫生院，是仙居县人民医院，考中级有单独分数线吗")
    assert r.subject.kind == "self" and "role" not in r.facts and r.facts["institution_type"] == "hospital"
    # an employer asking about what employers do stays the employer
    r = KB.read_facts("我们公司在缙云，参加招聘会免参展费吗")
    assert r.subject.kind == "employer" and r.facts["role"] == "employer"


def test_bringing_on_young_staff_is_the_secondment_measure():
    topics = KB.clauses_for_topic("院里老同志想去山区县带带年轻人，有这方面的政策吗")
    assert topics[0][0].id == "m4.2"
    # a retired doctor is no one the document names; the nearest is the secondment measure
    assert KB.unnamed_group("我是退休医生，想去山区县的乡镇卫生院帮忙带带年轻人")[0] == "退休医生"
    assert KB.unnamed_closest("退休医生").id == "m4.2"


def test_a_place_denied_of_a_relative_leaves_the_place_said_next():
    facts = KB.extract_facts("啊不对 我侄女不在杭州 她在常山县的一个乡镇卫生院")
    assert facts["place"] == "常山县"
    assert KB.extract_facts("我侄女不在杭州 在常山县")["place"] == "常山县"


def test_a_stretch_opened_by_another_is_read_for_its_own_speaker():
    texts = ["我是丽水人 博士后出站后去了杭州一家民企 能拿补助吗",
             "我师妹是金华市区的 刚去磐安一个乡镇卫生院上班 卫生中级考试能用单独线吗",
             "另外我们公司从义乌搬到了松阳 现在去省人才市场招人参展费能免吗"]
    reading = KB.read_conversation(texts)
    assert reading is not None and reading.facts["place"] == "松阳县"


def test_a_group_is_never_read_across_clauses():
    assert KB.unnamed_group("文件是公开的吗,我能转到村民群里不") is None


def test_other_matters_inside_a_measure_term_do_not_count():
    assert KB.not_covered("卫中考试 山区县单独划线") is None
    assert KB.not_covered("孩子中考怎么报名") == "中考"


def test_a_partial_statement_also_says_what_is_left_open():
    a = KB.aspect_answer("m2", "procedure")
    assert a.states == "“飞地”人才的认定由飞入地负责" and a.missing == "文件没有规定申请程序"
    named = KB.aspect_answer("scope", "named")
    assert named.states and named.missing is None  # the document lists the counties itself


def test_the_asking_clause_picks_the_sentence_quoted():
    said = KB.best_sentence("m3.2", "我是天台山里村卫生室的乡村医生 卫生高级评聘那块重点看啥")
    assert said.startswith("在卫生高级自主评聘方面")
    assert KB.best_sentence("m3.2", "村卫生室的考中级有单独分数线吗").startswith("全省卫生中级资格考试时")


def test_what_also_is_asked_of_picks_the_sentence_quoted():
    # (the 中级 pass mark is what is asked of 高级 again; the sentence on 高级 answers)
    assert KB.best_sentence("m3.2", "那高级职称也是单独划线吗").startswith("在卫生高级自主评聘方面")
    assert KB.best_sentence("m3.2", "那社区卫生服务站也算吗").startswith("全省卫生中级资格考试时")


@pytest.mark.parametrize("text, status", [
    ("他其实还没出站，还在站，明年才出站，只是先来我们这里做项目", "in_station"),
    ("下个月就出站了", "in_station"),
    ("快出站了", "in_station"),
    ("上个月才出站", "completed"),              # a time past: done
    ("他去年底出站去了龙泉", "completed"),
    ("博士后明年出站以后想去丽水民企", "completed"),  # a plan for then is judged as of then
    ("女儿在上海做博后 快出站了 她说想回浙江山区县的企业", "completed"),
    ("她说明年出站 去遂昌一家民营的药企", "completed"),
])
def test_a_completion_said_of_a_time_to_come_is_not_yet(text, status):
    assert facts(text)["postdoc_status"] == status


def test_a_place_whose_plan_came_to_nothing_gives_way_to_the_one_signed():
    got = facts("不对，青田那家没谈成，现在签的是福建福鼎的一家民企。")
    assert got["place"] == "福鼎市"
    assert "place" not in facts("青田那家黄了")


def test_of_places_in_different_clauses_the_latest_move_counts():
    assert facts("本来想去青田，后来去了福鼎")["place"] == "福鼎市"
    assert facts("我想去江西上饶婺源创业")["place"] == "婺源县"   # named together: the narrowest
    assert facts("想去丽水市莲都区开店")["place"] == "莲都区"


def test_a_county_of_a_neighbouring_province_tagged_as_a_name_is_a_place():
    # jieba tags 福鼎 and 寿宁 as people's names; a county is meant
    assert KB.find_place("福鼎").outside.name == "福鼎市"
    assert [m.name for m in KB.places_in_text("福建寿宁的")][-1] == "寿宁县"


def test_who_wants_another_to_go_is_not_the_one_asked_about():
    assert KB.read_facts("他爸妈想让他去杭州滨江创业，那边还能享受吗").subject.kind != "relative"
    assert KB.read_facts("我老婆想让我去丽水工作").subject.kind == "self"
    # (one who sends the writer to ask still is: "让我问问她…")
    assert KB.read_facts("我老婆让我问问她能不能享受").subject.relation == "妻子"


def test_words_that_hold_a_word_for_a_person_name_no_one():
    assert KB.read_facts("这两天朋友圈都在转山区26县的新闻，我是博士后").subject.kind == "self"
    assert KB.read_facts("我朋友是博士后").subject.relation == "朋友"
    # a child's schooling asked of as a benefit is the writer's own question
    assert KB.read_facts("我这种飞地人才在买房、孩子上学方面能享受什么待遇").subject.kind == "self"
    assert KB.read_facts("我孩子在丽水学院读大四").subject.relation == "孩子"


def test_the_home_one_means_to_go_back_to_is_where_one_goes():
    got = facts("我是江西一所大学今年刚毕业的，老家在台州三门，想回去考基层公共管理和社会服务岗位")
    assert got["place"] == "三门县"
    assert facts("我老家在仙居，现在在杭州工作")["place"] == "杭州市"


def test_a_firm_that_sets_up_somewhere_in_zhejiang_has_no_place_yet():
    got = facts("我们是上海一家做工业软件的公司，打算在浙江开个分公司招人")
    assert "place" not in got and "origin" not in got
    assert facts("女儿在上海做博后，想回浙江工作").get("origin") == "上海市"


def test_a_school_named_after_a_place_is_where_one_studied():
    got = facts("我帮我表哥问：他是丽水学院毕业的，毕业9年了，想在松阳开个茶叶加工厂")
    assert got["place"] == "松阳县"
    assert "place" not in facts("我是丽水学院毕业的，想创业")


def test_what_the_writer_did_with_someone_is_the_writers_too():
    text = ("说来话长，我前年从宁波辞职，跟老公回了他老家武义，回来后在柳城那边跟人合伙养了两年蜂，"
            "我大学毕业到现在已经11年多了，想问下创业担保贷款那个毕业年限放宽我还赶得上吗？对了我婆婆最近腰不好")
    reading = KB.read_facts(text)
    assert reading.subject.kind == "self" and reading.facts["place"] == "武义县"


def test_a_place_left_for_another_is_left_behind():
    got = facts("不是市中心医院了，她上个月已经调到莲都区的一个乡镇卫生院。")
    assert got["institution_type"] == "township_health_center"


def test_a_person_named_after_the_words_that_asked_of_another_is_asked_about():
    texts = ["我是退役军人，没上过大学，在遂昌开了家农家乐，文件里的创业扶持有我的份吗？",
             "那我弟弟是中专毕业的，毕业6年，也在遂昌，他算文件说的“高校毕业生”吗？",
             "我表妹本科毕业6年，在遂昌开民宿，她总该可以了吧？"]
    reading = KB.read_conversation(texts)
    assert reading.subject.relation == "妹妹"
    assert reading.facts["role"] == "graduate" and reading.facts["years_since_graduation"] == 6


def test_a_place_named_only_as_near_is_not_asked_about():
    assert facts("我在歙县，歙县跟淳安挨着").get("place") != "淳安县"


def test_another_matter_that_only_tells_who_asks_does_not_make_the_question_another_matters():
    # (the routing asks whether a measure is named strongly; the knowledge base still names the matter)
    assert KB.not_covered("我们是缙云的一家民营养老院，护理员想参加职业技能等级认定") == "养老院"


def test_a_place_named_as_next_door_is_not_where_one_is():
    got = facts("记错了，不是龙游，是安徽的歙县，在淳安隔壁")
    assert got.get("place") == "歙县" and got.get("origin") == "歙县"


def test_a_firm_moved_back_is_where_the_firm_now_is():
    got = facts("假如我们厂迁回缙云呢")
    assert got["place"] == got["origin"] == "缙云县"


def test_what_was_said_before_of_another_leaves_what_the_writer_now_says_of_themselves():
    reading = KB.read_facts("哦 前面说的是我弟弟 我自己是本科毕业的 毕业6年 在遂昌开民宿")
    assert reading.subject.kind == "self"
    assert reading.facts["role"] == "graduate" and reading.facts["years_since_graduation"] == 6
    # (asked of another, whatever the writer then says of themselves, the other is asked about)
    assert KB.read_facts("我问的是我弟弟，我自己是本科毕业的").subject.relation == "弟弟"


def test_a_place_one_will_not_go_back_to_is_denied():
    got = facts("打算在杭州萧山开店，不回开化了")
    assert got["place"] == "萧山区"
    assert facts("回不回开化还没想好").get("place") == "开化县"  # (a question, not a denial)


def test_where_an_event_is_held_is_no_one_s_place():
    got = facts("我们厂在龙游，去杭州的招聘会要交展位费吗")
    assert got["origin"] == "龙游县"
    assert "place" not in facts("是省人才市场组织的 在宁波")


def test_who_organises_an_event_and_the_level_of_an_exam_are_read_when_said():
    assert facts("不是省人才市场办的，是丽水市人才市场办的")["event_organiser"] == "other"
    assert facts("参加省人才市场组织的引才活动")["event_organiser"] == "provincial"
    assert facts("她考的是初级，不是中级")["exam_level"] == "junior"
    assert "event_organiser" not in facts("去招聘会要交钱吗")


def test_where_a_hospital_is_paired_to_help_is_where_its_doctors_go():
    got = facts("我们是宁波鄞州的公立医院，对口帮扶的是淳安县中医院")
    assert got["place"] == "淳安县" and got["origin"] == "鄞州区"


def test_what_the_writer_sets_aside_names_no_group():
    assert KB.unnamed_group("我是退休的老教师，跟这个没关系，想问问我侄子博后出站去龙泉有没有补助") is None
    assert KB.unnamed_group("我是退休的老教师，文件对我们有什么政策") is not None


@pytest.mark.parametrize("text, status", [
    ("博士后我没做完 中途退站了 现在去衢州一家民企", "withdrawn"),
    ("我去年提前离开了工作站", "withdrawn"),
    ("我期满退站了 去衢州民企", "completed"),   # a station left when the term ended is one left
])
def test_leaving_a_station_before_the_end_is_no_completion(text, status):
    assert facts(text)["postdoc_status"] == status


def test_a_withdrawal_fails_the_postdoc_subsidy_and_names_why():
    v = KB.evaluate("m1", {"role": "postdoc", "postdoc_status": "withdrawn", "place": "衢江区", "employer_type": "private"})
    assert v.verdict == "not_eligible" and any("中途退站" in r for r in v.unmet)
    assert not any("出站" in r for r in v.met)


@pytest.mark.parametrize("text", [
    "还能申请出站博士后那个补助吗",        # the measure's name, not a fact of the writer
    "她今年考中级 能按山区乡镇卫生院那个线吗",  # the line a unit is named for, not her unit
])
def test_words_that_name_a_measure_state_no_fact(text):
    got = facts(text)
    assert "postdoc_status" not in got and "institution_type" not in got


def test_an_exam_of_a_health_profession_is_the_health_exam():
    assert facts("那我考护理中级能按单独的分数线吗")["activity"] == "health_exam"
    assert facts("她今年报了检验的中级")["activity"] == "health_exam"


@pytest.mark.parametrize("text, place", [
    ("听说省人才市场在杭州有组织引才活动 我们这种山区县的小企业去参加 展位费要不要交", None),  # where it is held
    ("我们村卫生室是不是有单独的合格线 不跟温州市区医院的人一个线", None),               # compared with
    ("我在庆元和龙泉都有店", "庆元县"),                                                # 和 that joins
])
def test_a_place_of_an_event_or_of_a_comparison_is_no_ones(text, place):
    assert facts(text).get("place") == place


def test_all_a_message_says_of_the_one_relative_it_names_is_his():
    got = facts("我表哥是江西上饶人 在上海做的博士后 刚出站 要去衢州开化一家民营企业 他不是浙江人能不能拿补助")
    assert got["place"] == "开化县" and got["origin"] == "上海市"   # (江西上饶 is where he is from)
    assert facts("我哥在磐安一家民企，我嫂子在庆元一家民企，问我嫂子")["place"] == "庆元县"


def test_a_document_of_a_department_that_did_not_issue_this_one_is_another():
    assert KB.not_covered("人社部那个就业见习补贴的文件 每人每月补多少")
    assert KB.not_covered("是省政府发的文件吗") is None          # asks who issued this one
    assert KB.not_covered("新闻里说这是省政府出的文件，对吗") is None


def test_the_kind_the_writer_asks_as_wins_over_another_said_in_passing():
    facts = KB.read_facts("我是企业派驻在杭州飞地园区的研发工程师，我这种飞地人才在买房方面能享受什么待遇").facts
    assert facts["role"] == "enclave_talent"
    assert "activity" not in facts  # (派驻 to an enclave is the enclave's job, not 挂职)
    assert KB.read_facts("单位派我去文成挂职").facts["activity"] == "secondment"
    assert KB.read_facts("我是研发工程师").facts["role"] == "professional_technical"
