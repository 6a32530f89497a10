"""Turns knowledge-base objects into a reply: Chinese text for people, a payload for machines.

An answer reads well on a phone: its first line answers the question asked (can or cannot, the
amount or that none is set, who is responsible, whether a place is covered); then at most a few
short lines that support it; the clause quoted once with its place in the document; and only the
cautions that bear on the question, one plain line each. The payload (docs/answer-contract.md)
carries the same content as structure.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Dict, List, Optional, Sequence

from policy_kb import get_kb
from policy_kb.models import SPOKEN_TO

from actions import messages

# What a person sees on a verdict: the contract's three verdicts, with "eligible" split by
# whether the document itself grants it or leaves the decision to someone ("视情", "可").
LABEL_ELIGIBLE, LABEL_MAYBE, LABEL_NOT, LABEL_NEED = "符合条件", "可能适用", "不符合", "尚需信息"
# Buttons offered at once, and how many reasons a verdict lists.
MAX_BUTTONS = 4
MAX_REASONS = 4
MAX_CAUTIONS = 2


@dataclass
class Reply:
    """One bot message: its text, optional quick-reply buttons and the CONTRACT payload."""

    text: str
    payload: Dict[str, Any] = field(default_factory=dict)
    buttons: List[Dict[str, str]] = field(default_factory=list)

    def add_citations(self, clauses: Sequence[Any]) -> "Reply":
        kb = get_kb()
        cites = self.payload.setdefault("citations", [])
        seen = {(c["clause_id"], c["text"]) for c in cites}
        for clause in clauses:
            for c in kb.citations(clause.id):
                if (c["clause_id"], c["text"]) not in seen:
                    cites.append(c)
                    seen.add((c["clause_id"], c["text"]))
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


def join(*parts: Optional[str]) -> str:
    return "\n".join(p for p in parts if p)


def quote(clause, passage: Optional[str] = None) -> str:
    """The clause (or one of its sentences) verbatim, once, with where it stands in the document."""
    kb = get_kb()
    if passage is None and clause.is_parent:
        return "\n".join(quote(kb.clause(p)) for p in clause.composed_of)
    if passage is None and len(clause.passages) > 1:
        # The document's words stand in several places (the number at the top, the signatures at
        # the end): each is quoted as the passage it is.
        return "\n".join(quote(clause, p) for p in clause.passages)
    text = passage or clause.text
    return f"【原文】{clause.location}\n“{text}”"


def excerpt(clause, question: str, basis: Optional[str] = None) -> str:
    """The quotation an answer shows: the whole clause when it is short, else its sentence that
    bears on the question, or when the question points at none, on `basis` (the whole clause
    stays in the payload's citation)."""
    if clause.is_parent or len(clause.text) <= 90:
        return quote(clause)
    kb = get_kb()
    sentence = kb.best_sentence(clause.id, question) if basis is None else kb.sentence_asked(clause.id, question, basis)
    return quote(clause, sentence if sentence and sentence in clause.text else None)


def unit_names(clause) -> str:
    names = [d.name for d in get_kb().units_of(clause.id)]
    local = f"，{clause.local_units}" if getattr(clause, "local_units", None) else ""
    return "、".join(names) + local


def units_line(clause) -> str:
    names = unit_names(clause)
    return f"责任单位：{names}。" if names else ""


def cautions(clause, text: str = "", only_deciders: bool = False, at_most: int = MAX_CAUTIONS) -> List[str]:
    """The document's own qualifiers that bear on what is quoted, one plain line each."""
    hedges = list(getattr(clause, "hedges", []) or [])
    if only_deciders:
        hedges = [h for h in hedges if h.decided_by]
    elif text:
        hedges = [h for h in hedges if h.phrase in text] or [h for h in hedges if h.decided_by]
    lines = []
    for h in hedges[:at_most]:
        explanation = h.explanation.rstrip("。；;")
        lines.append(f"提示：{explanation}。")
    return lines


def quote_once(lead: str, shown: str, clause):
    """The lead and the 【原文】 block, with the document's words quoted once: where the lead
    already quotes the passage the block would show, the lead's quotation gets its place in the
    document and the block is left out (the whole clause stays in the payload's citation)."""
    passage = shown.split("“", 1)[-1].rsplit("”", 1)[0]
    for quoted in re.findall(r"“([^”]{6,})”", lead or ""):
        # The same passage twice; a few words of it in the first line ("文件只写了“适当提高…额度”")
        # are the answer, and the block below is the evidence.
        if quoted == passage:
            return lead.replace(f"“{quoted}”", f"“{quoted}”（{clause.location}）", 1), ""
    return lead, shown


def clause_reply(clause, lead: str, question: str = "", whole: bool = False, on_a_point: bool = False) -> Reply:
    """What a measure says: the answer, the quotation (`whole`: all of the clause), who is
    responsible, what it leaves open (`on_a_point`: a point was asked, which the lead answers;
    only who decides is added, once)."""
    kb = get_kb()
    shown = quote(clause) if whole else excerpt(clause, question)
    hedged = cautions(clause, shown, only_deciders=True, at_most=1) if on_a_point else cautions(clause, shown)
    lead, shown = quote_once(lead, shown, clause)
    reply = Reply(join(lead, shown, units_line(clause), *hedged))
    reply.add_citations([clause])
    units = kb.units_of(clause.id)
    if units:
        reply.add_units(units)
    return reply


def aspect_sentence(answer, where: bool = True) -> str:
    """One line on one point of a measure: what the document states, or that it states nothing,
    and who decides or (`where`) where to ask."""
    if answer.states and not answer.missing:
        return f"文件写明：“{answer.states}”。"
    decided = f"由{answer.decided_by}确定" if answer.decided_by else ""
    if answer.states:
        return f"文件只写了“{answer.states}”，{answer.missing}" + (f"，{decided}" if decided else "") + "。"
    return f"{answer.missing}" + (f"，{decided}" if decided else "") + "。" + (messages.WHERE_TO_ASK if where else "")


def aspect_reply(clause, answers, question: str = "") -> Reply:
    """What the document says on each point asked of a measure, one line each when several."""
    if len(answers) == 1:
        lead = f"关于「{clause.label}」的{answers[0].label}：{aspect_sentence(answers[0])}"
    else:  # (where to ask said once, after the points)
        open_points = any(not a.states for a in answers)
        lead = "\n".join([f"关于「{clause.label}」："] +
                         [f"（{i}）{a.label}：{aspect_sentence(a, where=False)}" for i, a in enumerate(answers, 1)] +
                         ([messages.WHERE_TO_ASK] if open_points else []))
    return clause_reply(clause, lead, question, on_a_point=True)


def units_reply(clause, detail: Optional[str] = None, question: str = "") -> Reply:
    kb = get_kb()
    depts = kb.units_of(clause.id)
    names = "、".join(d.name for d in depts)
    local = f"，以及{clause.local_units}" if getattr(clause, "local_units", None) else ""
    if not depts:
        # ("目标任务的责任单位"): the document names units only under its measures
        lead = f"「{clause.label}」（{clause.location}）没有写责任单位，文件只在各项主要举措下写明责任单位。"
    elif clause.measure and not local and (others := {c.local_units for c in kb.clauses.values() if c.local_units}):
        # (the one measure whose line names no local departments, where the others do)
        lead = f"「{clause.label}」（{clause.location}）的责任单位只有{names}，没有写“{'、'.join(sorted(others))}”。"
    else:
        lead = f"「{clause.label}」（{clause.location}）的责任单位是{names}{local}。"
    # The sentence the question is about, or the clause, quoted once.
    reply = Reply(join(lead, quote(clause, detail) if detail else excerpt(clause, question)))
    reply.add_citations([clause]).add_units(depts)
    return reply


def department_reply(dept) -> Reply:
    kb = get_kb()
    clauses = kb.clauses_of(dept.id)
    # A parent measure (m3, m4) and its paragraphs would say the same twice: list paragraphs.
    ids = {c.id for c in clauses}
    clauses = [c for c in clauses if not any(other.startswith(c.id + ".") for other in ids)]
    lines = [f"{dept.name}是{len(clauses)}项措施的责任单位："]
    for i, c in enumerate(clauses, 1):
        lines.append(f"{i}. {c.location}「{c.label}」")
    lines.append("可以接着问其中任一项的具体内容。")
    reply = Reply("\n".join(lines))
    reply.add_citations(clauses).add_units([dept])
    return reply


def verdict_label(verdict) -> str:
    if verdict.verdict == "need_info":
        return LABEL_NEED
    if verdict.verdict == "not_eligible":
        return LABEL_NOT
    return LABEL_MAYBE if verdict.discretionary else LABEL_ELIGIBLE


def put_to(question: str, address: str) -> str:
    """A question of the knowledge base, written to the person ("请问您毕业几年了？"), put about
    the one the case is about ("请问您儿子毕业几年了？", "请问该妻子…")."""
    return question if address in SPOKEN_TO else question.replace(SPOKEN_TO[0], address)


def top_verdict(verdicts: Sequence[Any], asked: Collection[str] = ()):
    """The verdict a list of measures that may apply leads with: the first on a measure asked
    about (the clause ids `asked`), else the first one met, else the first."""
    return next((v for v in verdicts if v.clause_id in asked), None) or next(
        (v for v in verdicts if v.verdict == "eligible"), verdicts[0] if verdicts else None)


def verdict_payload(verdict) -> Dict[str, Any]:
    payload = verdict.to_payload()
    payload["label"] = verdict_label(verdict)
    if verdict.decided_by and verdict.verdict == "eligible" and verdict.discretionary:
        payload["decided_by"] = verdict.decided_by
    return payload


def verdict_reply(verdict, clause, address: str = "您", aspect: Optional[str] = None,
                  place=None, question: str = "", whole: bool = False, aspect_first: bool = False) -> Reply:
    """A verdict on one measure, addressed to whom it concerns; `aspect` answers a point asked
    with it ("能补多少"), before the verdict when `aspect_first` (the point is what was asked, not
    whether the measure applies); `place` is the place judged (its coverage goes in the payload);
    `whole` quotes all of the measure (the message asked several points of it)."""
    kb = get_kb()
    name = f"「{clause.label}」（{clause.location}）"
    # The sentence quoted is the one the verdict turns on ("毕业10年以内"), not the clause's first.
    basis = " ".join([question, *verdict.met, *verdict.unmet])
    quoted = quote(clause) if whole else excerpt(clause, question, basis)
    if verdict.verdict == "need_info":
        fact = verdict.missing[0]
        q = verdict.questions.get(fact) if verdict.questions else None
        ask = put_to(q.text, address) if q else f"请提供：{fact}"
        lead = f"要判断{address}是否符合{name}，还需要了解：{ask}"
        known = "、".join(m.split("，")[0] for m in verdict.met[:MAX_REASONS])
        aspect, shown = quote_once(aspect, quoted, clause)
        # The point asked ("服务期多长") first: what is still needed cannot answer it.
        reply = Reply(join(aspect, lead, f"已了解：{known}。" if known else "", shown))
        if q:
            reply.buttons = fact_buttons(fact, q)
    elif verdict.verdict == "eligible":
        if verdict_label(verdict) == LABEL_MAYBE:
            decided = verdict.decided_by or "相关部门"
            lead = f"{address}符合{name}所列条件，但是否给予由{decided}决定，文件没有承诺一定给予。"
        else:
            lead = f"{address}符合{name}所列条件。"
        reasons = "\n".join(f"✓ {m}" for m in verdict.met[:MAX_REASONS])
        aspect, shown = quote_once(aspect, quoted, clause)
        reply = Reply(join(aspect, lead, reasons, shown, units_line(clause)) if aspect_first
                      else join(lead, reasons, aspect, shown, units_line(clause)))
    else:
        # "毕业年限：毕业11年，超过了…" -> the fact and why it fails, without the label.
        short = verdict.unmet[0].split("：", 1)[-1].rstrip("。")
        lead = f"{address}不符合{name}的条件：{short}。"
        rest = "\n".join(f"✗ {u}" for u in verdict.unmet[1:MAX_REASONS])
        aspect, shown = quote_once(aspect, quoted, clause)
        reply = Reply(join(aspect, lead, rest, shown) if aspect_first else join(lead, rest, aspect, shown))
    reply.add_citations([clause])
    reply.payload["eligibility"] = verdict_payload(verdict)
    if place is not None:
        reply.payload["county"] = place.to_payload()
    units = kb.units_of(clause.id)
    if units and verdict.verdict != "need_info":
        reply.add_units(units)
    return reply


def fact_buttons(fact: str, question) -> List[Dict[str, str]]:
    """Quick replies that answer a question about one fact; the payload sets that fact only."""
    return [
        {"title": b.title, "payload": "/inform" + json.dumps({fact: b.payload_value}, ensure_ascii=False)}
        for b in question.buttons[:MAX_BUTTONS + 1]
    ]


def out_of_scope_reply(hint: bool = False, lead: Optional[str] = None) -> Reply:
    text = join(lead, messages.OUT_OF_SCOPE, messages.OUT_OF_SCOPE_HINT if hint else "")
    return Reply(text, {"out_of_scope": True})


def outside_reply(match) -> Reply:
    """A question about a place outside Zhejiang: this document does not speak of it."""
    where = match.name
    text = messages.OUTSIDE_ZHEJIANG.format(place=where)
    return Reply(text, {"out_of_scope": True, "county": match.to_payload()})


def choices_reply(clauses: Sequence[Any], lead: str, none_of_these: bool = True) -> Reply:
    """A choice between measures: at most four short buttons, and a way out."""
    reply = Reply(lead)
    reply.buttons = [
        {"title": c.label, "payload": f'/ask_clause{{"measure":"{c.id}"}}'}
        for c in clauses[:MAX_BUTTONS]
    ]
    if none_of_these:
        reply.buttons.append({"title": "都不是", "payload": "/deny"})
    return reply
