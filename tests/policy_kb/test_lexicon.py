"""The one longest-first scan of surface forms."""
from policy_kb.lexicon import LongestMatch


def test_the_longest_form_wins_and_forms_never_overlap():
    forms = LongestMatch({"创业担保贷款": None, "创业": "startup", "贷款": "loan", "担保": "guarantee"})
    assert list(forms.scan("问创业担保贷款和创业")) == [(1, 7, "创业担保贷款", None), (8, 10, "创业", "startup")]


def test_forms_shorter_than_the_minimum_are_not_matched():
    forms = LongestMatch({"县": "x", "开化县": "kaihua"}, min_len=2)
    assert forms.at("开化县", 0) == ("开化县", "kaihua") and forms.at("县里", 0) is None
    assert list(LongestMatch({}).scan("任何话")) == []
