"""Homophone slips of the knowledge base's terms are put right; real words are left alone."""
import pytest
from hypothesis import given, settings, strategies as st


@pytest.mark.parametrize("typed,meant", [
    ("飞第人才 待遇", "飞地人才 待遇"),
    ("山区县职成评审有倾斜吗", "山区县职称评审有倾斜吗"),
    ("山区县技公院校", "山区县技工院校"),
    ("创页担保贷款谁管", "创业担保贷款谁管"),
    ("博士厚出站去云和民企", "博士后出站去云和民企"),
    ("督察激励名额", "督查激励名额"),
])
def test_homophone_slips_are_corrected(kb, typed, meant):
    assert kb.correct_typos(typed) == meant


@pytest.mark.parametrize("text", [
    "义乌是山区县吗",            # 是 is not 市: place names are not corrected
    "温州事业单位的专业技术人才",
    "高校毕业生去山区基层工作",
    "失业保险调剂金",
    "创业担保贷款额度能提高吗",
    "我在泰顺县当医生",
])
def test_real_words_are_left_alone(kb, text):
    assert kb.correct_typos(text) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_correction_keeps_length_and_never_fails(kb, text):
    assert len(kb.correct_typos(text)) == len(text)


@pytest.mark.parametrize("typed,meant", [
    ("利律有优惠吗", "利率有优惠吗"),          # 利律 is no word: a slip of 利率
    ("博士后出站去丽水民企有补主吗", "博士后出站去丽水民企有补助吗"),
])
def test_two_character_slips_that_are_no_word_are_corrected(kb, typed, meant):
    assert kb.correct_typos(typed) == meant


@pytest.mark.parametrize("text", [
    "卫生中级考试单独划分数线这事是哪些部门负责",  # 事是 sounds like 实施, but 是 is far likelier meant
    "江山市是山区县吗",                          # 市是 lies inside 江山市
    "这个意见哪天开始实行",                        # 开始 is a word
    "更多就业补助资金",                            # 多就 sounds like 多久, inside 就业
    "有没有利益",
])
def test_two_character_sounds_alike_inside_words_or_of_common_characters_are_left(kb, text):
    assert kb.correct_typos(text) == text


def test_a_sound_alike_of_a_term_that_differs_by_a_very_common_word_is_left(kb):
    assert kb.correct_typos("别管那些限制了") == "别管那些限制了"   # 那些 is meant, not 哪些(县)


@pytest.mark.parametrize("typed,meant", [
    ("他们挂完职回去有啥好处", "他们挂职完回去有啥好处"),   # 挂职 written apart by 完
    ("我挂过职", "我挂职过"),
])
def test_a_term_written_apart_is_joined_again_and_keeps_its_length(kb, typed, meant):
    assert kb.correct_typos(typed) == meant
    assert len(meant) == len(typed)


def test_words_that_only_look_apart_are_left(kb):
    assert kb.correct_typos("做完了就走") == "做完了就走"


@pytest.mark.parametrize("typed,meant", [
    ("博士候出站去衢州明营企业有补租吗", "博士后出站去衢州民营企业有补助吗"),  # in/ing and z/zh typed for each other
])
def test_sounds_input_methods_let_one_type_for_each_other_count_alike(kb, typed, meant):
    assert kb.correct_typos(typed) == meant
