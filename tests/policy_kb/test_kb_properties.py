"""Lookups never crash on arbitrary input."""
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from policy_kb import get_kb
from policy_kb.facts import parse_years_since_graduation
from policy_kb.text import cn_number

KB = get_kb()
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
MIXED = st.text(alphabet=st.one_of(CJK, st.characters()), max_size=40)
NUMERAL = st.text(alphabet="零〇一二两三四五六七八九十百", min_size=1, max_size=4)


@settings(max_examples=200, deadline=None, database=None)
@given(MIXED)
def test_place_lookup_never_crashes(text):
    matches = KB.places_in_text(text)
    for m in matches:
        assert m.target is not None
        assert m.to_payload()["name"]
    KB.find_place(text)


@settings(max_examples=200, deadline=None, database=None)
@given(MIXED)
def test_fact_extraction_never_crashes(text):
    facts = KB.extract_facts(text, today=date(2024, 6, 1))
    assert set(facts) <= set(KB.facts_vocabulary)


@settings(max_examples=150, deadline=None, database=None)
@given(MIXED)
def test_search_never_crashes(text):
    for hit in KB.search(text):
        assert 0 <= hit.score < 1
    KB.clause_by_number(text)
    KB.clauses_for_topic(text)
    KB.glossary_lookup(text)
    KB.find_department(text)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=60))
def test_years_round_trip_arabic_and_chinese(n):
    import cn2an

    today = date(2024, 6, 1)
    assert parse_years_since_graduation(f"毕业{n}年", today) == n
    assert parse_years_since_graduation(f"毕业{cn2an.an2cn(n)}年了", today) == n
    year = today.year - n
    if year >= 1950:
        assert parse_years_since_graduation(f"{year}年毕业", today) == n


@settings(max_examples=200, deadline=None, database=None)
@given(NUMERAL)
def test_cn_number_never_crashes(token):
    value = cn_number(token)
    assert value is None or value >= 0


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=40), st.sampled_from(["龙泉", "淳安", "乐清", "上海"]))
def test_m7_years_boundary(n, place):
    verdict = KB.evaluate("m7", {"role": "graduate", "activity": "startup", "place": place, "years_since_graduation": n})
    covered = place in ("龙泉", "淳安")
    expected = "eligible" if covered and n <= 10 else "not_eligible"
    assert verdict.verdict == expected
