"""Property-based tests over what reads arbitrary user text: the normaliser, place and number
parsing, fact extraction and the eligibility evaluation. Whatever comes in, nothing crashes and
what comes out is well-formed."""
from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.components.normalizer import normalize_text
from policy_kb import get_kb
from policy_kb.models import Clause, Verdict

KB = get_kb()
FACT_KEYS = set(KB.facts_vocabulary)
VERDICTS = {"eligible", "not_eligible", "need_info"}
SETTINGS = settings(max_examples=100, deadline=None, database=None)

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
# Text people type: Chinese, Latin, digits, numerals, emoji, punctuation, spaces, invisible and
# control characters, tags; and fragments of real place names and clause references.
FRAGMENTS = st.sampled_from(
    ["开化", "县", "缙云县", "遂昌", "龙泉市", "衢州", "丽水市", "上海", "杭州", "第七条", "第三条第二段",
     "（七）", "(7)", "七", "第十二项", "博士后", "民营企业", "毕业", "2016年", "十年", "创业",
     "😀", "\u200b", "\x00", "<b>", "'; DROP TABLE", " ", "\n", "ｋａｉ", "開化縣", "/inform{}"])
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(alphabet=st.one_of(CJK, ANY_CHAR), max_size=8)),
                max_size=12).map("".join)
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\ufeff\u00ad\x00\x07\x1b\x7f"


# ---------------------------------------------------------------- the normaliser

@SETTINGS
@given(st.one_of(TEXT, st.text(alphabet=ANY_CHAR, max_size=3000)), st.integers(1, 2000))
def test_normaliser_bounds_and_cleans(text, limit):
    out = normalize_text(text, max_chars=limit)
    assert isinstance(out, str)
    assert len(out) <= limit
    assert out == out.strip()
    assert not any(c in INVISIBLE for c in out)
    assert "  " not in out and "\t" not in out and "\n" not in out


@SETTINGS
@given(TEXT)
def test_normaliser_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_normaliser_examples():
    assert normalize_text("") == "" and normalize_text(None) == ""
    assert normalize_text("開化縣是山區縣嗎") == "开化县是山区县吗"
    assert normalize_text("ｋａｉ\u200bｈｕａ  １２３") == "开化 123"  # folded, then read as pinyin
    assert normalize_text("ＸＹＺ\u200bＷ  １２３") == "XYZW 123"
    assert len(normalize_text("长" * 10_001)) == 1000


# ---------------------------------------------------------------- places and numbers

@SETTINGS
@given(TEXT)
def test_place_lookup_is_well_formed(text):
    matches = KB.places_in_text(text)
    for m in matches:
        payload = m.to_payload()
        assert payload["name"]
    first = KB.find_place(text)
    assert first is None or first.to_payload()["name"]


@SETTINGS
@given(TEXT)
def test_fact_extraction_keys_are_known_facts(text):
    facts = KB.extract_facts(text, today=date(2024, 6, 1))
    assert set(facts) <= FACT_KEYS
    for key, value in facts.items():
        fdef = KB.facts_vocabulary[key]
        if fdef.type == "enum":
            assert value in fdef.values
        elif fdef.type == "int":
            assert isinstance(value, int) and not isinstance(value, bool) and value >= 0


@SETTINGS
@given(st.one_of(TEXT, st.integers(-10**6, 10**6), st.booleans()))
def test_clause_by_number_returns_a_clause_or_nothing(ref):
    clause = KB.clause_by_number(ref)
    assert clause is None or (isinstance(clause, Clause) and clause.id in KB.clauses)
    if isinstance(ref, int) and not isinstance(ref, bool) and clause is not None:
        assert clause.measure == ref


@pytest.mark.parametrize("ref, cid", [("第七条", "m7"), ("第7条", "m7"), ("（七）", "m7"), ("7", "m7"),
                                      ("第三条第二段", "m3.2"), (7, "m7")])
def test_clause_by_number_examples(ref, cid):
    assert KB.clause_by_number(ref).id == cid


# ---------------------------------------------------------------- eligibility

def _fact_value(key: str) -> st.SearchStrategy:
    fdef = KB.facts_vocabulary.get(key)
    known = []
    if fdef is not None and fdef.values:
        for value, ev in fdef.values.items():
            known += [value, ev.label, *ev.synonyms]
    options = [st.none(), st.text(max_size=10), TEXT, st.integers(-100, 100),
               st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
               st.booleans(), st.sampled_from(["开化", "缙云县", "遂昌", "杭州", "上海", "龙泉市"])]
    if known:
        options.append(st.sampled_from(known))
    return st.one_of(*options)


FACTS = st.dictionaries(
    st.one_of(st.sampled_from(sorted(FACT_KEYS)), st.text(max_size=6)),
    st.deferred(lambda: st.one_of(*[_fact_value(k) for k in sorted(FACT_KEYS)])),
    max_size=len(FACT_KEYS) + 2,
)


def _well_formed(v: Verdict, cid: str) -> None:
    assert v.clause_id == cid
    assert v.verdict in VERDICTS
    assert set(v.missing) <= FACT_KEYS
    assert set(v.unmet_facts) <= FACT_KEYS
    assert len(set(v.missing)) == len(v.missing)
    assert (v.verdict == "need_info") == bool(v.missing)
    assert (v.verdict == "not_eligible") == bool(v.unmet)
    assert set(v.questions) == set(v.missing)
    assert all(isinstance(m, str) and m for m in [*v.met, *v.unmet])


@settings(max_examples=200, deadline=None, database=None)
@given(st.sampled_from(KB.rule_clauses()), FACTS)
def test_evaluation_of_random_facts_is_well_formed(cid, facts):
    _well_formed(KB.evaluate(cid, facts), cid)


@SETTINGS
@given(FACTS)
def test_applicable_is_well_formed(facts):
    seen = set()
    for v in KB.applicable(facts):
        _well_formed(v, v.clause_id)
        assert v.clause_id not in seen
        seen.add(v.clause_id)


@SETTINGS
@given(st.sampled_from(KB.rule_clauses()), TEXT)
def test_evaluation_of_extracted_facts_is_well_formed(cid, text):
    _well_formed(KB.evaluate(cid, KB.extract_facts(text, today=date(2024, 6, 1))), cid)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_years_are_treated_as_unknown(value):
    _well_formed(KB.evaluate("m7", {"role": "graduate", "years_since_graduation": value}), "m7")
