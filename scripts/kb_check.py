"""`make kb-check`: checks the knowledge base (policy_kb/data/) after an edit, before training.

Reports every error it can find at once, each as `<file>: <field>: <problem>`, in three passes:

1. each data file is read as YAML and checked against its schema (policy_kb/models.py): all the
   schema errors of a file, not only the first;
2. every text the knowledge base quotes from the document (a clause's text, its 责任单位 line,
   its passages; a caution's phrase in its clause; what aspects.yml says a clause states) is
   looked up word for word in the document, and the document itself is checked to be the
   published text (its SHA-256 below): a quote is corrected to match the document, never the
   document to match a quote;
3. the knowledge base is loaded as the assistant loads it (policy_kb.load_kb: references between
   files, departments, places, facts, rules), and its vocabulary for NLU is generated.

usage: python scripts/kb_check.py [--data-dir DIR]      exit 0 when everything holds, else 1
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_kb import KBError, load_kb  # noqa: E402
from policy_kb.aspects import ASPECTS_FILE, AspectsFile  # noqa: E402
from policy_kb.models import (  # noqa: E402
    ClausesFile, DepartmentsFile, DocumentFile, EligibilityFile, GlossaryFile, PlacesFile,
)
from policy_kb.repository import DEFAULT_DATA_DIR, PACKAGE_DIR, format_loc  # noqa: E402
from policy_kb.text import squash  # noqa: E402

# 浙人社发〔2021〕22号 as published (policy_kb/zhe-ren-she-fa-2021-22.txt).
PUBLISHED = {"zhe-ren-she-fa-2021-22.txt": "5e7a257d4b5e7c3fea1a37ff6126bda2dfa36ad025880c788fe46cbe102ee487"}

SCHEMAS = {
    "document.yml": DocumentFile,
    "departments.yml": DepartmentsFile,
    "clauses.yml": ClausesFile,
    "places.yml": PlacesFile,
    "eligibility.yml": EligibilityFile,
    "glossary.yml": GlossaryFile,
    ASPECTS_FILE: AspectsFile,
}


class Report:
    def __init__(self) -> None:
        self.errors: List[str] = []
        self.quotes = 0
        self.clause_ids: List[str] = []  # to name the clause of an error in clauses.yml


    def error(self, filename: str, loc: Any, problem: str) -> None:
        where = loc if isinstance(loc, str) else format_loc(loc)
        if (filename == "clauses.yml" and not isinstance(loc, str) and len(loc) > 1
                and isinstance(loc[1], int) and loc[1] < len(self.clause_ids)):
            problem += f" (clause {self.clause_ids[loc[1]]})"
        line = f"{filename}: {where}: {problem}"
        if line not in self.errors:
            self.errors.append(line)

    def has(self, prefix: str) -> bool:
        return any(e.startswith(prefix) for e in self.errors)


def read_files(data_dir: Path, report: Report) -> Dict[str, Any]:
    raw: Dict[str, Any] = {}
    for path in sorted(data_dir.glob("*.yml")):
        try:
            raw[path.name] = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
            report.error(path.name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
    clauses = (raw.get("clauses.yml") or {}).get("clauses") if isinstance(raw.get("clauses.yml"), dict) else None
    report.clause_ids = [str(c.get("id")) if isinstance(c, dict) else "?" for c in (clauses or [])]
    for name, schema in SCHEMAS.items():
        if name not in raw:
            if not (data_dir / name).exists():
                report.error(name, "(file)", f"missing from {data_dir}")
            continue
        try:
            schema.parse_obj(raw[name])
        except ValidationError as exc:
            for err in exc.errors():
                report.error(name, err["loc"], err["msg"])
    return raw


def source_text(data_dir: Path, raw: Dict[str, Any], report: Report) -> Optional[Tuple[str, str]]:
    name = ((raw.get("document.yml") or {}).get("document") or {}).get("source_file")
    if not name:
        return None
    path = data_dir / name if (data_dir / name).exists() else PACKAGE_DIR / name
    if not path.exists():
        report.error("document.yml", "document.source_file", f"file '{name}' not found")
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if name in PUBLISHED and digest != PUBLISHED[name]:
        report.error(name, "(file)", f"differs from the document as published (SHA-256 {digest[:12]}…, "
                                     f"expected {PUBLISHED[name][:12]}…): restore it and correct the quotes instead")
    return data.decode("utf-8"), digest


def check_quotes(raw: Dict[str, Any], source: str, report: Report) -> None:
    """Every quote, word for word in the document (whitespace aside, as the loader compares)."""
    doc = squash(source)
    clauses = (raw.get("clauses.yml") or {}).get("clauses") or []
    texts: Dict[str, str] = {}
    for i, c in enumerate(clauses):
        if not isinstance(c, dict):
            continue
        for field in ("text", "units_line"):
            for line in str(c.get(field) or "").split("\n"):
                if line.strip():
                    report.quotes += 1
                    if squash(line) not in doc:
                        report.error("clauses.yml", ("clauses", i, field), f"not found verbatim in the document: “{line[:40]}”")
        for j, passage in enumerate(c.get("passages") or []):
            report.quotes += 1
            if squash(str(passage)) not in doc:
                report.error("clauses.yml", ("clauses", i, "passages", j), "not one contiguous passage of the document")
        if c.get("id"):
            texts[str(c["id"])] = str(c.get("text") or "")
    for c in clauses:  # a measure made of paragraphs quotes them
        if isinstance(c, dict) and c.get("composed_of"):
            texts[str(c.get("id"))] = "\n".join(texts.get(str(p), "") for p in c["composed_of"])
    for i, c in enumerate(clauses):
        if not isinstance(c, dict) or c.get("composed_of"):
            continue
        for j, hedge in enumerate(c.get("hedges") or []):
            phrase = str((hedge or {}).get("phrase") or "") if isinstance(hedge, dict) else ""
            report.quotes += 1
            if not phrase or squash(phrase) not in squash(texts.get(str(c.get("id")), "")):
                report.error("clauses.yml", ("clauses", i, "hedges", j, "phrase"),
                             f"'{phrase}' does not occur in the clause text")
    aspects = (raw.get(ASPECTS_FILE) or {}).get("clauses") or {}
    for cid, by_aspect in aspects.items():
        if cid not in texts:
            report.error(ASPECTS_FILE, ("clauses", cid), f"unknown clause '{cid}'")
            continue
        for key, value in (by_aspect or {}).items():
            states = (value or {}).get("states") if isinstance(value, dict) else None
            if states is not None:
                report.quotes += 1
                if squash(str(states)) not in squash(texts[cid]):
                    report.error(ASPECTS_FILE, ("clauses", cid, key, "states"), f"not found verbatim in clause {cid}")


def check_load(data_dir: Path, report: Report) -> Optional[Any]:
    try:
        kb = load_kb(data_dir)
    except KBError as exc:
        message = str(exc)
        where = message.split(": ", 2)
        # Already reported by the passes above (the loader stops at its first error).
        if len(where) == 3 and report.has(f"{where[0]}: {where[1]}:"):
            return None
        report.errors.append(message)
        return None
    except Exception as exc:  # a broken file the schema let through still names itself
        report.errors.append(f"(loading): {type(exc).__name__}: {exc}")
        return None
    try:
        from policy_kb import export

        with tempfile.TemporaryDirectory() as out:
            export.write_all(Path(out), kb)
            export.synonyms(kb), export.lookup_tables(kb)
    except Exception as exc:
        report.errors.append(f"(NLU vocabulary): {type(exc).__name__}: {exc}")
    return kb


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    a = ap.parse_args(argv)
    data_dir = Path(a.data_dir).resolve()
    report = Report()
    raw = read_files(data_dir, report)
    source = source_text(data_dir, raw, report)
    if source:
        check_quotes(raw, source[0], report)
    kb = check_load(data_dir, report) if not report.errors else None
    if report.errors:
        print(f"kb-check: {len(report.errors)} error(s) in {data_dir}:")
        for line in report.errors:
            print("  " + line)
        if kb is None and not any(e.startswith("(") for e in report.errors):
            print("(fix these and run make kb-check again: references between files are checked one at a time)")
        return 1
    print(f"kb-check: {data_dir} is valid: {len(kb.clauses)} clauses, {len(kb.rules)} eligibility rules; "
          f"{report.quotes} quotes found word for word in the document (SHA-256 {source[1][:12]}…, as published)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
