"""What a right answer carries (CONTRACT.md), checked on the messages the REST channel returns.

The expectation keys are those of the evaluation set (eval/questions.yml): clauses_any (the top
citation matches one), clauses_all, units, verdict, county {name, mountain}, oos, text_any,
no_citation; and text_none (none of these strings in the text) and met_none (no `met` reason of the
last eligibility payload contains these strings: facts the person denied). A cited parent (m3)
matches a child (m3.2) and the other way round.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List

from policy_kb import get_kb

UNIT_ALIASES = {
    "省人力社保厅": ["省人力社保厅", "人力资源和社会保障厅", "省人社厅", "省人社保厅"],
    "省财政厅": ["省财政厅", "浙江省财政厅"],
    "人行杭州中心支行": ["人行杭州中心支行", "人民银行杭州中心支行"],
    "省委组织部": ["省委组织部"],
    "省教育厅": ["省教育厅"],
    "省农业农村厅": ["省农业农村厅"],
    "省卫生健康委": ["省卫生健康委", "省卫健委", "卫生健康委员会"],
}
_WS = re.compile(r"\s+")


def id_match(cited: str, expected: str) -> bool:
    return cited == expected or cited.startswith(expected + ".") or expected.startswith(cited + ".")


def customs(msgs: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"] for m in msgs if isinstance(m.get("custom"), dict)]


def cited_ids(msgs) -> List[str]:
    return [c.get("clause_id", "") for cu in customs(msgs) for c in cu.get("citations", []) or []]


def check(expect: Dict[str, Any], msgs: List[Dict[str, Any]]) -> List[str]:
    """The reasons this answer falls short; empty when it holds."""
    cus = customs(msgs)
    cited = cited_ids(msgs)
    texts = "\n".join(m.get("text") or "" for m in msgs)
    blob = texts + json.dumps(cus, ensure_ascii=False)
    why = []
    if not msgs:
        why.append("no answer")
    if "clauses_any" in expect:
        if not cited or not any(id_match(cited[0], e) for e in expect["clauses_any"]):
            why.append(f"top citation {cited[:1]} not in {expect['clauses_any']}")
    for e in expect.get("clauses_all", []):
        if not any(id_match(c, e) for c in cited):
            why.append(f"{e} not cited ({cited})")
    for unit in expect.get("units", []):
        if not any(a in blob for a in UNIT_ALIASES[unit]):
            why.append(f"unit {unit} not named")
    if "verdict" in expect:
        verdicts = [cu["eligibility"].get("verdict") for cu in cus if isinstance(cu.get("eligibility"), dict)]
        if not verdicts or verdicts[-1] != expect["verdict"]:
            why.append(f"verdict {verdicts[-1:]} != {expect['verdict']}")
    if "county" in expect:
        want = expect["county"]
        ok = False
        for c in (cu["county"] for cu in cus if isinstance(cu.get("county"), dict)):
            name = c.get("name") or ""
            if "name" in want and not (want["name"] in name or (name and name in want["name"])):
                continue
            ok = ok or bool(c.get("is_mountain_county")) == want["mountain"]
        if not ok:
            why.append(f"county payload does not say {want}")
    if expect.get("oos") and (cited or not any(cu.get("out_of_scope") for cu in cus)):
        why.append(f"not marked out_of_scope (cited {cited})")
    if expect.get("no_citation") and cited:
        why.append(f"cited {cited} on a question with no clause")
    if "text_any" in expect and not any(t in texts for t in expect["text_any"]):
        why.append(f"text lacks any of {expect['text_any']}")
    present = [t for t in expect.get("text_none", []) if t in texts]
    if present:
        why.append(f"text says {present}, which it must not")
    met = [m for cu in cus if isinstance(cu.get("eligibility"), dict) for m in cu["eligibility"].get("met", [])]
    wrongly_met = [t for t in expect.get("met_none", []) if any(t in m for m in met[-8:])]
    if wrongly_met:
        why.append(f"eligibility lists as met {wrongly_met}, which the person denied")
    return why


def unfaithful_citations(msgs) -> List[str]:
    """Citations whose text is not the document's words (whitespace and page breaks aside)."""
    kb = get_kb()
    source = _WS.sub("", kb.source_text)
    bad = []
    for cu in customs(msgs):
        for c in cu.get("citations", []) or []:
            # Each citation is one contiguous passage of the document (page-break debris aside).
            text = _WS.sub("", c.get("text") or "")
            if not text or text not in source:
                bad.append(c.get("clause_id", "?"))
    return bad
