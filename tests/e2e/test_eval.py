"""The project's evaluation set through the REST channel: accuracy and faithful citations."""
from __future__ import annotations

import pytest

from eval.run import DEFAULT_CASES, load_cases, run_assistant

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The evaluation set is written apart from the training data; at least this share must come out
# fully right (every expectation of the case met).
MIN_PASS_RATE = 0.95


@pytest.fixture(scope="module")
def report(assistant):
    return run_assistant(assistant.rest, load_cases(DEFAULT_CASES))


def test_every_citation_of_every_answer_is_verbatim(report):
    assert report["unfaithful_citations"] == {}


def test_evaluation_set_pass_rate(report):
    fails = "\n".join(f"{k}: {'; '.join(v)}" for k, v in report["fails"].items())
    assert report["cases"] >= 250
    assert report["pass_rate"] >= MIN_PASS_RATE, f"{report['pass_rate']:.3f}\n{fails}"


def test_every_category_is_mostly_right(report):
    for cat, (passed, total) in report["by_category"].items():
        assert passed / total >= 0.85, (cat, passed, total)
