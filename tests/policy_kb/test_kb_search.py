"""Finding the clause a question is about."""
import pytest

from policy_kb import CONFIDENT, PLAUSIBLE

QUESTIONS = {
    "principle": ["这个意见的总体思路是什么", "指导思想是什么", "为什么出台这个政策"],
    "goals": ["目标任务有哪些", "主要目标是什么", "就业方面要达到什么目标"],
    "m1": ["博士后到山区县民企工作有啥补贴", "博士后出站补助怎么申请", "山区县能设博士后工作站吗"],
    "m2": ["什么是飞地人才，能享受哪些待遇", "飞地", "飞地人才子女上学怎么办", "飞地人才谁来认定"],
    "m3.1": ["山区县评职称看重什么", "职称评审有倾斜吗", "中高级岗位比例会提高吗"],
    "m3.2": ["村卫生室的医生考中级资格有没有单独分数线", "卫生高级自主评聘考核什么", "乡镇卫生院护士考主管护师有照顾吗"],
    "m4.1": ["省里的招聘大会有山区县专区吗", "山區縣企業參加省人才市場引才活動要交費嗎", "浙江人才网上有山区县招聘专区吗"],
    "m4.2": ["选派人才去山区县挂职是怎么安排的", "挂职要多久", "挂职期间绩效工资有倾斜吗", "传帮带"],
    "m5": ["山区县公共实训基地建设有什么支持", "优质技师学院能到山区县办分院吗", "职业技能等级认定试点条件放宽了吗", "山区县能办技校吗"],
    "m6": ["大学生去山区县基层工作有什么政策", "见习示范基地申报条件", "基层公共管理和社会服务岗位招录名额"],
    "m7": ["创业担保贷款额度能提高吗", "创业贷 利率 优惠", "毕业年限放宽到几年", "创业孵化示范基地认定有倾斜吗"],
    "m8": ["督查激励名额分配有什么倾斜", "失业保险调剂金怎么分配", "就业补助资金转移支付"],
    "m9": ["省人力社保厅怎么指导山区县工作", "一对一工作联系制度是什么", "人社干部培养"],
    "scope": ["衢州有哪些县在范围内", "山区26县包括哪些", "浙江省有哪些山区县"],
    "effective": ["这个意见从哪天起施行", "什么时候开始执行", "这个文件现在还有效吗"],
    "issuance": ["发文日期是哪天", "文号是多少", "是哪些部门联合发文的"],
}
CASES = [(cid, q) for cid, qs in QUESTIONS.items() for q in qs]


@pytest.mark.parametrize("cid,question", CASES)
def test_question_finds_its_clause(kb, cid, question):
    hits = kb.search(question, k=3)
    assert hits and hits[0].clause.id == cid, [(h.clause.id, h.score) for h in hits]
    assert hits[0].score >= PLAUSIBLE
    assert hits[0].sentence in hits[0].clause.sentences


@pytest.mark.parametrize("question", ["公积金怎么提取", "明天会下雨吗", "您好", "退休年龄", "考公务员", "养老保险怎么交", "社保卡怎么办", ""])
def test_out_of_scope_scores_low(kb, question):
    hits = kb.search(question)
    assert not hits or hits[0].score < PLAUSIBLE


def test_scores_are_sorted_and_bounded(kb):
    hits = kb.search("创业担保贷款额度能提高吗", k=5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s < 1 for s in scores)
    assert scores[0] >= CONFIDENT


def test_best_sentence(kb):
    assert kb.best_sentence("m7", "毕业几年内能享受").startswith("高校毕业生享受重点人群创业扶持政策的毕业年限")
    assert kb.best_sentence("m7", "贷款额度").startswith("有条件的山区县")
    assert kb.best_sentence("m7", "孵化基地").startswith("认定省级创业孵化示范基地")
    assert kb.best_sentence("issuance", "哪天发布的") == "2021 年 5 月 18 日"
    assert kb.best_sentence("m3", "分数线").startswith("全省卫生中级资格考试时")
    assert kb.best_sentence("m1", "") in kb.clause("m1").sentences


def test_clauses_for_topic(kb):
    topics = kb.clauses_for_topic("创业贷和利率")
    assert topics[0][0].id == "m7" and topics[0][1] > 0
    assert kb.clauses_for_topic("挂职 传帮带 服务期限")[0][0].id == "m4.2"
    assert kb.clauses_for_topic("职称评聘")[0][0].id == "m3"
    assert kb.clauses_for_topic("明天天气") == []


@pytest.mark.parametrize("ref,cid", [
    ("第七条", "m7"), ("第7条", "m7"), ("第二项", "m2"), ("（七）", "m7"), ("(7)", "m7"), ("七", "m7"), (7, "m7"),
    ("第三条", "m3"), ("第四条", "m4"), ("第三条第二段", "m3.2"), ("第3条第1款", "m3.1"), ("第五条是什么内容", "m5"),
    ("第九条", "m9"), ("（一）", "m1"), ("第 8 条", "m8"),
])
def test_clause_by_number(kb, ref, cid):
    assert kb.clause_by_number(ref).id == cid


@pytest.mark.parametrize("ref", ["第十条", "第0条", 0, 10, "hello", "", "飞地", True])
def test_clause_by_number_none(kb, ref):
    assert kb.clause_by_number(ref) is None


def test_unknown_clause_raises(kb):
    from policy_kb import KBError

    with pytest.raises(KBError):
        kb.clause("m10")
    with pytest.raises(KBError):
        kb.best_sentence("nope", "x")


@pytest.mark.parametrize("text,cid", [
    ("推动技能人才提质增量", "goals"),
    ("“深化职称制度改革”在文件哪一部分", "goals"),
    ("支持承办省级一类、二类职业技能大赛是哪条", "m5"),
    ("省级失业保险调剂金怎么分", "m8"),
])
def test_a_quoted_phrase_finds_its_clause(kb, text, cid):
    assert kb.quoted_clause(text).id == cid


@pytest.mark.parametrize("text", ["你好", "山区县有哪些", "公积金怎么提取才最快呢"])
def test_no_quote_no_clause(kb, text):
    assert kb.quoted_clause(text) is None
