"""`make crossval`: NLU cross-validation (`rasa test nlu --cross-validation`) and its summary.

Trains and tests the NLU pipeline of bot/config.yml on `--folds` splits of nlu_data/ (with the
synonyms and lookup tables generated from the knowledge base) — the trained part of it: the
knowledge-base entity matcher is left out, since it is not trained (it matches every name the
knowledge base knows, which the hand annotations do not mark) and some of its values, such as
years since graduation, have no span for Rasa's entity evaluation. Intents do not depend on it.
Then writes what the folds' test
predictions give together — intent accuracy and F1, the weakest intents, entity F1 per extractor
— to eval/crossval.md (kept in the repository, with the date and commit) and the full reports to
results/crossval/. Clause retrieval is compared with a jieba-BM25 search by `make eval`, on the
evaluation questions; this is the classifier alone, on the training examples held out fold by fold.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "crossval"
SUMMARY = ROOT / "eval" / "crossval.md"


UNTRAINED = ("bot.components.kb_entities.KBEntityExtractor",)


def trained_config(path: Path) -> Path:
    """bot/config.yml without the components that are not trained (see above)."""
    import yaml

    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in UNTRAINED]
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run(folds: int, out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "scripts/train.py", "--export-only"], cwd=ROOT, check=True)
    config = trained_config(out / "config-trained-part.yml")
    subprocess.run(
        [sys.executable, "-m", "rasa", "test", "nlu", "--config", str(config), "--nlu", "nlu_data",
         "--cross-validation", "--folds", str(folds), "--out", str(out)],
        cwd=ROOT, check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    return time.perf_counter() - started


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summarise(out: Path, folds: int, seconds: float) -> str:
    intents: Dict[str, Any] = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    per_intent = {k: v for k, v in intents.items()
                  if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg")}
    support = sum(int(v.get("support", 0)) for v in per_intent.values())
    lines: List[str] = [
        "# NLU cross-validation",
        "",
        f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}, commit {_commit()}, "
        f"{folds} folds over {support} examples of nlu_data/ (each example tested once, by the "
        f"model trained on the other folds); {seconds:.0f} s on {os.cpu_count()} cores. The pipeline "
        "of bot/config.yml without the knowledge-base entity matcher, which is not trained. "
        "Produced by `make crossval` (eval/crossval.py); full reports in results/crossval/.",
        "",
        "## Intents",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| accuracy | {intents.get('accuracy', float('nan')):.3f} |",
        f"| macro F1 | {intents['macro avg']['f1-score']:.3f} |",
        f"| weighted F1 | {intents['weighted avg']['f1-score']:.3f} |",
        "",
        "Weakest intents (F1):",
        "",
        "| intent | precision | recall | F1 | examples |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, v in sorted(per_intent.items(), key=lambda kv: kv[1]["f1-score"])[:6]:
        lines.append(f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f} | {v['support']} |")
    entity_reports = sorted(p for p in out.glob("*_report.json")
                            if p.name not in ("intent_report.json", "response_selection_report.json"))
    if entity_reports:
        lines += ["", "## Entities", "", "| extractor | macro F1 | weighted F1 | micro F1 |",
                  "| --- | --- | --- | --- |"]
        for p in entity_reports:
            rep = json.loads(p.read_text(encoding="utf-8"))

            def f1(key: str) -> str:
                return f"{rep[key]['f1-score']:.3f}" if isinstance(rep.get(key), dict) else "–"

            lines.append(f"| {p.name[:-len('_report.json')]} | {f1('macro avg')} | {f1('weighted avg')} | {f1('micro avg')} |")
    return "\n".join(lines) + "\n"


def main(argv: List[str] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--summary", type=Path, default=SUMMARY)
    ap.add_argument("--summarise-only", action="store_true", help="rewrite the summary from --out")
    a = ap.parse_args(argv)
    seconds = 0.0 if a.summarise_only else run(a.folds, a.out)
    text = summarise(a.out, a.folds, seconds)
    a.summary.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
