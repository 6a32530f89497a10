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
