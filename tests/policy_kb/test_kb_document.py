"""The data says what the document says: verbatim clause texts, units, ids, dates."""
import re
from datetime import date

import pytest

from policy_kb import CONTRACT_CLAUSE_IDS
from policy_kb.text import squash

# The measure paragraphs in document order, each followed by its 责任单位 line.
UNIT_LINE_ORDER = ["m1", "m2", "m3.1", "m3.2", "m4.1", "m4.2", "m5", "m6", "m7", "m8", "m9"]


def test_every_contract_id_exists(kb):
    for cid in CONTRACT_CLAUSE_IDS:
        assert cid in kb.clauses
    assert {"m3", "m4"} <= set(kb.clauses)


def test_clauses_in_document_order(kb):
    assert list(kb.clauses) == [
        "principle", "goals", "m1", "m2", "m3", "m3.1", "m3.2", "m4", "m4.1", "m4.2",
        "m5", "m6", "m7", "m8", "m9", "scope", "effective", "issuance",
    ]


@pytest.mark.parametrize("cid", CONTRACT_CLAUSE_IDS + ("m3", "m4"))
def test_clause_text_is_verbatim(kb, source_text, cid):
    clause = kb.clause(cid)
    source = squash(source_text)
    if cid in ("m3", "m4", "issuance"):
        for line in clause.text.split("\n"):
            assert squash(line) in source, line
    else:
        assert "\n" not in clause.text
        assert squash(clause.text) in source
    for line in (clause.units_line or "").split("\n"):
        assert squash(line) in source


def test_measure_texts_start_with_title_and_drop_markers(kb):
    for cid in ("m1", "m2", "m3.1", "m4.1", "m5", "m6", "m7", "m8", "m9"):
        clause = kb.clause(cid)
        assert not re.match(r"^[（(]", clause.text)
        assert "责任单位" not in clause.text
        assert clause.text.startswith(clause.title.split("（")[0] + "。")
    assert kb.clause("m7").text.startswith("加强创业扶持。有条件的山区县，")
    assert kb.clause("m7").text.endswith("给予山区县倾斜支持。")


def test_parents_join_their_paragraphs(kb):
    m3 = kb.clause("m3")
    assert m3.text == kb.clause("m3.1").text + "\n" + kb.clause("m3.2").text
    assert m3.units == ["hrss", "health"]
    assert kb.clause("m4").units == ["hrss", "org_dept", "edu", "agri", "health"]
    assert kb.clause("m3.1").parent == "m3"


def _units_from_source(kb, source_text):
    lines = re.findall(r"[（(]责任单位：(.*?)[）)]", squash(source_text))
    assert len(lines) == len(UNIT_LINE_ORDER)
    parsed = {}
    by_name = {}
    for dept in kb.departments.values():
        for name in dept.all_names:
            by_name[name] = dept.id
    for cid, line in zip(UNIT_LINE_ORDER, lines):
        provincial = line.split("，")[0]
        parsed[cid] = ([by_name[name] for name in provincial.split("、")], "市县相关部门" in line)
    return parsed


@pytest.mark.parametrize("cid", UNIT_LINE_ORDER)
def test_units_match_the_document(kb, source_text, cid):
    units, local = _units_from_source(kb, source_text)[cid]
    clause = kb.clause(cid)
    assert clause.units == units
    assert (clause.local_units == "市县相关部门") == local


def test_m9_has_no_local_units(kb):
    assert kb.clause("m9").local_units is None
    assert [d.name for d in kb.units_of("m9")] == ["省人力社保厅"]


def test_non_measure_clauses(kb):
    assert kb.clause("scope").text.startswith("本意见的“山区县”指衢州、丽水两市的所辖县（市、区）")
    assert kb.clause("effective").text == "本意见从 2021 年 6 月 1 日起施行。"
    issuance = kb.clause("issuance").text.split("\n")
    assert issuance[0] == "浙人社发〔2021〕22号"
    assert issuance[-2:] == ["2021 年 5 月 18 日", "（此件主动公开）"]
    assert kb.clause("principle").text.count("按照省委十四届八次全会部署") == 1


def test_document_facts(kb):
    doc = kb.document
    assert doc.number == "浙人社发〔2021〕22号"
    assert doc.title == (
        "中共浙江省委组织部 浙江省人力资源和社会保障厅等7部门关于进一步加强山区26县"
        "人力社保支撑促进跨越式高质量发展的若干意见"
    )
    assert doc.issued == date(2021, 5, 18)
    assert doc.effective == date(2021, 6, 1)
    assert doc.publicity == "主动公开"
    assert doc.expiry is None and doc.expiry_note
    assert doc.measure_count == 9
    assert doc.issuers == ["org_dept", "hrss", "edu", "finance", "agri", "health", "pbc_hz"]
    assert [kb.departments[d].full_name for d in doc.issuers] == [
        "中共浙江省委组织部", "浙江省人力资源和社会保障厅", "浙江省教育厅", "浙江省财政厅",
        "浙江省农业农村厅", "浙江省卫生健康委员会", "中国人民银行杭州中心支行",
    ]
    assert squash(doc.addressees) in squash(kb.source_text)


def test_sentences_are_split_on_full_stop_and_semicolon(kb):
    assert kb.clause("m7").sentences == [
        "加强创业扶持。",
        "有条件的山区县，在风险可控的前提下，可适当降低创业担保贷款申请门槛，适当提高创业担保贷款额度，给予利率优惠；",
        "高校毕业生享受重点人群创业扶持政策的毕业年限，可从毕业5年以内放宽至毕业10年以内。",
        "认定省级创业孵化示范基地时，给予山区县倾斜支持。",
    ]


def test_hedge_phrases_occur_in_their_clause(kb):
    for clause in kb.clauses.values():
        for hedge in clause.hedges:
            assert squash(hedge.phrase) in squash(clause.text)


def test_payloads(kb):
    assert kb.clause("m7").to_citation() == {"clause_id": "m7", "title": "加强创业扶持", "text": kb.clause("m7").text,
                                             "location": "三、主要举措（七）"}
    assert kb.departments["hrss"].to_payload() == {"name": "省人力社保厅", "full_name": "浙江省人力资源和社会保障厅"}


def test_departments(kb):
    assert [c.id for c in kb.clauses_of("finance")] == ["m1", "m7", "m8"]
    assert [c.id for c in kb.clauses_of("org_dept")] == ["m2", "m4.2"]
    assert [c.id for c in kb.clauses_of("pbc_hz")] == ["m7"]
    for text, dept in [
        ("省人社保厅", "hrss"), ("省人社厅负责什么", "hrss"), ("人社厅", "hrss"), ("省卫健委", "health"),
        ("卫健委管哪些", "health"), ("人民银行杭州中心支行", "pbc_hz"), ("人行", "pbc_hz"),
        ("组织部", "org_dept"), ("财政厅负责哪几条", "finance"), ("省財政廳", "finance"),
        ("浙江省农业农村厅", "agri"), ("教育厅", "edu"),
    ]:
        assert kb.find_department(text).id == dept, text
    assert kb.find_department("公积金中心") is None


def test_glossary(kb):
    entry = kb.glossary_lookup("什么是飞地人才")
    assert entry.id == "feidi_rencai" and entry.is_explanation and "m2" in entry.related
    assert kb.glossary_lookup("飞入地是什么意思").id == "feirudi"
    assert kb.glossary_lookup("创业贷").id == "chuangye_danbao_daikuan"
    assert kb.glossary_lookup("技師學院").id == "jishi_xueyuan"
    assert kb.glossary_lookup("明天天气") is None
    for entry in kb.glossary.values():
        assert entry.is_explanation and entry.explanation
