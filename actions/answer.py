"""action_answer: the one action that answers every turn.

The path of a question: the NLU gives an intent and entities (the knowledge-base matcher
normalises names to the knowledge base's ids); `Understanding` gathers them with the
conversation's context; a handler per kind of question asks policy_kb and builds a `Reply`.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_kb import PLAUSIBLE, get_kb

from actions import messages, places, render
from actions.config import OOS_TRUST_CONFIDENCE
from actions.document import OVERVIEW, aspect_of, document_reply
from actions.understanding import Understanding

logger = logging.getLogger(__name__)



class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        u = Understanding.from_tracker(tracker)
        try:
            replies, slots = Answerer(u).answer()
        except Exception:  # never leave a person without a reply
            logger.exception("answering failed")
            dispatcher.utter_message(text=messages.SERVICE_UNAVAILABLE)
            return []
        for r in replies:
            kwargs: Dict[str, Any] = {"text": r.text}
            if r.payload:
                kwargs["json_message"] = r.payload
            if r.buttons:
                kwargs["buttons"] = r.buttons
            dispatcher.utter_message(**kwargs)
        offered = [b["payload"] for r in replies for b in r.buttons]
        slots = {**slots, "offered_payloads": offered or None}
        # Only what changes: an unchanged slot would add an event to validate, store and replay.
        return [SlotSet(k, v) for k, v in slots.items() if tracker.get_slot(k) != v]


class Answerer:
    """Chooses what kind of answer a turn needs and builds it; returns replies and slot updates."""

    def __init__(self, u: Understanding) -> None:
        self.u = u
        self.kb = get_kb()
        self.slots: Dict[str, Any] = {}

    # -- dispatch ---------------------------------------------------------------------------
    def answer(self):
        kind = self.u.kind()
        handler: Callable[[], List[Any]] = getattr(self, f"on_{kind}")
        replies = handler()
        return replies, self.slots

    def remember(self, kind: str, clause=None, place: Optional[str] = None, **extra) -> None:
        self.slots["last_kind"] = kind
        if clause is not None:
            self.slots["last_clause"] = clause.id
        if place:
            self.slots["last_place"] = place
        self.slots.update(extra)

    def clear_pending(self) -> None:
        self.slots.update(pending_clause=None, pending_fact=None)

    # -- small talk and limits ----------------------------------------------------------------
    def on_affirm(self):
        return [render.Reply(messages.AFFIRM)]

    def on_drop(self):
        if self.u.pending_clause:
            self.clear_pending()
            self.slots["facts"] = None
            return [render.Reply(messages.DROP_QUESTION)]
        return [render.Reply(messages.DENY)]

    def on_out_of_scope(self):
        self.clear_pending()
        self.remember("out_of_scope")
        return [render.out_of_scope_reply(hint=self.u.intent == "nlu_fallback")]

    def on_empty(self):
        return [render.Reply(messages.EMPTY)]

    # -- what a measure says --------------------------------------------------------------------
    def on_clause(self):
        ranked = self.u.clause_candidates()
        if not ranked and aspect_of(self.u.text) != "overview":
            return self.on_document()  # "文件里有多少条具体措施"
        if not ranked:
            return self._unclear()
        if self.u.only_outside_zhejiang():
            return [render.outside_reply(self.u.place_matches()[0])]  # "福建的山区县有什么扶持政策"
        if self.u.is_ambiguous(ranked):
            clauses = [c for c, _ in ranked[:3]]
            return [render.choices_reply(clauses, "您的问题可能涉及以下几项措施，请选择您想了解的：")]
        clause, _ = ranked[0]
        if self.u.describes_a_case(clause):
            return self.on_eligibility()  # "出站博士后到民企工作有补助吗": a case to judge
        facts = self.u.merged_facts()
        if facts:
            self.slots["facts"] = facts
        sentence = self.kb.best_sentence(clause.id, self.u.text)
        lead = f"关于「{clause.title}」，文件规定：“{sentence}”" if sentence else f"「{clause.title}」的内容如下。"
        if self.u.from_search:
            lead = f"（根据关键词检索，您问的可能是「{clause.title}」，匹配程度{self.u.search_confidence}。）\n" + lead
        self.clear_pending()
        self.remember("clause", clause)
        return [render.clause_reply(clause, lead)]

    def _unclear(self):
        self.remember("unclear")
        return [render.out_of_scope_reply(hint=True)] if self.u.looks_off_topic() else [render.Reply(messages.REPHRASE)]

    # -- who is responsible -----------------------------------------------------------------------
    def on_units(self):
        ranked = self.u.clause_candidates(use_context=True)
        if not ranked:
            dept = self.u.department()
            if dept:
                return self.on_department()
            return [render.Reply(messages.ASK_WHICH_UNITS)]
        clause, _ = ranked[0]
        detail = self.kb.best_sentence(clause.id, self.u.text) if self.u.asks_detail() else None
        self.remember("units", clause)
        return [render.units_reply(clause, detail)]

    def on_department(self):
        dept = self.u.department()
        if not dept:
            if self.u.clause_candidates(use_context=True):
                return self.on_units()
            return [render.Reply(messages.ASK_WHICH_DEPARTMENT)]
        self.remember("department")
        return [render.department_reply(dept)]

    # -- eligibility -------------------------------------------------------------------------------
    def on_eligibility(self):
        facts = self.u.merged_facts()
        clause = self.u.eligibility_clause(facts)
        if clause is None and self.u.clause_candidates():
            return self.on_clause()
        if clause is None:
            options = [self.kb.clause(cid) for cid in self.kb.rule_clauses()]
            self.slots["facts"] = facts or None
            return [render.choices_reply(options, "请问您想判断是否符合哪一项措施？")]
        verdict = self.kb.evaluate(clause.id, facts)
        self.slots["facts"] = facts
        if verdict.verdict == "need_info":
            self.remember("eligibility", clause, pending_clause=clause.id, pending_fact=verdict.missing[0])
        else:
            self.clear_pending()
            self.remember("eligibility", clause)
        return [render.verdict_reply(verdict, clause)]

    def on_applicable(self):
        facts = self.u.merged_facts()
        self.slots["facts"] = facts or None
        verdicts = self.kb.applicable(facts) if facts else []
        # What the person asks about, found by topic or search, comes first even where the
        # clause judges no one ("县里想办一所技工院校" → 第五条).
        topical = [c for c, score in self.u.clause_candidates()[:2] if score >= PLAUSIBLE or score == float("inf")]
        topical_ids = {c.id for c in topical}
        # A measure that only the place fits (nothing about the person) is noise, not a match.
        verdicts = [v for v in verdicts
                    if v.clause_id in topical_ids or v.verdict == "eligible" or len(v.met) >= 2]
        extra = [c for c in topical if all(v.clause_id != c.id for v in verdicts)]
        if not verdicts and not extra:
            if self.u.clause_candidates():
                return self.on_clause()
            return [render.Reply(messages.ASK_ABOUT_YOU)]
        reply = places.applicable_reply(verdicts, extra)
        first = extra[0] if extra else self.kb.clause(verdicts[0].clause_id)
        asking = next((v for v in verdicts if v.verdict == "need_info"), None)
        if asking and not extra and all(v.verdict != "eligible" for v in verdicts):
            self.remember("applicable", first, pending_clause="*", pending_fact=asking.missing[0])
        else:
            self.clear_pending()
            self.remember("applicable", first)
        return [reply]

    def on_inform(self):
        """A fact given on its own: continue what is pending, or what was just discussed."""
        u = self.u
        if u.pending_clause == "*" or (u.last_kind == "applicable" and u.new_facts()):
            return self.on_applicable()
        if u.pending_clause or (u.last_kind == "eligibility" and u.new_facts()):
            return self.on_eligibility()
        if u.last_kind == "clause" and u.last_clause and u.describes_a_case(self.kb.clause(u.last_clause)):
            return self.on_eligibility()  # "我在天台县的乡镇卫生院" after the clause on that exam
        if u.place_matches():
            return self.on_county()
        if u.new_facts():
            return self.on_applicable()
        if u.clause_candidates():
            return self.on_clause()
        return [render.Reply(messages.REPHRASE)]

    # -- places ------------------------------------------------------------------------------------
    def on_county(self):
        matches = self.u.place_matches(use_context=True)
        reply, place = places.county_reply(matches, self.u.text)
        self.clear_pending()
        self.remember("county", self.kb.clause("scope"), place=place)
        return [reply]

    # -- the document itself -----------------------------------------------------------------------
    def on_document(self):
        if aspect_of(self.u.text) == "overview" and not OVERVIEW.search(self.u.text):
            if self.u.glossary_entry() is not None:
                return self.on_term()  # "文件里的山区县是怎么界定的"
            hits = self.kb.search(self.u.text, k=1)
            if hits and hits[0].score >= PLAUSIBLE:
                return self.on_clause()  # "意见是按照省委哪次全会的部署提出的": a clause's content
        reply, clause = document_reply(self.u.text)
        self.remember("document", clause)
        return [reply]

    # -- terms -------------------------------------------------------------------------------------
    def on_term(self):
        entry = self.u.glossary_entry()
        if entry is None:
            return self.on_clause()
        related = [self.kb.clause(cid) for cid in entry.related]
        lead = f"【名词解释，非文件原文】{entry.term}：{entry.explanation}"
        if related:
            reply = render.clause_reply(related[0], lead + "\n文件中的相关规定如下：")
            reply.add_citations(related[1:])
            self.remember("term", related[0])
        else:
            reply = render.Reply(lead)
            self.remember("term")
        return [reply]


def describe_payload(payload: Dict[str, Any]) -> str:
    """A compact form of a payload, for logs."""
    return json.dumps(payload, ensure_ascii=False)[:300]
