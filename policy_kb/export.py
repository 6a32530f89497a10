"""Vocabulary for the NLU pipeline, generated from the knowledge base.

    python -m policy_kb.export OUTDIR

writes
  OUTDIR/jieba/userdict.txt      every KB term, with a frequency that keeps it whole
  OUTDIR/entity_patterns.jsonl   spaCy EntityRuler phrase patterns {"label", "pattern", "id"}

``synonyms()`` and ``lookup_tables()`` return ``{entity: {surface form: canonical value}}``
for the Rasa NLU files; ``synonyms()`` leaves out forms equal to their value.

Entity labels and their canonical values:
  place            standard full name (浙江县级单位、市区、省外地名), e.g. 景宁畲族自治县, 衢州市区, 苏州市
  city             Zhejiang prefecture-level city, e.g. 丽水市
  department       department id, e.g. hrss
  topic            clause id, e.g. m7
  term             glossary entry id, e.g. chuangye_danbao_daikuan
  role, employer_type, institution_type, postdoc_status, activity   enum value ids

Township names (千岛湖镇, 横店, see townships.py) are left out of all of these on purpose. Each
word added to jieba raises its total frequency, so the township names at the frequency that keeps
them whole change how ordinary questions split, in a way the trained NLU has not seen: with the
1,295 full names "能给多少/钱啊" becomes "多少钱"; with the short forms too, "归/谁/管" becomes
"归谁". No answer needs them as tokens either, because the knowledge base finds townships in
the text itself (``places_in_text``, and so the place that ``extract_facts`` reports to the NLU
component).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from .kb import KnowledgeBase, get_kb
from .models import City
from .text import normalise

ENUM_LABELS = ("role", "employer_type", "institution_type", "postdoc_status", "activity")
ENTITY_LABELS = ("place", "city", "department", "topic", "term", *ENUM_LABELS)
MIN_FREQ = 1000


def _pairs(kb: KnowledgeBase) -> List[Tuple[str, str, str]]:
    """(label, surface form, canonical value) for every entity surface form."""
    out: List[Tuple[str, str, str]] = []
    for surface, target in kb.places.surface_forms().items():
        label = "city" if isinstance(target, City) else "place"
        out.append((label, surface, target.name))
    for dept in kb.departments.values():
        out.extend(("department", name, dept.id) for name in dept.all_names)
    for clause in kb.clauses.values():
        out.extend(("topic", kw.term, clause.id) for kw in clause.keywords)
    for entry in kb.glossary.values():
        out.extend(("term", name, entry.id) for name in entry.all_names)
    for key in ENUM_LABELS:
        fdef = kb.facts_vocabulary.get(key)
        if fdef is None:
            continue
        for value, ev in fdef.values.items():
            out.extend((key, syn, value) for syn in dict.fromkeys([*ev.synonyms]))
    seen = set()
    unique = []
    for label, surface, value in out:
        surface = normalise(surface)
        if len(surface) < 2 or (label, surface) in seen:
            continue
        seen.add((label, surface))
        unique.append((label, surface, value))
    return unique


def lookup_tables(kb: Optional[KnowledgeBase] = None) -> Dict[str, Dict[str, str]]:
    """{entity: {surface form: canonical value}}, all surface forms included."""
    kb = kb or get_kb()
    tables: Dict[str, Dict[str, str]] = {label: {} for label in ENTITY_LABELS}
    for label, surface, value in _pairs(kb):
        tables[label].setdefault(surface, value)
    return tables


def synonyms(kb: Optional[KnowledgeBase] = None) -> Dict[str, Dict[str, str]]:
    """{entity: {synonym: canonical value}} for the forms that differ from their value."""
    return {
        label: {s: v for s, v in table.items() if s != v}
        for label, table in lookup_tables(kb).items()
    }


def entity_patterns(kb: Optional[KnowledgeBase] = None) -> List[Dict[str, str]]:
    kb = kb or get_kb()
    return [{"label": label, "pattern": surface, "id": value} for label, surface, value in _pairs(kb)]


def userdict_lines(kb: Optional[KnowledgeBase] = None) -> List[str]:
    """jieba user dictionary lines ``word freq``: frequency at least what jieba needs to keep the word whole."""
    kb = kb or get_kb()
    tokenizer = kb.index.tokenizer
    lines = []
    for word in kb.user_words():
        if any(ch.isspace() for ch in word):
            continue
        freq = max(MIN_FREQ, int(tokenizer.suggest_freq(word, tune=False)) + 1)
        lines.append(f"{word} {freq}")
    return lines


def write_all(outdir: Path, kb: Optional[KnowledgeBase] = None) -> Dict[str, Path]:
    kb = kb or get_kb()
    outdir = Path(outdir)
    (outdir / "jieba").mkdir(parents=True, exist_ok=True)
    userdict = outdir / "jieba" / "userdict.txt"
    userdict.write_text("\n".join(userdict_lines(kb)) + "\n", encoding="utf-8")
    patterns = outdir / "entity_patterns.jsonl"
    with patterns.open("w", encoding="utf-8") as fh:
        for row in entity_patterns(kb):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"userdict": userdict, "entity_patterns": patterns}


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy_kb.export", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(list(argv) if argv is not None else None)
    written = write_all(args.outdir)
    for path in written.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
