"""The routing table names every answer's kind in one module; handlers never call one another."""
from __future__ import annotations

import ast
import inspect

import pytest

from actions import answer, routing
from actions.answer import Answerer
from actions.understanding import Understanding
from policy_kb import get_kb


def test_handlers_never_hand_a_turn_to_one_another():
    tree = ast.parse(inspect.getsource(answer))
    calls = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Answerer"):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("on_")):
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute) and node.attr.startswith("on_") and \
                        isinstance(node.value, ast.Name) and node.value.id in ("self", "sub"):
                    calls.append((fn.name, node.attr))
    assert calls == [], calls


def test_every_kind_the_table_can_name_has_its_handler():
    source = inspect.getsource(routing)
    kinds = set(ast.literal_eval(n) for n in _returned_strings(ast.parse(source)))
    kinds = (kinds | set(routing.REFINE)) - {"inform"}  # "inform" always goes on to the kind it continues
    missing = sorted(k for k in kinds if not hasattr(Answerer, f"on_{k}"))
    assert not missing, missing
    assert len(kinds) >= 25


def _returned_strings(tree):
    """The kinds a function of the module can return: `return "x"`, `return "a" if … else "b"`,
    and the values of a dict looked up in a return."""
    def kinds(value):
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield repr(value.value)
        elif isinstance(value, ast.IfExp):
            yield from kinds(value.body)
            yield from kinds(value.orelse)
        elif isinstance(value, ast.Dict):
            for v in value.values:
                yield from kinds(v)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get":
            yield from kinds(value.func.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            yield from kinds(node.value)


@pytest.mark.parametrize("text, intent, kind", [
    ("第十条讲什么", "ask_clause", "no_such_measure"),                 # clause → no such measure
    ("省发改委负责哪几条", "ask_units", "unknown_department"),          # units → a department not named
    ("出站博士后去开化的民营企业上班有补助吗", "ask_clause", "eligibility"),  # clause → a case to judge
    ("江苏的山区县有什么扶持政策", "ask_clause", "outside"),
    ("嗯嗯", "inform", "rephrase"),
    ("我在开化县", "inform", "county"),
    ("我在上虞开厂的 上虞在不在名单里 这文件我能沾上光不", "ask_applicable", "county"),  # nothing fits, a place asked
])
def test_a_kinds_own_conditions_send_the_turn_on(text, intent, kind):
    assert routing.route(Understanding(text=text, intent=intent, confidence=0.95, entities={})) == kind


def test_another_undertaking_after_a_verdict_asks_what_the_measure_says_of_it():
    case = dict(last_kind="eligibility", last_clause="m3.2", case_clause="m3.2",
                facts={"role": "health_worker", "institution_type": "village_clinic", "activity": "health_exam",
                       "place": "磐安县"})
    u = Understanding(text="那高级职称也是单独划线吗", intent="ask_clause", confidence=0.95, entities={}, **case)
    assert routing.route(u) == "clause"
    # (a fact of the person is still their case judged again)
    u = Understanding(text="不对 是乡镇卫生院", intent="inform", confidence=0.95, entities={}, **case)
    assert routing.route(u) == "eligibility"


def test_a_run_of_short_questions_each_asking_a_point_follows_up_the_measure():
    case = dict(last_kind="eligibility", last_clause="m4.1", case_clause="m4.1",
                facts={"role": "employer", "employer_type": "enterprise", "origin": "龙游县", "place": "龙游县"})
    u = Understanding(text="那怎么申请 要交什么材料 啥时候截止", intent="out_of_scope", confidence=0.99, entities={}, **case)
    assert u.follows_up() and routing.route(u) == "aspect"
    # (a long question of its own is no follow-up)
    u = Understanding(text="省里的公积金贷款政策 山区县有没有单独的规定", intent="out_of_scope", confidence=0.99,
                      entities={}, **case)
    assert not u.follows_up()


def test_a_case_told_with_a_question_that_asks_no_unit_is_judged():
    u = Understanding(text="我博后已经出站 要去民企上班 那个补助是不是哪里都能拿", intent="ask_units", confidence=0.5,
                      entities={})
    assert routing.route(u) == "eligibility"
    u = Understanding(text="博后出站去民企的补助是哪个部门负责", intent="ask_units", confidence=0.9, entities={})
    assert routing.route(u) == "units"


def test_how_a_programme_the_document_does_not_name_is_run_is_another_matter():
    u = Understanding(text="选调生今年什么时候报名", intent="ask_clause", confidence=0.9, entities={})
    assert routing.route(u) == "out_of_scope"
    # (what the document holds for such a group is still the group's answer, with what comes closest)
    u = Understanding(text="选调生去山区县有什么政策", intent="ask_clause", confidence=0.9, entities={})
    assert routing.route(u) == "unnamed"


def test_a_department_the_document_does_not_name_is_said_not_to_be_named():
    u = Understanding(text="里面有发改委吗", intent="ask_document", confidence=0.9, entities={})
    assert u.names_unknown_department() == "发改委" and routing.route(u) == "unknown_department"
    # (asked whether it issued the document, the answer on the issuers says it did not)
    u = Understanding(text="这个意见是人社部发的吗", intent="ask_document", confidence=0.9, entities={})
    assert routing.route(u) == "document" and get_kb().other_department_in(u.text) == "人社部"
    assert get_kb().other_department_in("省发改委负责哪条") == "省发改委"


def test_a_word_for_local_departments_names_no_department():
    u = Understanding(text="要去当地人社部门办吗", intent="ask_clause", confidence=0.9, entities={})
    assert u.names_unknown_department() is None


def test_which_measures_a_named_department_is_in_whatever_the_model_read():
    u = Understanding(text="省卫生健康委在哪几条举措里是责任单位", intent="nlu_fallback", confidence=0.4, entities={})
    assert routing.route(u) == "department"


def test_one_character_points_back_only_as_a_word_of_its_own():
    case = dict(last_kind="clause", last_clause="m2")
    u = Understanding(text="我们那个衢州的企业去参加那个省里人才市场的活动 要不要交参展费", intent="ask_eligibility",
                      confidence=0.8, entities={}, **case)
    assert not u.points_at_the_last()
    u = Understanding(text="那条线村卫生室也能用吗", intent="ask_clause", confidence=0.8, entities={},
                      last_kind="clause", last_clause="m3.2")
    assert u.points_at_the_last()


@pytest.mark.parametrize("text, kind", [
    ("报名要带什么材料 营业执照要不要带", "aspect"),    # a paper to bring
    ("那开店的营业执照在哪里办", "out_of_scope"),         # a matter of its own
])
def test_a_matter_named_among_the_papers_to_bring_is_one_of_them(text, kind):
    case = dict(last_kind="eligibility", last_clause="m4.1", case_clause="m4.1",
                facts={"employer_type": "enterprise", "origin": "松阳县", "place": "松阳县"})
    assert routing.route(Understanding(text=text, intent="out_of_scope", confidence=0.9, entities={}, **case)) == kind


@pytest.mark.parametrize("text, kind", [
    # (the matter only tells of the case; another clause asks of a measure by its words)
    ("我们刚和一位出站的博士后签了劳动合同，他到我们开化的民营企业工作，省里有没有补助", "eligibility"),
    # (the matter is what is asked of)
    ("丽水市自己出的那个博士后生活补贴实施细则 一年补多少", "out_of_scope"),
])
def test_another_matter_that_only_tells_the_story_leaves_the_question(text, kind):
    assert routing.route(Understanding(text=text, intent="ask_eligibility", confidence=0.9, entities={})) == kind


def test_two_kinds_that_send_the_turn_to_each_other_end_in_a_request_to_rephrase(monkeypatch):
    monkeypatch.setitem(routing.REFINE, "term", lambda u: "document")
    monkeypatch.setitem(routing.REFINE, "document", lambda u: "term")
    u = Understanding(text="飞入地是什么意思", intent="ask_term", confidence=0.95, entities={})
    assert routing.route(u) == "unclear"


# -- whatever a turn holds, the routing ends at a handler that answers ---------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = ["博士后", "出站", "开化", "横店", "杭州市区", "民营企业", "不是", "国企", "毕业3年", "没读过大学", "我老公",
           "我们公司", "省发改委", "省财政厅", "负责", "多少钱", "怎么申请", "山区县", "算不算", "吗", "？", "，",
           "另外", "这两个分别", "创业担保贷款", "卫生中级", "村卫生室", "飞地", "第十条", "文号", "原文", "你好",
           "谢谢", "公积金", "灵活就业人员", "那", "刚才那个", "wo shi boshihou", "有影响吗", "真不算"]
_INTENTS = ["ask_clause", "ask_units", "ask_department", "ask_eligibility", "ask_applicable", "ask_county",
            "ask_document", "ask_term", "inform", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge",
            "request_human", "out_of_scope", "nlu_fallback"]
_SLOTS = st.fixed_dictionaries({}, optional={
    "last_kind": st.sampled_from(["clause", "eligibility", "applicable", "county", "units", "document"]),
    "last_clause": st.sampled_from(["m1", "m3.2", "m7", "scope", "issuance"]),
    "pending_clause": st.sampled_from(["m1", "m7", "m4.2"]),
    "case_clause": st.sampled_from(["m1", "m7"]),
    "last_place": st.sampled_from(["开化县", "海宁市"]),
    "facts": st.sampled_from([{"role": "graduate"}, {"role": "postdoc", "place": "龙游县"}]),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6), intent=st.sampled_from(_INTENTS),
       slots=_SLOTS)
def test_every_turn_is_routed_to_a_handler_that_answers(pieces, intent, slots):
    u = Understanding(text="".join(pieces), intent=intent, confidence=0.9, entities={}, **slots)
    replies, _ = Answerer(u).answer()
    assert replies and all(r.text for r in replies)


def test_an_answer_to_the_pending_question_is_judged_though_it_names_a_group_the_document_does_not():
    case = dict(pending_clause="m4.2", pending_fact="employer_type", last_kind="eligibility", last_clause="m4.2",
                case_clause="m4.2", facts={"role": "professional_technical", "origin": "杭州市"})
    for intent in ("ask_eligibility", "inform", "ask_clause"):
        u = Understanding(text="不过我们学校不是公办的 是民办学校 我这种能去吗 去了有没有职称优先",
                          intent=intent, confidence=0.8, entities={}, **case)
        assert routing.route(u) == "eligibility"
        # (职称 is a word of 挂职's own clause: the case stays on it, and the unit is no 事业单位)
        replies, _ = Answerer(u).answer()
        verdicts = [r.payload["eligibility"] for r in replies if "eligibility" in r.payload]
        assert [(v["clause_id"], v["verdict"]) for v in verdicts] == [("m4.2", "not_eligible")], intent
        assert "民办学校" in replies[0].text


@pytest.mark.parametrize("text, kind", [
    ("我是苍南桥墩的 家里开了个做月饼的小厂 前年注册成公司了 春风行动那个招聘会去了人也不多", "named_case"),  # asks nothing: the case it tells
    ("今年春风行动文成的现场招聘会哪天开 在哪里", "out_of_scope"),
    ("杭州给应届大学生的租房补贴咋领", "out_of_scope"),                                # 咋 asks
])
def test_another_matter_in_a_story_that_asks_nothing_tells_the_case(text, kind):
    assert routing.route(Understanding(text=text, intent="inform", confidence=0.8, entities={})) == kind


@pytest.mark.parametrize("text, kind", [
    ("今年浙江三支一扶的报名时间和招募人数是多少", "out_of_scope"),  # how another programme is run (of_running)
    ("三支一扶去哪报名 要带什么材料", "out_of_scope"),
    ("灵活就业人员的补贴有多少钱", "unnamed"),                      # an amount: what the document gives them
    ("灵活就业人员有什么补贴", "unnamed"),
])
def test_how_a_programme_the_document_does_not_name_is_run_is_that_programmes_own(text, kind):
    for intent in ("ask_clause", "inform"):
        assert routing.route(Understanding(text=text, intent=intent, confidence=0.8, entities={})) == kind


def test_the_points_of_how_something_is_run_are_marked_in_the_knowledge_base():
    defs = get_kb().aspects.defs
    assert {a for a, d in defs.items() if d.of_running} >= {"procedure", "materials", "deadline", "contact"}
    assert not defs["amount"].of_running and not defs["rate"].of_running


@pytest.mark.parametrize("text, entities, kind", [
    ("26县 人社厅处室 一对一联系 啥意思", {"term": ["shanqu_26_xian"]}, "clause"),  # 第九条's words weigh far more
    ("山区26县是什么意思", {"term": ["shanqu_26_xian"]}, "term"),
])
def test_a_term_question_asks_of_the_words_that_weigh_most(text, entities, kind):
    assert routing.route(Understanding(text=text, intent="ask_term", confidence=0.9, entities=entities)) == kind


def test_how_an_unnamed_programme_is_run_gets_no_closest_measure():
    replies, _ = Answerer(Understanding(text="公务员考试报名时间是什么时候", intent="ask_clause", confidence=0.9,
                                        entities={})).answer()
    assert replies[0].payload.get("out_of_scope") and not replies[0].payload.get("citations")
    replies, _ = Answerer(Understanding(text="我想考遂昌的乡镇公务员，这个文件对考公务员有没有政策", intent="ask_clause",
                                        confidence=0.9, entities={})).answer()
    assert [c["clause_id"] for c in replies[0].payload["citations"]] == ["m6"]


def test_what_another_measure_gives_asked_while_a_case_waits_is_that_measures_answer():
    case = dict(pending_clause="m3.2", pending_fact="place", last_kind="eligibility", last_clause="m3.2", case_clause="m3.2",
                facts={"role": "health_worker", "institution_type": "township_hospital", "exam_level": "intermediate"})
    ask = dict(intent="nlu_fallback", confidence=0.5, entities={}, **case)
    assert routing.route(Understanding(text="顺便问下飞地人才能享受什么", **ask)) == "clause"
    assert routing.route(Understanding(text="不好意思说错了，我在县医院", **ask)) == "eligibility"
    assert routing.route(Understanding(text="在龙泉", **ask)) == "eligibility"
