"""The policy staff's commands: `make kb-check` (scripts/kb_check.py) on the real data and on
edited copies of it, and `make kb-answers` / `make kb-diff` (scripts/kb_diff.py) on the real
assistant."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "policy_kb" / "data"


def kb_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/kb_check.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def edited(tmp_path: Path, filename: str, old: str, new: str) -> Path:
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(DATA, data)
    text = (data / filename).read_text(encoding="utf-8")
    assert old in text, f"{filename} no longer has {old!r}"
    (data / filename).write_text(text.replace(old, new, 1), encoding="utf-8")
    return data


def test_the_knowledge_base_as_committed_passes():
    r = kb_check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "quotes found word for word in the document" in r.stdout and "as published" in r.stdout


def test_every_error_of_an_edit_is_named_by_file_and_field(tmp_path):
    # Three mistakes a person might make in one edit of clause m1 (clauses[2]), and two in aspects.yml
    # that the second mistake causes (who decides and who funds quote the altered words): all reported
    # in one run.
    edited(tmp_path, "clauses.yml", "- phrase: 视情\n", "- phrase: 酌情\n")                   # caution not in the text
    edited(tmp_path, "clauses.yml", "省财政视情给予补助。", "省财政给予补助。")                  # quote altered
    data = edited(tmp_path, "clauses.yml", "{term: 博士后, weight: 3}", "{term: 博士后, weight: 很高}")  # not a number
    r = kb_check("--data-dir", str(data))
    assert r.returncode == 1
    out = r.stdout
    assert "clauses.yml: clauses[2].hedges[1].phrase: '酌情' does not occur in the clause text (clause m1)" in out
    assert "clauses.yml: clauses[2].text: not found verbatim in the document" in out
    assert "clauses.yml: clauses[2].keywords[0].weight: value is not a valid float (clause m1)" in out
    assert "aspects.yml: clauses.m1.decider.states: not found verbatim in clause m1" in out
    assert "aspects.yml: clauses.m1.funder.states: not found verbatim in clause m1" in out
    assert "5 error(s)" in out


def test_an_eligibility_rule_with_an_unknown_value_is_named(tmp_path):
    data = edited(tmp_path, "eligibility.yml", "in: [completed]", "in: [finished]")
    r = kb_check("--data-dir", str(data))
    assert r.returncode == 1
    assert "eligibility.yml: rules[0].conditions[1].in[0]: unknown value 'finished' of fact 'postdoc_status'" in r.stdout


def test_a_changed_document_is_refused_even_when_the_quotes_follow_it(tmp_path):
    # Editing the document to fit an edited quote would make every quote check pass.
    data = edited(tmp_path, "clauses.yml", "省财政视情给予补助。", "省财政给予补助。")
    source = ROOT / "policy_kb" / "zhe-ren-she-fa-2021-22.txt"
    text = source.read_text(encoding="utf-8")
    assert "省财政视情给予补助" in text
    (data / "zhe-ren-she-fa-2021-22.txt").write_text(text.replace("省财政视情给予补助", "省财政给予补助", 1), encoding="utf-8")
    r = kb_check("--data-dir", str(data))
    assert r.returncode == 1
    assert "zhe-ren-she-fa-2021-22.txt: (file): differs from the document as published" in r.stdout


def test_broken_yaml_is_named_with_its_line(tmp_path):
    data = edited(tmp_path, "glossary.yml", "glossary:", "glossary: [")
    r = kb_check("--data-dir", str(data))
    assert r.returncode == 1 and "glossary.yml: line " in r.stdout and "not valid YAML" in r.stdout


CASES = [
    {"id": "k1", "cat": "content", "turns": ["创业担保贷款有什么优惠"], "expect": {"clauses_any": ["m7"]}},
    {"id": "k2", "cat": "county", "turns": ["开化县是山区县吗"], "expect": {"county": {"name": "开化县", "mountain": True}}},
]


@pytest.mark.e2e
def test_answers_are_recorded_and_compared_side_by_side(assistant, tmp_path):
    cases = tmp_path / "cases.yml"
    cases.write_text(yaml.safe_dump(CASES, allow_unicode=True), encoding="utf-8")
    out = ROOT / "results" / "kb"
    labels = [f"test-{tmp_path.name}-a", f"test-{tmp_path.name}-b"]
    try:
        for label in labels:
            r = subprocess.run([sys.executable, "scripts/kb_diff.py", "record", "--label", label, "--cases", str(cases),
                                "--url", assistant.rest], cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stdout + r.stderr
        before = json.loads((out / f"{labels[0]}.json").read_text(encoding="utf-8"))
        answers = before["sets"]["cases.yml"]
        assert answers["k1"]["ok"] and "m7" in answers["k1"]["clauses"] and "创业担保贷款" in answers["k1"]["text"]
        assert answers["k2"]["ok"]
        assert before["meta"]["kb"] and before["meta"]["commit"]

        # The same assistant twice: nothing changed.
        r = subprocess.run([sys.executable, "scripts/kb_diff.py", "compare", *labels], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "原来通过、现在不通过 0 题" in r.stdout and "回答有变化 0 题" in r.stdout, r.stdout

        # As if a caution had been reworded and a place rule broken.
        after = json.loads((out / f"{labels[1]}.json").read_text(encoding="utf-8"))
        after["sets"]["cases.yml"]["k1"]["text"] += "\n（新的提示语）"
        after["sets"]["cases.yml"]["k2"].update(ok=False, why=["county 开化县 is_mountain_county False"])
        (out / f"{labels[1]}.json").write_text(json.dumps(after, ensure_ascii=False), encoding="utf-8")
        r = subprocess.run([sys.executable, "scripts/kb_diff.py", "compare", *labels], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stdout  # a case that now fails
        assert "[原来通过、现在不通过] cases.yml k2：开化县是山区县吗" in r.stdout
        assert "[回答有变化] cases.yml k1" in r.stdout
        page = (out / f"{labels[0]}-{labels[1]}.html").read_text(encoding="utf-8")
        assert "（新的提示语）" in page and page.count("创业担保贷款") >= 2  # before and after, side by side
    finally:
        for p in out.glob(f"test-{tmp_path.name}-*"):
            p.unlink()
