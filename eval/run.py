"""`make eval`: the evaluation set through the REST channel, beside a jieba-BM25 search baseline.

Starts the real assistant (action server + Rasa server on free loopback ports) unless --url is
given, asks every case turn by turn, checks each last answer against its expectations, checks
that every citation of every answer is verbatim from the document, and prints a table of pass
rates per category for the assistant and for a plain BM25 search over the clauses (top hit as
the answer; it can only meet clause expectations, so it is scored on those cases alone).

usage: python -m eval.run [--cases FILE ...] [--url URL] [--json results/eval.json]
(default: eval/questions.yml, eval/holdout.yml and the real-phrasing sets eval/real/part*.yml)
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml

from eval.scoring import check, id_match, unfaithful_citations
from policy_kb import get_kb

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = ROOT / "eval" / "questions.yml"


def load_cases(path: Path) -> List[Dict[str, Any]]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def ask(session: requests.Session, url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    r = session.post(url, json={"sender": sender, "message": text}, timeout=60)
    r.raise_for_status()
    return r.json()


def run_assistant(url: str, cases: List[Dict[str, Any]], on_answer=None, workers: int = 1) -> Dict[str, Any]:
    """Ask every case turn by turn; `on_answer(case, msgs)` sees each answer. With `workers` > 1,
    that many conversations are under way at once (each its own sender, its turns in order): the
    results are the same, and the latencies then include waiting behind the others."""
    try:  # a server that is not there is a setup error, not 400 failed cases
        requests.post(url, json={"sender": "eval-probe", "message": "你好"}, timeout=60).raise_for_status()
    except requests.RequestException as e:
        raise SystemExit(f"the assistant at {url} does not answer: {e}")
    local = threading.local()

    def converse(case: Dict[str, Any]):
        """(the answers to each turn, the last one's failed expectations, unfaithful citations, latencies)"""
        if not hasattr(local, "session"):
            local.session = requests.Session()
        sender = f"eval-{case['id']}-{uuid.uuid4().hex[:8]}"
        answers: List[List[Dict[str, Any]]] = []
        bad: List[str] = []
        took: List[float] = []
        try:
            for turn in case["turns"]:
                t = time.perf_counter()
                answers.append(ask(local.session, url, sender, turn))
                took.append(time.perf_counter() - t)
                bad.extend(unfaithful_citations(answers[-1]))
            why = check(case["expect"], answers[-1] if answers else [])
        except Exception as e:  # a broken answer is a failed case, not a broken run
            why = [f"error {type(e).__name__}: {e}"]
        return answers, why, bad, took

    by_cat: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    fails: Dict[str, List[str]] = {}
    unfaithful: Dict[str, List[str]] = {}
    latencies: List[float] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # (results are taken in the cases' order, whatever order they finish in)
        for case, (answers, why, bad, took) in zip(cases, pool.map(converse, cases)):
            if on_answer is not None:
                for msgs in answers:
                    on_answer(case, msgs)
            if bad:
                unfaithful[case["id"]] = bad
            latencies.extend(took)
            by_cat[case["cat"]][1] += 1
            if why:
                fails[case["id"]] = why
            else:
                by_cat[case["cat"]][0] += 1
    latencies.sort()
    passed = sum(v[0] for v in by_cat.values())
    return {
        "cases": len(cases),
        "passed": passed,
        "pass_rate": round(passed / max(len(cases), 1), 4),
        "by_category": {k: v for k, v in sorted(by_cat.items())},
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None,
        "fails": fails,
        "unfaithful_citations": unfaithful,
    }


def run_bm25(cases: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Top BM25 hit over the clauses for the last turn, scored on cases that expect a clause."""
    kb = get_kb()
    by_cat: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        expect = case["expect"]
        wanted = expect.get("clauses_any") or expect.get("clauses_all")
        if not wanted:
            continue
        hits = kb.search(case["turns"][-1], k=3)
        top = [h.clause.id for h in hits]
        if "clauses_any" in expect:
            ok = bool(top) and any(id_match(top[0], e) for e in expect["clauses_any"])
        else:
            ok = all(any(id_match(t, e) for t in top) for e in expect["clauses_all"])
        by_cat[case["cat"]][1] += 1
        by_cat[case["cat"]][0] += int(ok)
    return {k: v for k, v in sorted(by_cat.items())}


def clause_only_rate(report: Dict[str, Any], cases: List[Dict[str, Any]]) -> Dict[str, List[int]]:
    """The assistant's pass counts on exactly the cases the baseline is scored on."""
    by_cat: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for case in cases:
        if not (case["expect"].get("clauses_any") or case["expect"].get("clauses_all")):
            continue
        by_cat[case["cat"]][1] += 1
        by_cat[case["cat"]][0] += int(case["id"] not in report["fails"])
    return by_cat


def print_table(report: Dict[str, Any], bm25: Dict[str, List[int]], same: Dict[str, List[int]]) -> None:
    def pct(p: int, n: int) -> str:
        return f"{p}/{n} ({100 * p / n:.0f}%)" if n else "-"

    print(f"{'category':<12} {'assistant (all checks)':>24} {'assistant (clause cases)':>26} {'BM25 top hit':>16}")
    cats = sorted(set(report["by_category"]) | set(bm25))
    for cat in cats:
        a = report["by_category"].get(cat, [0, 0])
        s = same.get(cat, [0, 0])
        b = bm25.get(cat, [0, 0])
        print(f"{cat:<12} {pct(*a):>24} {pct(*s):>26} {pct(*b):>16}")
    tot_s = [sum(v[0] for v in same.values()), sum(v[1] for v in same.values())]
    tot_b = [sum(v[0] for v in bm25.values()), sum(v[1] for v in bm25.values())]
    print(f"{'TOTAL':<12} {pct(report['passed'], report['cases']):>24} {pct(*tot_s):>26} {pct(*tot_b):>16}")
    print(f"latency p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms per turn")
    if report["unfaithful_citations"]:
        print("CITATIONS NOT VERBATIM:", report["unfaithful_citations"])
    else:
        print("every citation of every answer is verbatim from the document")


DEFAULT_SETS = [DEFAULT_CASES, ROOT / "eval" / "holdout.yml", *sorted((ROOT / "eval" / "real").glob("part*.yml"))]


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=[str(p) for p in DEFAULT_SETS],
                    help="one or more case files (default: the project's sets; eval/real/sealed.yml is kept apart)")
    ap.add_argument("--url", help="a running assistant's REST webhook; default: start one")
    ap.add_argument("--json", default=str(ROOT / "results" / "eval.json"))
    ap.add_argument("--show-fails", type=int, default=40)
    ap.add_argument("--workers", type=int, default=1,
                    help="conversations under way at once (latencies then include waiting; default 1)")
    a = ap.parse_args(argv)
    sets = [(Path(p), load_cases(Path(p))) for p in a.cases]
    reports: Dict[str, Any] = {}

    def run_all(url: str) -> None:
        for path, cases in sets:
            reports[path.name] = run_assistant(url, cases, workers=a.workers)

    if a.url:
        run_all(a.url)
    else:
        from bot.launcher import Assistant

        with Assistant(log_dir=ROOT / "results" / "eval-logs") as assistant:
            run_all(assistant.rest)
    unfaithful = False
    for path, cases in sets:
        report = reports[path.name]
        bm25 = run_bm25(cases)
        same = clause_only_rate(report, cases)
        report["bm25_by_category"] = bm25
        print(f"\n== {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        print_table(report, bm25, same)
        for cid, why in list(report["fails"].items())[: a.show_fails]:
            print(cid, "; ".join(why))
        unfaithful = unfaithful or bool(report["unfaithful_citations"])
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    out = reports[sets[0][0].name] if len(sets) == 1 else reports
    Path(a.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if unfaithful else 0


if __name__ == "__main__":
    sys.exit(main())
