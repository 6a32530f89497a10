"""Eligibility verdicts with their reasons."""
import pytest

from policy_kb import KBError

PD = {"role": "postdoc", "postdoc_status": "completed", "employer_type": "private"}
GRAD = {"role": "graduate", "activity": "startup"}
NURSE = {"role": "health_worker", "institution_type": "township_health_center"}

# (clause, facts, verdict, substrings expected in met / unmet, missing (exact, in order) or None)
CASES = [
    # m1: finished postdoc, private enterprise, a mountain county of 衢州 or 丽水
    ("m1", {**PD, "place": "缙云县"}, "eligible", ["缙云县属于丽水市，在第一条覆盖范围内"], None),
    ("m1", {**PD, "place": "缙云"}, "eligible", ["丽水市"], None),
    ("m1", {**PD, "place": "松阳县"}, "eligible", ["松阳县"], None),
    ("m1", {**PD, "place": "开化县"}, "eligible", ["开化县属于衢州市"], None),
    ("m1", {**PD, "place": "柯城区"}, "eligible", ["衢州市"], None),
    ("m1", {**PD, "place": "景宁"}, "eligible", ["景宁畲族自治县"], None),
    ("m1", {**PD, "place": "丽水"}, "eligible", ["丽水市"], None),
    ("m1", {**PD, "place": "衢州市区"}, "eligible", ["衢州市区"], None),
    ("m1", {**PD, "place": "淳安县"}, "not_eligible", ["淳安县不在第一条覆盖范围内", "杭州市"], None),
    ("m1", {**PD, "place": "武义"}, "not_eligible", ["武义县", "衢州、丽水", "是山区26县之一，但不属于本条所列的市"], None),
    ("m1", {**PD, "place": "泰顺县"}, "not_eligible", ["泰顺县"], None),
    ("m1", {**PD, "place": "天台县"}, "not_eligible", ["天台县"], None),
    ("m1", {**PD, "place": "乐清市"}, "not_eligible", ["不是山区26县之一"], None),
    ("m1", {**PD, "place": "龙港市"}, "not_eligible", ["龙港市"], None),
    ("m1", {**PD, "place": "上海"}, "not_eligible", ["上海市不在浙江省"], None),
    ("m1", {**PD, "place": "杭州"}, "not_eligible", ["杭州市"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "state_owned"}, "not_eligible", ["国有企业"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "国企"}, "not_eligible", ["国有企业"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "public_institution"}, "not_eligible", ["事业单位"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "foreign"}, "not_eligible", ["外资企业"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "government"}, "not_eligible", ["党政机关"], None),
    ("m1", {**PD, "place": "缙云县", "employer_type": "私企"}, "eligible", ["民营企业"], None),
    ("m1", {**PD, "place": "缙云县", "postdoc_status": "in_station"}, "not_eligible", ["在站"], None),
    ("m1", {**PD, "place": "缙云县", "postdoc_status": "在站"}, "not_eligible", ["在站"], None),
    ("m1", {**PD, "place": "缙云县", "role": "graduate"}, "not_eligible", ["高校毕业生"], None),
    ("m1", {"role": "postdoc", "postdoc_status": "completed"}, "need_info", [], ["place", "employer_type"]),
    # "企业" alone does not say whether it is a 民营企业: ask, do not refuse.
    ("m1", {**PD, "place": "缙云县", "employer_type": "企业"}, "need_info", [], ["employer_type"]),
    # m4.1: a company speaking for itself ("我们是遂昌的企业") is the employer.
    ("m4.1", {"role": "employer", "employer_type": "enterprise", "origin": "遂昌县"}, "eligible", ["企业", "遂昌县"], None),
    ("m4.1", {"employer_type": "enterprise", "origin": "遂昌县"}, "eligible", ["遂昌县"], None),
    ("m4.1", {"employer_type": "enterprise", "origin": "义乌市"}, "not_eligible", ["义乌市"], None),
    ("m4.1", {"employer_type": "public_institution", "role": "employer", "origin": "遂昌县"}, "not_eligible", ["事业单位"], None),
    # m3.2: sitting the 卫生中级 exam implies a health worker.
    ("m3.2", {"activity": "health_exam", "institution_type": "community_health_station", "place": "龙游县"},
     "eligible", ["卫生专业技术人员", "社区卫生服务站"], None),
    ("m1", {"role": "postdoc"}, "need_info", [], ["place", "employer_type", "postdoc_status"]),
    ("m1", {}, "need_info", [], ["place", "employer_type", "postdoc_status", "role"]),
    ("m1", {**PD, "place": "温州"}, "not_eligible", ["温州市"], None),
    ("m1", {"role": "postdoc", "place": "淳安县"}, "not_eligible", ["淳安县"], None),
    # m7: start a business in a mountain county; graduates within 10 years of graduation
    ("m7", {**GRAD, "place": "龙泉市", "years_since_graduation": 8}, "eligible", ["毕业8年", "龙泉市属于丽水市"], None),
    ("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 5}, "eligible", ["毕业5年"], None),
    ("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 10}, "eligible", ["毕业10年"], None),
    ("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 11}, "not_eligible", ["毕业11年，超过"], None),
    ("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 12}, "not_eligible", ["毕业12年"], None),
    ("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 0}, "eligible", ["毕业0年"], None),
    ("m7", {**GRAD, "place": "泰顺县", "years_since_graduation": 7}, "eligible", ["泰顺县属于温州市"], None),
    ("m7", {**GRAD, "place": "淳安", "years_since_graduation": 3}, "eligible", ["淳安县属于杭州市"], None),
    ("m7", {**GRAD, "place": "义乌", "years_since_graduation": 3}, "not_eligible", ["义乌市"], None),
    ("m7", {**GRAD, "place": "常山县", "years_since_graduation": "十一"}, "not_eligible", ["毕业11年"], None),
    ("m7", {**GRAD, "place": "缙云县"}, "need_info", [], ["years_since_graduation"]),
    ("m7", GRAD, "need_info", [], ["place", "years_since_graduation"]),
    ("m7", {"activity": "startup", "place": "龙泉"}, "need_info", [], ["role", "years_since_graduation"]),
    ("m7", {"activity": "startup", "place": "龙泉", "role": "other"}, "not_eligible", ["只针对高校毕业生"], None),
    ("m7", {"activity": "startup", "place": "龙泉", "role": "student"}, "not_eligible", ["在校学生"], None),
    ("m7", {"activity": "startup", "place": "龙泉", "role": "not:graduate"}, "not_eligible", ["非高校毕业生"], None),
    ("m7", {"activity": "startup", "place": "龙泉", "years_since_graduation": 9}, "eligible", ["毕业9年"], None),
    ("m7", {"role": "graduate", "place": "龙泉", "years_since_graduation": 2}, "need_info", [], ["activity"]),
    ("m7", {**GRAD, "place": "苏州", "years_since_graduation": 2}, "not_eligible", ["苏州市（江苏省）不在浙江省"], None),
    # m3.2: health workers in rural health units of a mountain county
    ("m3.2", {**NURSE, "place": "泰顺县"}, "eligible", ["乡镇卫生院", "泰顺县属于温州市"], None),
    ("m3.2", {**NURSE, "place": "淳安县"}, "eligible", ["淳安县"], None),
    ("m3.2", {**NURSE, "place": "莲都区", "institution_type": "community_health_station"}, "eligible", ["社区卫生服务站"], None),
    ("m3.2", {**NURSE, "place": "开化", "institution_type": "村卫生室"}, "eligible", ["村卫生室"], None),
    ("m3.2", {**NURSE, "place": "杭州", "institution_type": "hospital"}, "not_eligible", ["医院"], None),
    ("m3.2", {**NURSE, "place": "上城区"}, "not_eligible", ["上城区"], None),
    ("m3.2", {**NURSE, "place": "泰顺县", "institution_type": "县医院"}, "not_eligible", ["医院"], None),
    ("m3.2", {"role": "health_worker"}, "need_info", [], ["place", "institution_type"]),
    ("m3.2", {**NURSE, "place": "温州"}, "need_info", [], ["place"]),
    ("m3.2", {**NURSE, "place": "泰顺县", "role": "professional_technical"}, "not_eligible", ["专业技术人才"], None),
    # m3.1
    ("m3.1", {"role": "professional_technical", "place": "云和县"}, "eligible", ["云和县属于丽水市"], None),
    ("m3.1", {"role": "教师", "place": "苍南"}, "eligible", ["专业技术人才"], None),
    ("m3.1", {"role": "professional_technical", "place": "鄞州区"}, "not_eligible", ["鄞州区"], None),
    ("m3.1", {"role": "professional_technical"}, "need_info", [], ["place"]),
    # m2
    ("m2", {"role": "enclave_talent", "place": "衢江区"}, "eligible", ["衢江区"], None),
    ("m2", {"role": "enclave_talent", "place": "余杭区"}, "not_eligible", ["余杭区"], None),
    ("m2", {"place": "衢江区"}, "need_info", [], ["role"]),
    # m4.1
    ("m4.1", {"role": "employer", "employer_type": "private", "origin": "三门县"}, "eligible", ["三门县"], None),
    ("m4.1", {"role": "employer", "employer_type": "public_institution", "origin": "三门县"}, "not_eligible", ["事业单位"], None),
    ("m4.1", {"role": "employer", "origin": "三门县"}, "need_info", [], ["employer_type"]),
    ("m4.1", {"role": "employer", "employer_type": "private", "origin": "宁波市", "place": "丽水市"}, "not_eligible", ["宁波市"], None),
    # m4.2
    ("m4.2", {"role": "professional_technical", "employer_type": "public_institution", "place": "磐安县", "origin": "杭州市"}, "eligible", ["事业单位", "杭州市"], None),
    ("m4.2", {"role": "professional_technical", "employer_type": "public_institution", "origin": "磐安县"}, "not_eligible", ["磐安县本身是山区县"], None),
    ("m4.2", {"role": "professional_technical", "employer_type": "public_institution", "place": "磐安县"}, "need_info", [], ["origin"]),
    ("m4.2", {"role": "professional_technical", "employer_type": "private", "place": "磐安县"}, "not_eligible", ["民营企业"], None),
    # m6
    ("m6", {"role": "graduate", "activity": "grassroots_job", "place": "仙居县"}, "eligible", ["仙居县"], None),
    ("m6", {"role": "graduate", "activity": "grassroots_job", "place": "嘉善县"}, "not_eligible", ["嘉善县"], None),
    ("m6", {"role": "graduate", "place": "仙居县"}, "need_info", [], ["activity"]),
    # a condition people seldom state is tested only when said (if_said), never asked for
    ("m4.1", {"employer_type": "private", "origin": "天台县"}, "eligible", ["天台县"], None),
    ("m4.1", {"employer_type": "private", "origin": "天台县", "event_organiser": "other"}, "not_eligible",
     ["省人才市场组织的引才活动"], None),
    ("m4.1", {"employer_type": "private", "origin": "天台县", "event_organiser": "provincial"}, "eligible",
     ["活动组织方：省人才市场"], None),
    ("m3.2", {**NURSE, "place": "天台县", "exam_level": "junior"}, "not_eligible", ["初级"], None),
    ("m3.2", {**NURSE, "place": "天台县", "exam_level": "intermediate"}, "eligible", ["中级"], None),
    # (one who denies being an enclave's talent told of no enclave: no reason says one was set up)
    ("m2", {"role": "not:enclave_talent", "place": "仙居县"}, "not_eligible", ["非“飞地”人才"], None),
]


@pytest.mark.parametrize("cid,facts,verdict,reasons,missing", CASES)
def test_verdicts(kb, cid, facts, verdict, reasons, missing):
    result = kb.evaluate(cid, facts)
    assert result.verdict == verdict, (result.met, result.unmet, result.missing)
    assert result.clause_id == cid
    if verdict == "eligible":
        assert result.unmet == [] and result.missing == []
        for reason in reasons:
            assert any(reason in m for m in result.met), (reason, result.met)
    elif verdict == "not_eligible":
        assert result.unmet and result.unmet_facts
        for reason in reasons:
            assert any(reason in u for u in result.unmet), (reason, result.unmet)
    else:
        assert result.unmet == []
        assert result.missing == missing
        assert list(result.questions) == missing
        for key in missing:
            assert result.questions[key].text


def test_at_least_forty_cases():
    assert len(CASES) >= 40


def test_unmet_names_the_fact(kb):
    result = kb.evaluate("m1", {**PD, "place": "淳安县", "employer_type": "state_owned"})
    assert result.unmet_facts == ["place", "employer_type"]
    assert result.unmet[0].startswith("地点：") and result.unmet[1].startswith("单位类型：")


def test_verdict_carries_hedges_and_who_decides(kb):
    m1 = kb.evaluate("m1", {**PD, "place": "缙云县"})
    assert any(h.startswith("视情：") for h in m1.hedges)
    assert "省财政" in m1.decided_by
    m7 = kb.evaluate("m7", {**GRAD, "place": "龙泉", "years_since_graduation": 8})
    assert any("有条件的山区县" in h for h in m7.hedges)
    assert any("在风险可控的前提下" in h for h in m7.hedges)
    assert "山区县" in m7.decided_by


def test_payload(kb):
    result = kb.evaluate("m1", {**PD, "place": "缙云县"})
    assert result.to_payload() == {
        "clause_id": "m1", "verdict": "eligible", "met": result.met, "unmet": [], "missing": [],
    }
    assert result.met[2] == "地点：缙云县属于丽水市，在第一条覆盖范围内（衢州、丽水山区县）"


def test_questions_have_buttons(kb):
    result = kb.evaluate("m1", {"role": "postdoc"})
    employer = result.questions["employer_type"]
    assert employer.buttons[0].title == "民营企业" and employer.buttons[0].payload_value == "private"
    status = result.questions["postdoc_status"]
    assert [b.payload_value for b in status.buttons] == ["completed", "in_station", "withdrawn"]
    years = kb.evaluate("m7", {**GRAD, "place": "龙泉"}).questions["years_since_graduation"]
    assert [b.payload_value for b in years.buttons] == ["5", "10", "11"]
    role = kb.evaluate("m7", {"activity": "startup", "place": "龙泉"}).questions["role"]
    assert [b.payload_value for b in role.buttons] == ["graduate", "other"]


def test_partly_covered_city_asks_for_the_county(kb):
    result = kb.evaluate("m3.2", {**NURSE, "place": "温州市"})
    question = result.questions["place"]
    assert "永嘉县" in question.text
    assert [b.payload_value for b in question.buttons] == ["永嘉县", "平阳县", "苍南县", "文成县", "泰顺县"]


def test_a_partly_covered_city_alone_is_its_urban_districts_where_the_rule_says_so(kb):
    # a venture or an enterprise "在杭州": 杭州市区, none of whose districts is of the 26
    for cid, facts in (("m7", {"activity": "startup", "role": "graduate", "years_since_graduation": 3,
                               "place": "杭州市"}),
                       ("m4.1", {"employer_type": "private", "origin": "温州市"})):
        result = kb.evaluate(cid, facts)
        assert result.verdict == "not_eligible", (cid, result)
        said = " ".join(result.unmet)
        assert "市区" in said and ("淳安县" in said if cid == "m7" else "泰顺县" in said), said
    # a city all of whose counties are covered is judged as covered
    assert kb.evaluate("m7", {"activity": "startup", "role": "graduate", "years_since_graduation": 3,
                              "place": "衢州市"}).verdict == "eligible"
    # a rule without it asks (a township health centre "在温州" is as likely in 文成 as in 瓯海)
    assert kb.evaluate("m3.2", {**NURSE, "place": "温州市"}).verdict == "need_info"


def test_rule_clauses(kb):
    assert kb.rule_clauses() == ["m1", "m2", "m3.1", "m3.2", "m4.1", "m4.2", "m6", "m7"]
    for cid in ("m8", "m9", "scope"):
        with pytest.raises(KBError):
            kb.evaluate(cid, {})
    with pytest.raises(KBError):
        kb.evaluate("m99", {})


def test_clauses_testing_a_fact(kb):
    # each measure whose rule has a condition on the fact, in the document's order, once
    for fact in ("postdoc_status", "place", "role", "activity", "employer_type", "origin"):
        expected = [cid for cid in kb.rule_clauses() if any(c.fact == fact for c in kb.rules[cid].conditions)]
        assert kb.eligibility.clauses_testing(fact) == expected
    assert kb.eligibility.clauses_testing("postdoc_status") == ["m1"]
    assert kb.eligibility.clauses_testing("no_such_fact") == []


def test_what_each_measure_is_for(kb):
    assert kb.eligibility.undertakings("m4.2") == ["secondment"]
    assert kb.eligibility.undertakings("m7") == ["startup"]
    assert kb.eligibility.undertakings("m3.2") == ["health_exam", "title_evaluation"]
    assert kb.eligibility.undertakings("m1") == [] and kb.eligibility.undertakings("m99") == []


def test_applicable(kb):
    verdicts = kb.applicable({"role": "graduate", "place": "缙云县"})
    assert [v.clause_id for v in verdicts] == ["m6", "m7"]
    best = kb.applicable({"role": "postdoc", "postdoc_status": "completed", "place": "松阳", "employer_type": "private"})
    assert best[0].clause_id == "m1" and best[0].verdict == "eligible"
    nurse = kb.applicable({**NURSE, "place": "淳安县"})
    assert nurse[0].clause_id == "m3.2" and nurse[0].verdict == "eligible"
    assert all(v.clause_id != "m1" for v in nurse)


def test_end_to_end_from_text(kb):
    facts = kb.extract_facts("博士后出站后去丽水松阳县的民营企业，能拿补助吗")
    assert kb.evaluate("m1", facts).verdict == "eligible"
    facts = kb.extract_facts("博士后出站后去武义县民营企业，省财政有补助吗")
    assert kb.evaluate("m1", facts).verdict == "not_eligible"
    facts = kb.extract_facts("我是淳安县乡镇卫生院的护士，考卫生中级有单独合格线吗")
    assert kb.evaluate("m3.2", facts).verdict == "eligible"
    facts = {**kb.extract_facts("高校毕业生创业扶持我符合吗")}
    assert kb.evaluate("m7", facts).missing == ["place", "role", "years_since_graduation"]  # asked, not assumed
    facts.update(kb.extract_facts("在缙云县"))
    facts.update(kb.extract_facts("毕业4年"))
    assert kb.evaluate("m7", facts).verdict == "eligible"


def test_who_decides_reads_as_the_one_who_decides():
    """Each rule's decider is put into "是否给予由…决定": a name, never a sentence of its own."""
    from policy_kb import get_kb

    for cid, rule in get_kb().rules.items():
        if rule.decided_by:
            assert not rule.decided_by.rstrip("）)").endswith("决定") and "；" not in rule.decided_by, (cid, rule.decided_by)


def test_a_city_partly_covered_named_as_the_developed_side_is_not_said_to_be_covered_whole(kb):
    # 温州 has five mountain counties: "温州市中心医院" is its developed part, and no reason says
    # that all its counties qualify.
    v = kb.evaluate("m4.2", {"origin": "温州市", "place": "文成县", "employer_type": "public_institution",
                             "activity": "secondment"})
    assert not any("全部符合" in m for m in v.met)
    assert any("温州市（按其山区县以外的县（市、区）算）" in m for m in v.met)


def test_where_one_is_sent_is_tested_when_it_is_named(kb):
    base = {"origin": "杭州市", "employer_type": "public_institution", "role": "professional_technical",
            "activity": "secondment"}
    # not named (the place is where one is): nothing asked of it
    assert kb.evaluate("m4.2", {**base, "place": "杭州市"}).verdict == "eligible"
    assert kb.evaluate("m4.2", {**base, "place": "文成县"}).verdict == "eligible"
    v = kb.evaluate("m4.2", {**base, "place": "瑞安市"})   # "不是文成，是去瑞安"
    assert v.verdict == "not_eligible" and "place" in v.unmet_facts


def test_a_denied_role_leaves_no_reason_about_the_enclave(kb):
    v = kb.evaluate("m2", {"role": "not:enclave_talent", "place": "仙居县"})
    assert not any("飞地" in m for m in v.met)
