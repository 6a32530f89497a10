"""What a change of the knowledge base (or of the model) changes in the answers.

`record` asks every question of the evaluation sets (eval/questions.yml, eval/holdout.yml,
eval/real/part*.yml) of the assistant as `make run` starts it (this checkout's knowledge base,
its model or the one RASA_MODEL names) and keeps each last answer, whether it passes its checks,
and which commit, model and knowledge base answered, in results/kb/<label>.json.
`compare` puts two recordings side by side: pass counts per set, the cases that now fail or now
pass, and every case whose answer changed, before | after; in the terminal and in
results/kb/<before>-<after>.html.

  python scripts/kb_diff.py record --label before      # before editing (the model that is live)
  python scripts/kb_diff.py record --label after       # after make kb-check and make train
  python scripts/kb_diff.py compare before after       # or two paths of recordings

(`make kb-answers KB_LABEL=before`, `make kb-answers`, `make kb-diff`; docs/zh/kb-maintenance.md)
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import html
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "results" / "kb"


def default_sets() -> List[Path]:
    return [ROOT / "eval" / "questions.yml", ROOT / "eval" / "holdout.yml",
            *sorted((ROOT / "eval" / "real").glob("part*.yml"))]


def kb_fingerprint() -> str:
    """A hash of the knowledge base's data files and the document they quote."""
    h = hashlib.sha256()
    for p in sorted((ROOT / "policy_kb" / "data").glob("*.yml")) + [ROOT / "policy_kb" / "zhe-ren-she-fa-2021-22.txt"]:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def answer_text(msgs: List[Dict[str, Any]]) -> str:
    lines = []
    for m in msgs:
        if m.get("text"):
            lines.append(m["text"])
        for b in m.get("buttons") or []:
            lines.append(f"[{b.get('title')}]")
    return "\n".join(lines)


def summary(msgs: List[Dict[str, Any]]) -> Dict[str, Any]:
    from eval.scoring import customs

    payloads = customs(msgs)
    verdicts = [p["eligibility"].get("verdict") for p in payloads if isinstance(p.get("eligibility"), dict)]
    return {"text": answer_text(msgs),
            "clauses": [c.get("clause_id") for p in payloads for c in p.get("citations") or []],
            "verdict": verdicts[-1] if verdicts else None}


def ask_all(url: str, sets: List[Path]) -> Dict[str, Dict[str, Any]]:
    from eval.run import ask, load_cases
    from eval.scoring import check

    session = requests.Session()
    out: Dict[str, Dict[str, Any]] = {}
    for path in sets:
        cases = load_cases(path)
        answers: Dict[str, Any] = {}
        for case in cases:
            sender = f"kbdiff-{case['id']}-{uuid.uuid4().hex[:8]}"
            msgs: List[Dict[str, Any]] = []
            try:
                for turn in case["turns"]:
                    msgs = ask(session, url, sender, turn)
                why = check(case["expect"], msgs)
            except Exception as e:  # a broken answer is a changed answer, not a broken run
                why = [f"error {type(e).__name__}: {e}"]
            answers[case["id"]] = {"turns": case["turns"], "ok": not why, "why": why, **summary(msgs)}
        out[path.name] = answers
        passed = sum(a["ok"] for a in answers.values())
        print(f"  {path.name}: {passed}/{len(answers)} 通过", flush=True)
    return out


def record(label: str, sets: List[Path], url: Optional[str]) -> Path:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "policy_kb", "nlu_data", "bot"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    meta = {"label": label, "commit": commit + ("+未提交的修改" if dirty else ""), "kb": kb_fingerprint(),
            "recorded": datetime.datetime.now().isoformat(timespec="seconds")}
    print(f"[kb-answers] 记录“{label}”：提交 {meta['commit']}，知识库 {meta['kb']}", flush=True)
    if url:
        meta["model"] = "(running assistant at " + url + ")"
        answers = ask_all(url, sets)
    else:
        from bot.launcher import Assistant, current_model

        model = current_model()
        meta["model"] = model.name
        print(f"[kb-answers] 模型 {model.name}", flush=True)
        with Assistant(model=model, log_dir=ROOT / "results" / "kb" / "logs") as assistant:
            answers = ask_all(assistant.rest, sets)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{label}.json"
    path.write_text(json.dumps({"meta": meta, "sets": answers}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"[kb-answers] 已保存 {path.relative_to(ROOT)}")
    return path


def load(name: str) -> Dict[str, Any]:
    path = Path(name)
    if not path.exists():
        path = OUT / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"kb-diff: no recording '{name}' (looked for {path}): "
                         f"record it first with make kb-answers KB_LABEL={Path(name).stem}")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["meta"].setdefault("label", path.stem)
    return data


def changes(before: Dict[str, Any], after: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    for set_name, cases in after["sets"].items():
        old_cases = before["sets"].get(set_name, {})
        for cid, new in cases.items():
            old = old_cases.get(cid)
            if old is None:
                kind = "new"
            elif old["ok"] and not new["ok"]:
                kind = "regressed"
            elif not old["ok"] and new["ok"]:
                kind = "fixed"
            elif (old["text"], old["clauses"], old["verdict"]) != (new["text"], new["clauses"], new["verdict"]):
                kind = "changed"
            else:
                continue
            rows.append({"set": set_name, "id": cid, "kind": kind, "before": old, "after": new})
    order = {"regressed": 0, "fixed": 1, "changed": 2, "new": 3}
    return sorted(rows, key=lambda r: (order[r["kind"]], r["set"], r["id"]))


KIND = {"regressed": "原来通过、现在不通过", "fixed": "原来不通过、现在通过", "changed": "回答有变化", "new": "新增题目"}


def write_html(before: Dict[str, Any], after: Dict[str, Any], rows: List[Dict[str, Any]], path: Path) -> None:
    e = html.escape

    def cell(a: Optional[Dict[str, Any]]) -> str:
        if a is None:
            return "<td>（无）</td>"
        status = "通过" if a["ok"] else "不通过：" + "；".join(a["why"])
        return (f"<td><pre>{e(a['text'])}</pre><p>引用：{e(', '.join(map(str, a['clauses'])) or '无')}"
                f"{'，资格判断：' + e(str(a['verdict'])) if a['verdict'] else ''}</p><p>{e(status)}</p></td>")

    b, a = before["meta"], after["meta"]
    body = [f"<h1>回答对比：{e(b['label'])} → {e(a['label'])}</h1>",
            f"<p>之前：提交 {e(b['commit'])}，模型 {e(b['model'])}，知识库 {e(b['kb'])}，{e(b['recorded'])}<br>"
            f"之后：提交 {e(a['commit'])}，模型 {e(a['model'])}，知识库 {e(a['kb'])}，{e(a['recorded'])}</p>",
            "<table><tr><th>题目</th><th>之前</th><th>之后</th></tr>"]
    for r in rows:
        question = " → ".join(r["after"]["turns"])
        body.append(f"<tr class='{r['kind']}'><td><b>{e(KIND[r['kind']])}</b><br>{e(r['set'])} {e(r['id'])}"
                    f"<br>{e(question)}</td>{cell(r['before'])}{cell(r['after'])}</tr>")
    body.append("</table>")
    style = ("body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;width:100%}"
             "td,th{border:1px solid #ccc;vertical-align:top;padding:4px;width:33%}pre{white-space:pre-wrap;margin:0}"
             ".regressed td:first-child{background:#fdd}.fixed td:first-child{background:#dfd}")
    path.write_text(f"<!doctype html><meta charset='utf-8'><title>回答对比</title><style>{style}</style>"
                    + "\n".join(body), encoding="utf-8")


def compare(before_name: str, after_name: str, width: int) -> int:
    before, after = load(before_name), load(after_name)
    print(f"之前：{before['meta']['label']}（提交 {before['meta']['commit']}，模型 {before['meta']['model']}）")
    print(f"之后：{after['meta']['label']}（提交 {after['meta']['commit']}，模型 {after['meta']['model']}）")
    print(f"{'评测集':<16} {'之前通过':>10} {'之后通过':>10}")
    for set_name, cases in after["sets"].items():
        old = before["sets"].get(set_name, {})
        print(f"{set_name:<16} {sum(c['ok'] for c in old.values()):>6}/{len(old):<4}"
              f"{sum(c['ok'] for c in cases.values()):>6}/{len(cases):<4}")
    rows = changes(before, after)
    counts = {k: sum(r["kind"] == k for r in rows) for k in KIND}
    print("；".join(f"{KIND[k]} {n} 题" for k, n in counts.items()))

    def short(text: str) -> str:
        text = text.replace("\n", " ")
        return text if len(text) <= width else text[: width - 1] + "…"

    for r in rows:
        print(f"\n[{KIND[r['kind']]}] {r['set']} {r['id']}：{' → '.join(r['after']['turns'])}")
        if r["before"] is not None:
            print(f"  之前：{short(r['before']['text'])}" + ("" if r["before"]["ok"] else f"  ✗ {'；'.join(r['before']['why'])}"))
        print(f"  之后：{short(r['after']['text'])}" + ("" if r["after"]["ok"] else f"  ✗ {'；'.join(r['after']['why'])}"))
    OUT.mkdir(parents=True, exist_ok=True)
    page = OUT / f"{before['meta']['label']}-{after['meta']['label']}.html"
    write_html(before, after, rows, page)
    print(f"\n逐题对照（完整回答）：{page}")
    return 1 if counts["regressed"] else 0


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="ask the evaluation sets and keep the answers")
    rec.add_argument("--label", default="after")
    rec.add_argument("--cases", nargs="+", help="case files (default: the evaluation sets)")
    rec.add_argument("--url", help="a running assistant's REST webhook instead of starting one")
    cmp_ = sub.add_parser("compare", help="two recordings side by side; exit 1 when a case now fails")
    cmp_.add_argument("before")
    cmp_.add_argument("after")
    cmp_.add_argument("--width", type=int, default=80, help="characters of each answer in the terminal")
    a = ap.parse_args(argv)
    if a.command == "record":
        record(a.label, [Path(p) for p in a.cases] if a.cases else default_sets(), a.url)
        return 0
    return compare(a.before, a.after, a.width)


if __name__ == "__main__":
    sys.exit(main())
