"""The project's evaluation set through the REST channel: accuracy and faithful citations."""
from __future__ import annotations

import pytest

from eval.run import DEFAULT_CASES, load_cases, run_assistant

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The evaluation set is written apart from the training data; at least this share must come out
# fully right (every expectation of the case met).
MIN_PASS_RATE = 0.95
# Conversations asked at once: the answers are the same (tests/eval/test_run.py), and on two
# cores the server's and the action server's work then overlap (part31: 14 s one at a time, 9 s).
EVAL_WORKERS = 4


@pytest.fixture(scope="module")
def report(assistant):
    return run_assistant(assistant.rest, load_cases(DEFAULT_CASES), workers=EVAL_WORKERS)


def test_every_citation_of_every_answer_is_verbatim(report):
    assert report["unfaithful_citations"] == {}


def test_evaluation_set_pass_rate(report):
    fails = "\n".join(f"{k}: {'; '.join(v)}" for k, v in report["fails"].items())
    assert report["cases"] >= 250
    assert report["pass_rate"] >= MIN_PASS_RATE, f"{report['pass_rate']:.3f}\n{fails}"


def test_every_category_is_mostly_right(report):
    for cat, (passed, total) in report["by_category"].items():
        assert passed / total >= 0.85, (cat, passed, total)


# The real-phrasing sets (eval/real/part*.yml) were written from the document alone, in the way
# people type. Their pass rate is kept from falling below what has been reached (eval/README.md);
# the goal is 0.97.
REAL_SETS = sorted((DEFAULT_CASES.parent / "real").glob("part*.yml"))
MIN_REAL_PASS_RATE = 0.93


@pytest.fixture(scope="module")
def real_answers(assistant):
    answers = []
    cases = [c for p in REAL_SETS for c in load_cases(p)]
    report = run_assistant(assistant.rest, cases, on_answer=lambda case, msgs: answers.append(msgs),
                            workers=EVAL_WORKERS)
    return report, answers


def test_real_phrasing_pass_rate_and_citations(real_answers):
    report, _ = real_answers
    assert report["unfaithful_citations"] == {}
    assert report["cases"] >= 300
    assert report["pass_rate"] >= MIN_REAL_PASS_RATE, report["pass_rate"]


def test_answers_read_well_on_a_phone(real_answers):
    import re

    _, answers = real_answers
    texts = [m.get("text") or "" for msgs in answers for m in msgs]
    assert texts
    for msgs in answers:
        buttons = [b for m in msgs for b in m.get("buttons") or []]
        assert len(buttons) <= 5 and all(len(b["title"]) <= 16 for b in buttons), buttons
    for t in texts:
        assert "。；" not in t, t
        assert not re.search(r"([\u4e00-\u9fff]{2,6}[市县区])属于\1", t), t
        # the same passage is never quoted twice (a few of its words may lead the answer)
        quotes = re.findall(r"“([^”]{12,})”", t)
        assert len(quotes) == len(set(quotes)), (quotes, t)


def test_every_answer_follows_the_answer_schema(real_answers):
    import json

    import jsonschema

    schema = json.loads((DEFAULT_CASES.parent.parent / "docs" / "answer.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    _, answers = real_answers
    checked = 0
    for msgs in answers:
        for m in msgs:
            errors = sorted(validator.iter_errors(m), key=str)
            assert not errors, (m, [e.message for e in errors[:3]])
            checked += 1
    assert checked > 300
