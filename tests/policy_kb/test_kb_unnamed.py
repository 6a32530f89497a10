"""Groups the document does not name: those listed in unnamed.yml, and any group a question asks
the document about when neither the document nor the knowledge base knows its words."""
from __future__ import annotations

import pytest

from policy_kb import get_kb

KB = get_kb()


@pytest.mark.parametrize("text, group", [
    ("文件里有没有说到我们养蚕户", "养蚕户"),
    ("像我们这种跑长途货运的，文件里提了吗", "跑长途货运"),
    ("对养蜂人有没有什么扶持", "养蜂人"),
    ("茶农转型这个山区县的文件里有没有说法", "茶农转型"),
    ("这文件有照顾到留守妇女的吗", "留守妇女"),
    ("竹编培训文件里专门提过吗", "竹编培训"),
])
def test_a_group_the_document_does_not_know_is_said_to_be_unnamed(text, group):
    assert KB.unnamed_group(text) == (group, None)


@pytest.mark.parametrize("text", [
    "文件里有没有提到村卫生室",          # the document's own words
    "有没有说到出站的博士后",            # a fact the knowledge base reads
    "文件提到创业孵化示范基地了吗",      # a measure's topic
    "有没有提到省财政厅",                # a department
    "文件里有没有说到补助的标准",        # a point asked about (an amount)
    "有没有提到丽水",                    # a place
    "对山区县的民营企业有什么支持",      # words of the document, in other order
    "这方面文件里有没有规定",            # nothing named
    "资金分配时对我们市有没有倾斜",      # "市有没" is no group
    "技工院校招生文件里提了吗",          # a measure's topic before "文件里提了吗"
    "我想问问文件里说了吗",              # nothing named
    "那县人民医院算不算",                # 人民 of 人民医院 names no people
    "社区工作有没有什么政策",            # 工 of 工作
])
def test_what_the_document_or_the_knowledge_base_knows_is_not_unnamed(text):
    assert KB.unnamed_group(text) is None


def test_the_listed_groups_keep_their_notes():
    name, note = KB.unnamed_group("社区卫生服务中心的医生能用单独分数线吗")
    assert name == "社区卫生服务中心" and "社区卫生服务站" in note


@pytest.mark.parametrize("text, group", [
    ("在缙云当护林员，这个文件跟我们有没有关系", "护林员"),
    ("跑长途的货车司机 文件里有什么政策", "货车司机"),
])
def test_a_word_for_people_in_a_question_about_the_document(text, group):
    found = KB.unnamed_group(text)
    assert (found[0] if found else None) == group



@pytest.mark.parametrize("text, group", [
    ("港澳台青年到衢州创业，这份意见有专门说法吗", "港澳台青年"),   # a measure named, but asked whether named apart
    ("畲族群众在景宁有没有专门的人才政策", "畲族群众"),
    ("退休的老专家想去山区县发挥余热，文件有说法吗", "退休人员"),  # a listed group, by one of its forms
    ("非遗传承人、乡村工匠这些在文件里有没有专门的支持", "非遗传承人"),
])
def test_a_group_asked_about_apart_is_not_named(text, group):
    found = get_kb().unnamed_group(text)
    assert found is not None and group.endswith(found[0]) or found[0].endswith(group), found


@pytest.mark.parametrize("text", [
    "高校毕业生在开化创业，有专门的政策吗",
    "俺在松阳乡下的畜牧兽医站干了二十年兽医，评中级职称能不能照顾照顾",
])
def test_a_group_the_document_names_or_a_word_of_asking_is_no_unnamed_group(text):
    assert get_kb().unnamed_group(text) is None


@pytest.mark.parametrize("text, group", [
    ("民宿经营户有没有专门的扶持", "民宿经营户"),                         # 民 ends no word here
    ("我是村里的妇女主任，有没有针对农村妇女创业的政策", "农村妇女"),   # the group of the question, not of the writer
])
def test_a_group_word_is_read_where_a_word_ends_the_last_first(text, group):
    assert get_kb().unnamed_group(text) == (group, None)


def test_who_the_writer_is_is_no_group_asked_about():
    assert get_kb().unnamed_group("我是报社记者，想核实一下这份文件是哪几家单位联合印发的") is None
    assert get_kb().unnamed_group("我是一名报社记者，想核实一下：这份意见是哪几个部门联合印发的") is None
    assert get_kb().unnamed_group("作为一名记者，想问这份文件是哪几家单位联合印发的") is None
    assert get_kb().unnamed_group("您好，我是市电视台的记者，这份文件是哪几家单位联合发的") is None  # where they work
    assert get_kb().unnamed_group("我是县医院的护工，这个文件有没有支持护工的政策") == ("护工", None)  # asked for them
    assert get_kb().unnamed_group("律师到山区县执业有补贴吗") == ("律师", None)  # a benefit asked for them
    assert get_kb().unnamed_group("博士后到山区县有补贴吗") is None  # ... for those the document names
    assert get_kb().unnamed_group("中职毕业生在山区县创业，毕业年限也能放宽到10年吗") == \
        ("中职毕业", "文件说的是“高校毕业生”")
    assert get_kb().unnamed_group("我是网格员，这个文件有没有支持网格员的政策") == ("网格员", None)


def test_a_group_found_by_one_of_its_forms_is_called_by_its_first_name():
    # "退休的" finds the group of retired people; the answer calls it what unnamed.yml calls it first
    name, note = KB.unnamed_group("退休的老医生自愿去山区县帮忙，算这个挂职吗")
    assert name == "退休人员" and "在职" in note
    assert KB.unnamed_closest(name).id == "m4.2"
    assert KB.unnamed_group("退休年龄会延迟吗") is None  # another matter, not a group


def test_a_form_must_be_words(tmp_path):
    from policy_kb.errors import KBError
    from policy_kb.kb import _load_unnamed

    (tmp_path / "unnamed.yml").write_text("groups:\n  - names: [退休人员]\n    forms: [1]\n", encoding="utf-8")
    with pytest.raises(KBError, match="forms"):
        _load_unnamed(tmp_path)


@pytest.mark.parametrize("text, name, closest", [
    ("我是应届研究生，想考遂昌的乡镇公务员，这个文件对考公务员有没有政策", "乡镇公务员", "m6"),  # 招录…基层公共管理岗位
    ("厂里有位全国技术能手，想建技能大师工作室，文件里有没有说法", "全国技术能手", "m5"),  # 高技能人才培训基地
])
def test_a_group_the_document_does_not_name_has_the_closest_measure_the_knowledge_base_gives(text, name, closest):
    found, note = KB.unnamed_group(text)
    assert found == name and note
    assert KB.unnamed_closest(found).id == closest
