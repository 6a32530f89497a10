"""Turns knowledge-base objects into a reply: Chinese text for people, a payload for machines.

Every reply that answers from the document leads with a one-line direct answer, then quotes the
clause with its place in the document, then names who is responsible and what the document
leaves to local discretion. The payload (CONTRACT.md) carries the same content as structure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from policy_kb import get_kb

from actions import messages

VERDICT_WORDS = {
    "eligible": "符合",
    "not_eligible": "不符合",
    "need_info": "尚需信息",
}


@dataclass
class Reply:
    """One bot message: its text, optional quick-reply buttons and the CONTRACT payload."""

    text: str
    payload: Dict[str, Any] = field(default_factory=dict)
    buttons: List[Dict[str, str]] = field(default_factory=list)

    def add_citations(self, clauses: Sequence[Any]) -> "Reply":
        cites = self.payload.setdefault("citations", [])
        seen = {c["clause_id"] for c in cites}
        for clause in clauses:
            if clause.id not in seen:
                cites.append(clause.to_citation())
                seen.add(clause.id)
        return self

    def add_units(self, departments: Sequence[Any]) -> "Reply":
        units = self.payload.setdefault("responsible_units", [])
        names = {u["name"] for u in units}
        for dept in departments:
            p = dept.to_payload()
            if p["name"] not in names:
                units.append(p)
                names.add(p["name"])
        return self


def quote(clause) -> str:
    """The clause verbatim, with where it stands in the document."""
    return f"【原文】{clause.location}\n“{clause.text}”"


def units_line(clause) -> str:
    kb = get_kb()
    names = [d.name for d in kb.units_of(clause.id)]
    if not names:
        return ""
    local = f"，{clause.local_units}" if getattr(clause, "local_units", None) else ""
    return "【责任单位】" + "、".join(names) + local


def hedges_line(clause) -> str:
    hedges = list(getattr(clause, "hedges", []) or [])
    if not hedges:
        return ""
    words = "、".join(f"“{h.phrase}”" for h in hedges)
    explained = "；".join(h.explanation for h in hedges if getattr(h, "explanation", ""))
    return f"【请注意】文件用语{words}：{explained}" if explained else f"【请注意】文件用语{words}，具体由相关部门视情决定。"


def join(*parts: Optional[str]) -> str:
    return "\n".join(p for p in parts if p)


def clause_reply(clause, lead: str) -> Reply:
    kb = get_kb()
    reply = Reply(join(lead, quote(clause), units_line(clause), hedges_line(clause)))
    reply.add_citations([clause])
    units = kb.units_of(clause.id)
    if units:
        reply.add_units(units)
    return reply


def units_reply(clause, detail: Optional[str] = None) -> Reply:
    kb = get_kb()
    depts = kb.units_of(clause.id)
    names = "、".join(f"{d.name}（{d.full_name}）" for d in depts)
    local = f"，以及{clause.local_units}" if getattr(clause, "local_units", None) else ""
    lead = f"「{clause.title}」（{clause.location}）的责任单位是：{names}{local}。"
    if detail:
        lead += f"\n其中文件写明：“{detail}”"
    reply = Reply(join(lead, quote(clause), hedges_line(clause)))
    reply.add_citations([clause]).add_units(depts)
    return reply


def department_reply(dept) -> Reply:
    kb = get_kb()
    clauses = kb.clauses_of(dept.id)
    # A parent measure (m3, m4) and its paragraphs would say the same twice: list paragraphs.
    ids = {c.id for c in clauses}
    clauses = [c for c in clauses if not any(other.startswith(c.id + ".") for other in ids)]
    lines = [f"{dept.name}（{dept.full_name}）是以下{len(clauses)}项措施的责任单位："]
    for i, c in enumerate(clauses, 1):
        lines.append(f"{i}. {c.location}「{c.title}」：“{c.text}”")
    reply = Reply("\n".join(lines))
    reply.add_citations(clauses).add_units([dept])
    return reply


def verdict_reply(verdict, clause) -> Reply:
    kb = get_kb()
    if verdict.verdict == "need_info":
        fact = verdict.missing[0]
        q = verdict.questions.get(fact) if verdict.questions else None
        ask = q.text if q else f"请提供：{fact}"
        lead = f"要判断您是否符合「{clause.title}」（{clause.location}），还需要了解一项情况：{ask}"
        known = "\n".join(f"✓ {m}" for m in verdict.met)
        reply = Reply(join(lead, ("已了解：\n" + known) if known else "", quote(clause)))
        if q:
            reply.buttons = fact_buttons(fact, q)
    elif verdict.verdict == "eligible":
        lead = f"根据您提供的情况，您属于「{clause.title}」（{clause.location}）支持的范围。"
        met = "\n".join(f"✓ {m}" for m in verdict.met)
        caveat = _verdict_caveat(verdict)
        reply = Reply(join(lead, met, quote(clause), units_line(clause), caveat))
    else:
        lead = f"根据您提供的情况，您不在「{clause.title}」（{clause.location}）的支持范围内。"
        unmet = "\n".join(f"✗ {u}" for u in verdict.unmet)
        met = "\n".join(f"✓ {m}" for m in verdict.met)
        reply = Reply(join(lead, unmet, met, quote(clause), units_line(clause)))
    reply.add_citations([clause])
    reply.payload["eligibility"] = verdict.to_payload()
    units = kb.units_of(clause.id)
    if units and verdict.verdict != "need_info":
        reply.add_units(units)
    return reply


def _verdict_caveat(verdict) -> str:
    hedges = list(getattr(verdict, "hedges", []) or [])
    decided = getattr(verdict, "decided_by", None)
    parts = []
    if hedges:
        parts.append("；".join(hedges))
    if decided:
        parts.append(f"具体以{decided}的认定和当地实施办法为准")
    else:
        parts.append("具体以当地人力社保部门的认定和实施办法为准")
    return "【请注意】" + "；".join(parts) + "。"


def fact_buttons(fact: str, question) -> List[Dict[str, str]]:
    """Quick replies that answer a question about one fact; the payload sets that fact only."""
    return [
        {"title": b.title, "payload": "/inform" + json.dumps({fact: b.payload_value}, ensure_ascii=False)}
        for b in question.buttons
    ]


def out_of_scope_reply(hint: bool = False) -> Reply:
    text = messages.OUT_OF_SCOPE + ("\n" + messages.OUT_OF_SCOPE_HINT if hint else "")
    return Reply(text, {"out_of_scope": True})


def outside_reply(match) -> Reply:
    """A question about a place outside Zhejiang: this document does not speak of it."""
    where = match.name
    text = (f"浙人社发〔2021〕22号只适用于浙江省的山区26县，不涉及{where}的政策。"
            f"{where}的相关政策请咨询当地人力资源和社会保障部门，或拨打当地12333热线。")
    return Reply(text, {"out_of_scope": True, "county": match.to_payload()})


def choices_reply(clauses: Sequence[Any], lead: str) -> Reply:
    reply = Reply(lead)
    reply.buttons = [
        {"title": f"{c.location}「{c.title}」", "payload": f'/ask_clause{{"measure":"{c.id}"}}'}
        for c in clauses
    ]
    return reply
