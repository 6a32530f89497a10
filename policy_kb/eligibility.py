"""Three-valued evaluation of the eligibility rules in eligibility.yml.

A rule is a list of conditions over named facts.  Each condition comes out
``met``, ``unmet``, ``unknown`` (its fact is missing) or ``skipped`` (its guard
does not apply).  The verdict is:

* ``not_eligible`` if any condition is unmet: a stated fact rules it out, and
  ``unmet`` / ``unmet_facts`` say which;
* ``need_info`` if none is unmet but some are unknown: ``missing`` lists the
  facts in the rule's ``ask_order`` and ``questions`` holds what to ask;
* ``eligible`` otherwise.

Every verdict carries the clause's hedges and who decides, so that an
``eligible`` answer never promises more than the text.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from .errors import KBError
from .models import (
    Button,
    City,
    Clause,
    Condition,
    FactDef,
    OutsidePlace,
    Place,
    Question,
    Rule,
    Verdict,
)
from .places import PlaceIndex
from .facts import DENIED, denied
from .text import cn_number, normalise

MET, UNMET, UNKNOWN, SKIPPED = "met", "unmet", "unknown", "skipped"
CN_MEASURE = "一二三四五六七八九"

# Facts that decide whether a rule is about the person at all (used by applicable()).
GATING_FACTS = ("role", "activity")
MAX_BUTTONS = 6


def clause_label(clause: Clause) -> str:
    if clause.measure is None:
        return clause.title
    label = f"第{CN_MEASURE[clause.measure - 1]}条"
    if clause.paragraph:
        label += f"第{CN_MEASURE[clause.paragraph - 1]}段"
    return label


class EligibilityEngine:
    def __init__(
        self,
        facts: Dict[str, FactDef],
        rules: Dict[str, Rule],
        clauses: Dict[str, Clause],
        places: PlaceIndex,
    ) -> None:
        self.facts = facts
        self.rules = rules
        self.clauses = clauses
        self.places = places
        self._enum_lookup: Dict[str, Dict[str, str]] = {}
        for key, fdef in facts.items():
            if fdef.type == "enum":
                table: Dict[str, str] = {}
                for value, ev in fdef.values.items():
                    table[value] = value
                    table[normalise(ev.label)] = value
                    for syn in ev.synonyms:
                        table.setdefault(normalise(syn), value)
                self._enum_lookup[key] = table
        # (what each measure is for: the activities its rule lists, then those a condition accepts)
        self._undertakings: Dict[str, List[str]] = {
            cid: list(dict.fromkeys([*rule.activities, *(
                v for c in rule.conditions if c.fact == "activity" and c.in_ for v in c.in_)]))
            for cid, rule in rules.items()}
        self._testing: Dict[str, List[str]] = {}
        for cid, rule in rules.items():
            for cond in rule.conditions:
                if cid not in self._testing.setdefault(cond.fact, []):
                    self._testing[cond.fact].append(cid)

    # ------------------------------------------------------------------ public

    def undertakings(self, clause_id: str) -> List[str]:
        """What a measure is for, as activities: those its rule lists, and those a condition accepts
        (第四条第二段: 挂职; 第七条: 创业); none for a measure of no one undertaking."""
        return list(self._undertakings.get(clause_id, ()))

    def clauses_testing(self, fact: str) -> List[str]:
        """The measures whose rules test a fact ("postdoc_status": 第一条's alone)."""
        return list(self._testing.get(fact, ()))

    def rule_clauses(self) -> List[str]:
        return [cid for cid in self.clauses if cid in self.rules]

    def normalise_facts(self, facts: Dict[str, Any]) -> Dict[str, Any]:
        """Map Chinese synonyms and numerals in a facts dict to the canonical values.

        Unknown keys are ignored; empty values count as missing.  A value that
        cannot be understood is kept as given (it will read as unmet / unknown).
        """
        out: Dict[str, Any] = {}
        for key, value in (facts or {}).items():
            if key not in self.facts or value is None or value == "":
                continue
            fdef = self.facts[key]
            if fdef.type == "enum":
                negative = denied(value)
                text = normalise(str(negative if negative is not None else value))
                canonical = self._enum_lookup[key].get(text, self._enum_lookup[key].get(text.lower(), text))
                out[key] = DENIED + canonical if negative is not None else canonical
            elif fdef.type == "int":
                if isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    if value == value and abs(value) != float("inf"):  # NaN and ±inf say nothing
                        out[key] = int(value)
                else:
                    number = cn_number(normalise(str(value)).rstrip("年了"))
                    if number is not None:
                        out[key] = number
            else:
                out[key] = normalise(str(value))
        # A number of years since graduation speaks of a graduate, unless the person said otherwise.
        if "years_since_graduation" in out and "role" in self.facts and "graduate" in self.facts["role"].values:
            out.setdefault("role", "graduate")
        # What a stated value implies, where the implied fact was not stated itself.
        for key, value in list(out.items()):
            fdef = self.facts[key]
            if fdef.type == "enum" and value in fdef.values:
                for fact, implied in fdef.values[value].implies.items():
                    out.setdefault(fact, implied)
        return out

    def concerns(self, clause_id: str, facts: Dict[str, Any]) -> bool:
        """Whether the measure judges someone of the stated role (unknown role: it may)."""
        rule = self.rules.get(clause_id)
        role = self.normalise_facts(facts).get("role")
        if rule is None or role is None or denied(role) is not None:
            return True
        if rule.concerns and role not in rule.concerns:
            return False
        return role not in rule.not_for

    def merge(self, known: Dict[str, Any], new: Dict[str, Any]) -> Dict[str, Any]:
        """What was said before, updated by what is said now; a broader value said later
        ("景宁的企业") does not replace a narrower one said before ("民营企业")."""
        out = dict(known)
        for key, value in new.items():
            old = out.get(key)
            fdef = self.facts.get(key)
            if old is not None and fdef is not None and fdef.type == "enum" and value in fdef.values \
                    and old in fdef.values[value].narrower:
                continue
            no = denied(value)
            if no is not None and old is not None and denied(old) is None and old != no and not (
                    fdef is not None and old in fdef.values and no in fdef.values[old].narrower):
                continue  # "民营的机械厂" then "不是事业单位哦": the denial agrees with what was said
            out[key] = value
        return out

    def evaluate(self, clause_id: str, facts: Dict[str, Any]) -> Verdict:
        if clause_id not in self.clauses:
            raise KBError(f"unknown clause '{clause_id}'")
        rule = self.rules.get(clause_id)
        if rule is None:
            raise KBError(f"clause '{clause_id}' has no eligibility rule (it grants nothing to individuals)")
        facts = self.normalise_facts(facts)
        met: List[str] = []
        unmet: List[str] = []
        unmet_facts: List[str] = []
        missing: set = set()
        question_override: Dict[str, Question] = {}
        for cond in rule.conditions:
            outcome, message, extra = self._check(cond, facts, rule)
            if outcome == MET:
                met.append(message)
            elif outcome == UNMET:
                unmet.append(message)
                unmet_facts.append(cond.fact)
            elif outcome == SKIPPED:
                if message:
                    met.append(message)
            else:
                missing.update(extra or [cond.fact])
                if isinstance(message, Question):
                    question_override[cond.fact] = message
        clause = self.clauses[clause_id]
        hedges = [h.describe() for h in clause.hedges]
        if unmet:
            verdict, missing_list = "not_eligible", []
        elif missing:
            verdict = "need_info"
            missing_list = [f for f in rule.ask_order if f in missing]
        else:
            verdict, missing_list = "eligible", []
        questions = {f: question_override.get(f) or self.question(f, rule) for f in missing_list}
        return Verdict(
            clause_id=clause_id,
            verdict=verdict,
            met=met,
            unmet=unmet,
            missing=missing_list,
            unmet_facts=unmet_facts,
            questions=questions,
            hedges=hedges,
            decided_by=rule.decided_by,
            discretionary=rule.discretionary,
        )

    def applicable(self, facts: Dict[str, Any]) -> List[Verdict]:
        """Rules not ruled out by the person's role or activity, best first."""
        facts = self.normalise_facts(facts)
        ranked: List[Tuple[Tuple[int, int, int, int, int], Verdict]] = []
        for index, cid in enumerate(self.rule_clauses()):
            verdict = self.evaluate(cid, facts)
            if any(f in GATING_FACTS for f in verdict.unmet_facts):
                continue
            rule = self.rules[cid]
            if not self.concerns(cid, facts):
                continue
            gate_hits = sum(
                1 for c in rule.conditions if c.fact in GATING_FACTS and c.when is None and c.fact in facts
            )
            rank = {"eligible": 0, "need_info": 1, "not_eligible": 2}[verdict.verdict]
            # More conditions met means a more specific match.
            ranked.append(((rank, -gate_hits, -len(verdict.met), len(verdict.missing), index), verdict))
        ranked.sort(key=lambda item: item[0])
        return [v for _, v in ranked]

    def ruled_out_by_role(self, facts: Dict[str, Any], clause_ids: Optional[Iterable[str]] = None,
                          activity: Optional[str] = None) -> List[Verdict]:
        """The verdicts, of ``clause_ids`` (every clause with rules by default), that who the
        person is rules out ("我大三，还没毕业" for the start-up measure); with ``activity``, only
        those of the measures for that undertaking."""
        out = []
        for cid in self.rule_clauses() if clause_ids is None else clause_ids:
            if activity is not None and not any(
                    c.fact == "activity" and c.in_ and activity in c.in_ for c in self.rules[cid].conditions):
                continue
            verdict = self.evaluate(cid, facts)
            if "role" in verdict.unmet_facts:
                out.append(verdict)
        return out

    def question(self, fact: str, rule: Optional[Rule] = None) -> Question:
        fdef = self.facts[fact]
        text = (rule.questions.get(fact) if rule else None) or fdef.question
        buttons: List[Button] = []
        if fdef.type == "enum":
            allowed: List[str] = []
            if rule is not None:
                for cond in rule.conditions:
                    if cond.fact == fact and cond.in_:
                        allowed.extend(cond.in_)
                    if cond.when is not None and cond.when.fact == fact:
                        allowed.extend(cond.when.in_)
            values = list(fdef.values.items())
            if allowed and len(values) > MAX_BUTTONS:
                # A long list: offer what qualifies plus a way out.
                values = [kv for kv in values if kv[0] in allowed or kv[0] == "other"]
            elif allowed:
                values.sort(key=lambda kv: kv[0] not in allowed)
            buttons = [Button(title=ev.label, payload_value=value) for value, ev in values]
        elif fdef.type == "int":
            buttons = [Button(title=b.title, payload_value=str(b.value)) for b in fdef.buttons]
        return Question(text=text, buttons=buttons)

    # ------------------------------------------------------------------ conditions

    def _label(self, fact: str, value: Any) -> str:
        fdef = self.facts[fact]
        if fdef.type == "enum" and value in fdef.values:
            return fdef.values[value].label
        return str(value)

    def _check(self, cond: Condition, facts: Dict[str, Any], rule: Rule) -> Tuple[str, Any, Optional[List[str]]]:
        if cond.when is not None:
            guard = facts.get(cond.when.fact)
            if guard is not None and guard not in cond.when.in_:
                text = cond.skipped.format(value=self._label(cond.when.fact, guard)) if cond.skipped else ""
                return SKIPPED, text, None
            if guard is None and cond.fact not in facts:
                return UNKNOWN, None, [cond.when.fact, cond.fact]
        if cond.apart_from is not None and facts.get(cond.fact) in (None, facts.get(cond.apart_from)):
            return SKIPPED, "", None  # (挂职: where one is sent is tested when it is named)
        if cond.fact not in facts:
            return (SKIPPED, "", None) if cond.if_said else (UNKNOWN, None, None)
        value = facts[cond.fact]
        fdef = self.facts[cond.fact]
        if fdef.type == "place":
            return self._check_place(cond, value, rule)
        negative = denied(value)
        if negative is not None:
            return self._check_denied(cond, negative)
        if cond.in_ is not None:
            broad = fdef.values.get(value) if fdef.type == "enum" else None
            if broad is not None and value not in cond.in_ and set(broad.narrower) & set(cond.in_):
                # "企业" where the clause asks for "民营企业": ask which kind.
                return UNKNOWN, None, None
            ok = value in cond.in_
            template = cond.met if ok else cond.unmet
            return (MET if ok else UNMET), template.format(value=self._label(cond.fact, value)), None
        ok = (cond.max is None or value <= cond.max) and (cond.min is None or value >= cond.min)
        limit = cond.max if cond.max is not None else cond.min
        template = cond.met if ok else cond.unmet
        return (MET if ok else UNMET), template.format(value=value, limit=limit), None

    def _check_denied(self, cond: Condition, negative: str) -> Tuple[str, Any, Optional[List[str]]]:
        """A denied value ("不是民营企业") rules a condition out only when it was the one value
        the condition accepts (or every narrower form of it); otherwise it is still unknown."""
        if cond.in_ is None:
            return UNKNOWN, None, None
        fdef = self.facts[cond.fact]
        accepted = set(cond.in_)
        ev = fdef.values.get(negative)
        covered = {negative} | set(ev.narrower if ev else [])
        if accepted <= covered:
            label = "非" + self._label(cond.fact, negative)
            return UNMET, cond.unmet.format(value=label), None
        return UNKNOWN, None, None

    def _place_ok(self, cond: Condition, place: Place) -> bool:
        if cond.mountain is not None and place.is_mountain_county != cond.mountain:
            return False
        return not cond.cities or place.city in cond.cities

    def _check_place(self, cond: Condition, value: str, rule: Rule) -> Tuple[str, Any, Optional[List[str]]]:
        target = self.places.by_name(value)
        if target is None:
            match = self.places.find_place(value)
            target = match.target if match else None
        if target is None:
            return UNKNOWN, None, None
        if isinstance(target, OutsidePlace):
            where = target.name if target.name == target.province else f"{target.name}（{target.province}）"
            text = cond.unmet.format(place=where, city=target.province)
            return UNMET, f"{text}（{where}不在浙江省）", None
        if isinstance(target, Place):
            ok = self._place_ok(cond, target)
            template = cond.met if ok else cond.unmet
            text = template.format(place=target.name, city=target.city)
            if not ok and not target.is_mountain_county:
                text += f"（{target.name}属于{target.city}，不是山区26县之一）"
            elif not ok and cond.mountain and cond.cities:
                # "武义也是山区26县里的吧": it is, but not of the cities the measure names
                text += f"（{target.name}属于{target.city}，是山区26县之一，但不属于本条所列的市）"
            elif not ok:
                text += f"（{target.name}属于{target.city}）"
            return (MET if ok else UNMET), text, None
        # A city or an urban area: decided only if all or none of its counties qualify.
        counties = target.counties if isinstance(target, City) else target.places
        city_name = target.name if isinstance(target, City) else target.city
        passing = [p for p in counties if self._place_ok(cond, p)]
        if cond.mountain is False and passing and len(passing) < len(counties):
            # "温州的医院": a city named for where someone works outside the 26 means its
            # developed part; a county of the 26 would be named as such ("文成").
            text = cond.met.format(place=target.name, city=city_name).replace(
                f"{target.name}属于{city_name}", f"{target.name}（按其山区县以外的县（市、区）算）")
            return MET, text, None
        if len(passing) == len(counties):
            # "丽水市属于丽水市" says nothing: a whole city is named as such (for where people are
            # sent from, a city none of whose counties is of the 26: "宁波市").
            whole = "所辖县（市、区）都不在山区26县" if cond.mountain is False else "所辖县（市、区）全部符合"
            text = cond.met.format(place=target.name, city=city_name).replace(
                f"{target.name}属于{city_name}", f"{target.name}（{whole}）")
            return MET, text, None
        if not passing:
            text = cond.unmet.format(place=target.name, city=city_name)
            return UNMET, f"{text}（{target.name}没有符合条件的县（市、区））", None
        names = "、".join(p.name for p in passing)
        districts = [p for p in counties if p.kind == "district"]
        if cond.city_alone == "urban" and isinstance(target, City) and districts \
                and not any(self._place_ok(cond, p) for p in districts):
            # "公司在杭州": a city named alone is where its urban districts are, none of which
            # qualifies; a county of it that does would be named as such ("淳安", "千岛湖"). Which
            # county to say if it is one of those is said, not asked first.
            text = cond.unmet.format(place=target.name, city=city_name)
            urban = target.name.removesuffix("市") + "市区"
            return UNMET, f"{text}（按{urban}算；{target.name}只有{names}符合条件，在{names}的请告诉我）", None
        base = (rule.questions.get(cond.fact) if rule else None) or self.facts[cond.fact].question
        question = Question(
            text=f"{target.name}只有{names}符合条件。{base}",
            buttons=[Button(title=p.name, payload_value=p.name) for p in passing],
        )
        return UNKNOWN, question, None
