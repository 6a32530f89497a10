"""The knowledge base facade: one object answering every question about the document."""
from __future__ import annotations

import os
import re
import threading
from datetime import date
from functools import cached_property
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .aspects import AspectAnswer, load_aspects
from .eligibility import EligibilityEngine
from .errors import KBError
from .facts import FactExtractor, FactReading
from .lexicon import LongestMatch
from .models import (
    City,
    Clause,
    Department,
    DocumentFacts,
    GlossaryEntry,
    Place,
    PlaceMatch,
    SearchHit,
    Verdict,
)
from .places import PlaceIndex
from .repository import KBData, load_data
from .search import SearchIndex
from .text import CLAUSE_MARKS, cn_number, last_clause, normalise, squash, without_asides

TODAY_ENV = "POLICY_TODAY"

# Phrases that contain a place name but name an organisation or a website.
# Words that contain or overlap a place name without naming a place ("就业补助资金山区县" is not
# 金山区; "浙江人才网" is not a place).
_NON_PLACE_PHRASES = ("浙江人才网", "浙江省", "浙江", "山区县", "山区26县", "山区二十六县", "山区")

_CN_NUM = r"[一二三四五六七八九十\d]{1,3}"
_CLAUSE_REF = re.compile(
    r"第\s*(?P<n>" + _CN_NUM + r")\s*[条项点]"
    r"(?:\s*(?:的)?第\s*(?P<p>[一二12])\s*[段款])?"
)
_PAREN_REF = re.compile(r"[（(]\s*(?P<n>" + _CN_NUM + r")\s*[）)]")
# "最后一条举措讲啥": the last of the measures.
_LAST_REF = re.compile(r"最(后|末|后面)的?一?[条项]")
_BARE_REF = re.compile(r"^\s*(?P<n>" + _CN_NUM + r")\s*$")


# A document's number, however typed: "浙人社发〔2022〕5号", "浙人社发[2022]5号", "浙人社发2022年…".
_DOCUMENT_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,6}发)\s*[〔\[［【(（]?\s*((?:19|20)\d{2})\s*[〕\]］】)）]?\s*年?\s*(?:第?(\d+)号)?")
# A year's policy ("2023年新出的人才政策").
_YEARS_POLICY = re.compile(r"(?<!\d)(20[0-9]{2})年[^，,。？?毕届]{0,6}(出台|出的|新出|发布|印发|新政|政策)")

# Words a message puts in quotation marks.
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’]{1,80})[”\"」』’]")


class KnowledgeBase:
    def __init__(self, data: KBData) -> None:
        self._data = data
        self.source_text: str = data.source_text
        self.document: DocumentFacts = data.document
        self.clauses: Dict[str, Clause] = data.clauses
        self.departments: Dict[str, Department] = data.departments
        self.glossary: Dict[str, GlossaryEntry] = data.glossary
        self.facts_vocabulary = data.facts
        # (the facts of what is done, not of who does it)
        self.undertaking_facts = frozenset(k for k, f in data.facts.items() if f.undertaking)
        self.rules = data.rules
        self.not_facts = [p for p in data.not_facts if isinstance(p, str)]
        dept_names = [n for d in data.departments.values() for n in d.all_names]
        self.places = PlaceIndex(
            data.cities,
            data.places,
            data.areas,
            data.outside,
            data.mountain_order,
            masked_terms=[*dept_names, *_NON_PLACE_PHRASES],
            confusable=data.confusable,
        )
        # the parts of the document's own number (issuer, year, number), read as any number is
        self._own_number = _DOCUMENT_NUMBER.search(normalise(data.document.number))
        self.eligibility = EligibilityEngine(data.facts, data.rules, data.clauses, self.places)
        self.extractor = FactExtractor(data.facts, self.places, data.not_facts, data.subjects)
        self._typos = None
        self.aspects = load_aspects(data.data_dir, data.clauses)
        self._unnamed, self._unnamed_closest = _load_unnamed(data.data_dir, self.clauses)
        self._named_cache: Dict[str, Optional[Tuple[str, Optional[str]]]] = {}
        self._document_text = normalise("".join(p for c in self.clauses.values() for p in c.passages))
        self._document_text_compact = squash(self._document_text)
        self.index = SearchIndex(data.clauses, data.glossary, self.user_words(), blocking_terms=dept_names)
        self._dept_aliases = sorted(
            ((normalise(n), d) for d in data.departments.values() for n in d.all_names),
            key=lambda item: -len(item[0]),
        )
        self._glossary_names = sorted(
            ((normalise(n), g) for g in data.glossary.values() for n in g.all_names),
            key=lambda item: -len(item[0]),
        )

    @property
    def data_dir(self):
        return self._data.data_dir

    # ------------------------------------------------------------------ clauses

    def clause(self, cid: str) -> Clause:
        try:
            return self.clauses[cid]
        except KeyError:
            raise KBError(f"unknown clause '{cid}'") from None

    def measure_reference(self, text: str) -> Optional[int]:
        """The measure number a question refers to ("第十条" -> 10), whether or not it exists."""
        norm = normalise(text)
        for pattern in (_CLAUSE_REF, _PAREN_REF):
            m = pattern.search(norm)
            if m:
                return cn_number(m.group("n"))
        if _LAST_REF.search(norm):
            return self.document.measure_count
        return None

    def unnamed_group(self, text: str) -> Optional[Tuple[str, Optional[str]]]:
        """A group of people or units the document does not name (unnamed.yml) that the text
        mentions: (the words used, how it differs from what the document names)."""
        norm = without_asides(normalise(text))  # (not "我本人是退休的，跟这个没关系")
        if norm not in self._named_cache:  # asked several times a turn (routing, the answer)
            if len(self._named_cache) > 4096:
                self._named_cache.clear()
            self._named_cache[norm] = self._find_unnamed(norm)
        return self._named_cache[norm]

    def other_department_in(self, text: str) -> Optional[str]:
        """A department the text names that the document does not (document.yml other_departments:
        "人社部", "省发改委"), as named with a 省 before it; not the 人社部 of "人社部门"."""
        norm = normalise(text)
        for name in self._other_departments_longest_first:
            at = norm.find(name)
            if at >= 0 and norm[at + len(name):at + len(name) + 1] != "门":
                return norm[at - 1:at + len(name)] if at and norm[at - 1] == "省" and name[0] != "省" else name
        return None

    @cached_property
    def _other_departments_longest_first(self) -> List[str]:
        return sorted(self.document.other_departments, key=len, reverse=True)

    def unnamed_closest(self, name: str) -> Optional[Clause]:
        """The measure unnamed.yml gives as closest to a group it lists ("大学生村官" → 第六条)."""
        cid = self._unnamed_closest.get(normalise(name))
        return self.clauses[cid] if cid else None

    def _find_unnamed(self, norm: str) -> Optional[Tuple[str, Optional[str]]]:
        for words, name, note in self._unnamed:
            if words in norm:
                return name, note
        asked = self._asked_whether_named(norm) or self._unknown_group(norm)
        return (asked, None) if asked is not None else None

    def _unknown_group(self, norm: str) -> Optional[str]:
        """A kind of people the message names by a word for people ("…网格员", "带货主播", "货车司机",
        "宝妈") that neither the document nor the knowledge base knows, in a message that asks what
        the document holds for them and names no measure ("这个文件和我们律师行业有关系吗")."""
        if not _ASKS_FOR_WHOM.search(norm):
            return None
        if not _SPECIALLY.search(norm) and any(score >= 3 for _, score in self.clauses_for_topic(norm)):
            return None  # a measure asked about for them, unless asked whether they are named apart
        people_words = self.extractor.people_words
        ends, at = set(), 0  # where words end: "那县人民|医院" is no group of "人民"
        for token in self.index.tokenizer.cut(norm, HMM=False):
            at += len(token)
            ends.add(at)
        # Each place a word for people may start (the text's start, or after "的", "对", a comma…),
        # the last first (the group asked about is most often in the question), and each word end
        # after it within a word's length where a word for people ends ("农村妇女", "民宿经营户";
        # "乡村工|匠" goes on to 匠).
        starts = [0] + [i + 1 for i, ch in enumerate(norm) if ch in _BEFORE_A_GROUP]
        for start in sorted(set(starts), reverse=True):
            for end in sorted(e for e in ends if start + 2 <= e <= start + _GROUP_LEN):
                if not _ENDS_AS_PEOPLE.search(norm, start, end) or _CLAUSE_MARK.search(norm, start, end):
                    continue  # (a group is named within one clause: not "吗,我能转到村民")
                words = _LEADING.sub("", norm[start:end])
                if (_SAYS_WHO_I_AM.search(norm, 0, start) or _SPEAKING_AS.match(norm, start)) \
                        and not _ASKS_WHAT_IS_FOR.search(norm):
                    continue  # "我是报社记者，…这份文件是哪几家单位联合印发的": who asks, not whom for
                if len(words) >= 2 and words not in people_words and not _NOT_A_GROUP.search(words) \
                        and not _NO_GROUP_WORDS.search(words) and not self._names(words):
                    return words
        return None

    def _asked_whether_named(self, norm: str) -> Optional[str]:
        """Words of a question whether the document names someone or something ("文件里有没有提到
        我们渔民", "像我们这种开民宿的…有提到吗", "对随军家属有什么照顾") that the document does not
        contain and the knowledge base does not read as a measure, a fact, a place, a department or
        a point asked about."""
        return next((x for x in (_phrase(m.group("x")) for p in _ASKS_WHETHER_NAMED for m in p.finditer(norm))
                     if x is not None and not self._names(x)), None)

    def _names(self, words: str) -> bool:
        """Whether the words are the document's own or what the knowledge base knows: most of them
        covered by its terms, or a measure named by them, a place, a department or an aspect."""
        if words in self._document_text or self.aspect_of(words) or self.department_mentions(words):
            return True
        if any(score >= 3 for _, score in self.clauses_for_topic(words)):
            return True
        covered = [False] * len(words)
        spans = [(s, e) for s, e, _, _ in self.extractor.term_spans(words)]
        spans += [m.span for m in self.places_in_text(words)]
        i = 0
        while i < len(words) - 1:  # the document's own words ("山区县的企业")
            e = i + 2
            while e <= len(words) and words[i:e] in self._document_text:
                e += 1
            if e - 1 - i >= 2:
                spans.append((i, e - 1))
                i = e - 1
            else:
                i += 1
        for s, e in spans:
            covered[s:e] = [True] * (e - s)
        return sum(covered) >= 0.6 * len(words)

    def citations(self, cid: str) -> List[Dict[str, str]]:
        """The clause as the answer contract cites it: one entry per contiguous passage of the
        document (a parent's paragraphs, the number and the signatures apart), with its place."""
        clause = self.clause(cid)
        if clause.composed_of:
            return [{**self.clause(p).to_citation(), "clause_id": clause.id} for p in clause.composed_of]
        return [{**clause.to_citation(), "text": p} for p in clause.passages]

    def clause_by_number(self, ref: Union[str, int]) -> Optional[Clause]:
        """第七条 / 第7条 / 第二项 / （七） / (7) / 七 / 7 -> m7; 第三条 -> m3; 第三条第二段 -> m3.2."""
        if isinstance(ref, bool):
            return None
        if isinstance(ref, int):
            return self._measure(ref, None)
        text = normalise(str(ref))
        for pattern in (_CLAUSE_REF, _PAREN_REF, _BARE_REF):
            m = pattern.search(text)
            if m:
                number = cn_number(m.group("n"))
                para = m.groupdict().get("p")
                return self._measure(number, cn_number(para) if para else None)
        return None

    def _measure(self, number: Optional[int], paragraph: Optional[int]) -> Optional[Clause]:
        if number is None:
            return None
        candidates = [c for c in self.clauses.values() if c.measure == number]
        if not candidates:
            return None
        if paragraph is not None:
            for c in candidates:
                if c.paragraph == paragraph:
                    return c
        for c in candidates:
            if c.paragraph is None:
                return c
        return None

    def clauses_for_topic(self, text: str) -> List[Tuple[Clause, float]]:
        return self.index.topic(text)

    def echoes(self, cid: str, text: str) -> bool:
        """The words the text names of the document are all words of clause ``cid`` (see SearchIndex.echoes)."""
        return self.index.echoes(text, self.clause(cid).text)

    def echoed_phrase(self, cid: str, text: str) -> Optional[str]:
        """The phrase of clause ``cid`` that the text's words point to (see SearchIndex.echoed_phrase)."""
        return self.index.echoed_phrase(text, self.clause(cid).text)

    def without_topics(self, text: str) -> str:
        """The normalised text with the keywords of clauses blanked out, but not where they are part
        of the words of a fact ("技校毕业的中专生算不算高校毕业生": 技校毕业 stays)."""
        norm = normalise(text)
        return self.index.without_topics(norm, keep=[span for *_, span in self.extractor.enum_mentions(norm)])

    def search(self, text: str, k: int = 3) -> List[SearchHit]:
        return self.index.search(text, k)

    def _typo_terms(self) -> List[str]:
        """Terms worth correcting towards: topics, terms and departments; fact words of four
        characters or more. Place names have their own near-miss matching and are left out:
        "义乌是" sounds like "义乌市"."""
        terms: List[str] = []
        for dept in self.departments.values():
            terms.extend(dept.all_names)
        for clause in self.clauses.values():
            terms.extend(kw.term for kw in clause.keywords)
        for entry in self.glossary.values():
            terms.extend(entry.all_names)
        for fdef in self.facts_vocabulary.values():
            for ev in fdef.values.values():
                terms.extend(s for s in ev.synonyms if len(s) >= 4)
        for d in self.aspects.defs.values():
            terms.extend(d.words)  # "利率", "优惠多少"
        places = set(self.places.surface_forms())
        return [normalise(t) for t in terms if t not in places]

    def correct_typos(self, text: str) -> str:
        """The text with homophone slips of knowledge-base terms put right (see typos.py)."""
        if self._typos is None:
            from .typos import TypoCorrector

            tokenizer = self.index.tokenizer
            self._typos = TypoCorrector(self._typo_terms(), freq=lambda w: tokenizer.FREQ.get(w, 0),
                                        cut=lambda t: tokenizer.cut(t, HMM=False))
        return self._typos.correct(text)

    def quoted_clause(self, text: str) -> Optional[Clause]:
        """The one clause the question quotes word for word, if any (see SearchIndex.quoted)."""
        return self.index.quoted(text)

    def best_sentence(self, cid: str, text: str) -> str:
        self.clause(cid)
        return self.index.best_sentence(cid, text)

    def sentences_said(self, cid: str) -> List[str]:
        """The clause's sentences as a reader counts them: after the title of a measure's first
        paragraph ("（七）加强创业扶持。"), which heads it rather than says anything."""
        clause = self.clause(cid)
        return list(clause.sentences[1:] if clause.opens_with_title else clause.sentences)

    def sentence_asked(self, cid: str, question: str, basis: str) -> str:
        """The sentence a question points at ("卫生高级自主评聘主要考核什么"), else the one `basis`
        (the question with what a verdict turned on) shares most with."""
        self.clause(cid)
        sentence, score = self.index.sentence_and_score(cid, question)
        return sentence if score > 0 else self.index.best_sentence(cid, basis)

    def warm(self) -> "KnowledgeBase":
        """Build the search index and the table of pinyin, initials and English (romanized.py)
        now instead of on the first question that needs them (about 0.5 s and 1 s)."""
        from .romanized import romanizer_for

        self.index.tokenizer
        romanizer_for(self)
        return self

    # ------------------------------------------------------------------ aspects

    def aspect_of(self, text: str) -> Optional[str]:
        """What a question asks about a measure: amount, rate, procedure, materials, deadline,
        contact, decider, duration, quota (aspects.yml); None for the measure as a whole."""
        return self.aspects.of(text)

    def aspect_wording(self, text: str) -> Optional[Tuple[str, str]]:
        """The words of a question that ask for a point of a measure, and that point."""
        return self.aspects.wording(text)

    def aspect_answer(self, cid: str, aspect: str) -> AspectAnswer:
        """What the document states on that point of the clause, or that it states nothing and
        who decides."""
        clause = self.clause(cid)
        return self.aspects.answer(clause, aspect, self.decider_of(cid))

    def decider_of(self, cid: str) -> Optional[str]:
        """Who the document leaves a clause's open points to: its rule's or hedges' decider,
        else its responsible units."""
        clause = self.clause(cid)
        ids = [cid, *clause.composed_of]
        for i in ids:
            rule = self.rules.get(i)
            if rule is not None and rule.decided_by:
                return rule.decided_by
        for i in ids:
            for h in self.clause(i).hedges:
                if h.decided_by:
                    return h.decided_by
        names = [d.name for d in self.units_of(cid)]
        return "、".join(names) or None

    # ------------------------------------------------------------------ departments

    def units_of(self, cid: str) -> List[Department]:
        return [self.departments[u] for u in self.clause(cid).units]

    def clauses_of(self, dept_id: str) -> List[Clause]:
        """Paragraph-level clauses the department is responsible for, in document order."""
        if dept_id not in self.departments:
            raise KBError(f"unknown department '{dept_id}'")
        return [c for c in self.clauses.values() if not c.is_parent and dept_id in c.units]

    def clauses_mentioning(self, words: str) -> List[Tuple[Clause, str]]:
        """The measures (paragraph by paragraph, in document order) whose words include `words`,
        each with its first sentence that does ("哪几条提到了职称")."""
        want = normalise(words)
        out = []
        for c in self.clauses.values():
            if c.is_parent or c.measure is None:
                continue
            sentence = next((s for s in c.sentences if want in normalise(s)), None)
            if sentence is not None:
                out.append((c, sentence))
        return out

    def quoted_not_in_document(self, text: str) -> List[str]:
        """What the message puts in quotation marks that is not the document's own words ("帮我在稿子
        里写上“省财政给每个山区县拨款一个亿”"): text no answer may present as the document's."""
        norm = normalise(text)
        said = (m.group(1).strip() for m in _QUOTED.finditer(norm))
        return [q for q in said if len(q) >= 4 and squash(q) not in self._document_text_compact]

    def not_covered(self, text: str) -> Optional[str]:
        """What the message asks about that this document does not cover: another matter, another
        document (another number, an implementation rule, another year's policy), or None."""
        norm = normalise(text)
        doc = self.document
        for _start, _end, _form, word in self._other_matters.scan(norm):
            if word is not None:
                return word
        asking = last_clause(norm)
        for word in doc.other_matters_asked:
            if word in asking:
                return word
        own = self._own_number
        for m in _DOCUMENT_NUMBER.finditer(norm):
            if m.group(1) != own.group(1) or m.group(2) != own.group(2) or m.group(3) not in (None, own.group(3)):
                return m.group(0)
        for m in _YEARS_POLICY.finditer(norm):
            if int(m.group(1)) != doc.issued.year:
                return m.group(0)
        for m in self._others_document.finditer(norm):
            if not _THIS_ONE.search(norm, m.start("between"), m.end()):
                return m.group(0)  # "人社部那个就业见习补贴的文件": a document of a department not among its issuers
        for place in self.places_in_text(norm):
            # "宁波给企业新建博士后工作站资助多少钱": a place with no mountain county giving its own
            # money is that place's own policy, not this document's.
            gives = _GIVES.match(norm, place.span[1])  # (or "的…补贴": "杭州市的大学生创业无偿资助")
            own = gives is not None and _ITS_OWN.search(gives.group(0))  # "衢州市本级自己出的…资助"
            if gives and (own or not self._has_mountain_county(place)) and not _THIS_DOCUMENTS.search(gives.group(0)):
                # (not "温州的山区县有哪些补助": this document's, for the place's mountain counties)
                return norm[place.span[0]:gives.end()]
        return None

    @cached_property
    def _others_document(self) -> "re.Pattern[str]":
        """A department the document does not name, then the words of a document of its own."""
        names = "|".join(map(re.escape, sorted({normalise(n) for n in self.document.other_departments}, key=len, reverse=True)))
        return re.compile(f"(?:{names})(?P<between>[^，,。；;！!？?]{{0,14}}?)(?:的|那个|那份|那条)?(?:文件|通知|红头文件)")

    @cached_property
    def _other_matters(self) -> LongestMatch:
        """Other matters and documents, found where no longer term of a measure holds them ("中考"
        is no other matter in "卫中考试", the 卫生中级 exam)."""
        doc = self.document
        forms: Dict[str, Optional[str]] = {normalise(k.term): None for c in self.clauses.values() for k in c.keywords}
        forms.update({w: w for w in [*doc.other_matters, *doc.other_documents]})
        return LongestMatch(forms)

    @staticmethod
    def _has_mountain_county(m: PlaceMatch) -> bool:
        """Whether the place is covered as a whole: a mountain county, or a city all of whose
        counties are ("杭州市自己对大学生创业有没有无偿资助" is 杭州's own policy, though 淳安 is covered)."""
        if m.place is not None:
            return m.place.is_mountain_county
        if m.city is not None:
            return bool(m.city.counties) and all(p.is_mountain_county for p in m.city.counties)
        return m.area is not None

    def find_department(self, text: str) -> Optional[Department]:
        found = self.departments_in_text(text)
        return found[0] if found else None

    def departments_in_text(self, text: str) -> List[Department]:
        out: List[Department] = []
        for _, _, dept in self.department_mentions(text):
            if dept not in out:
                out.append(dept)
        return out

    def department_mentions(self, text: str) -> List[Tuple[int, int, Department]]:
        """(start, end, department) of each name of a department in the normalised text, in order."""
        norm = normalise(text)
        hits: List[Tuple[int, int, Department]] = []
        taken = [False] * len(norm)
        for alias, dept in self._dept_aliases:
            start = norm.find(alias)
            while start >= 0:
                if not any(taken[start : start + len(alias)]):
                    for i in range(start, start + len(alias)):
                        taken[i] = True
                    hits.append((start, start + len(alias), dept))
                start = norm.find(alias, start + 1)
        return sorted(hits, key=lambda h: h[0])

    # ------------------------------------------------------------------ places

    @property
    def scope_clause(self) -> Clause:
        """The clause that says what "山区县" means."""
        return self.clauses[self.document.scope_clause]

    @property
    def effective_clause(self) -> Clause:
        return self.clauses[self.document.effective_clause]

    @property
    def issuance_clause(self) -> Clause:
        """The document's number and signatures."""
        return self.clauses[self.document.issuance_clause]

    def whole_cities(self) -> List[str]:
        """The cities whose every county-level division is a mountain county ("衢州、丽水两市的所辖县")."""
        return [c.name for c in self.places.cities.values() if c.counties and all(p.is_mountain_county for p in c.counties)]

    def find_place(self, text: str) -> Optional[PlaceMatch]:
        return self.places.find_place(text)

    def places_in_text(self, text: str) -> List[PlaceMatch]:
        return self.places.places_in_text(text)

    def mountain_counties(self) -> List[Place]:
        return self.places.mountain_counties()

    def shared_township_names(self, text: str) -> List[Tuple[str, List[Place]]]:
        """Township names the text uses that townships of several counties share ("岩头镇" is in
        永嘉县 and 浦江县), each with those counties, where the text names no place that settles it."""
        norm = normalise(text)
        taken = [m.span for m in self.places_in_text(norm)]
        out = []
        for start, end, form, townships in self.places.shared_townships.scan(norm):
            if any(s < end and start < e for s, e in taken):
                continue
            found = [self.places.places[c] for c in sorted({t.county for t in townships}) if c in self.places.places]
            if len(found) >= 2:
                out.append((form, found))
        return out

    def settle_shared_township(self, text: str, known: Iterable[str]) -> Optional[PlaceMatch]:
        """A township name several counties share, settled by a place the conversation has named
        ("我爸在磐安尖山镇…" → "尖山镇那里算山区县吧"): the one of those counties that is a known
        place or lies in a known city; None when none or more than one is."""
        known = [k for k in known if k]
        for form, counties in self.shared_township_names(text):
            fits = [c for c in counties if any(k in (c.name, c.city) for k in known)]
            if len(fits) == 1:
                start = normalise(text).find(form)
                return PlaceMatch(text=form, span=(start, start + len(form)), place=fits[0], township=form)
        return None

    def city(self, name: str) -> Optional[City]:
        return self.places.city(name)

    def all_places(self) -> List[Place]:
        return list(self.places.places.values())

    # ------------------------------------------------------------------ glossary

    def glossary_lookup(self, text: str) -> Optional[GlossaryEntry]:
        norm = normalise(text)
        if not norm:
            return None
        for name, entry in self._glossary_names:
            if name == norm:
                return entry
        best: Optional[Tuple[int, int, GlossaryEntry]] = None
        for name, entry in self._glossary_names:
            pos = norm.find(name)
            if pos >= 0:
                key = (-len(name), pos)
                if best is None or key < best[:2]:
                    best = (key[0], key[1], entry)
        return best[2] if best else None

    # ------------------------------------------------------------------ eligibility

    def rule_clauses(self) -> List[str]:
        return self.eligibility.rule_clauses()

    def evaluate(self, cid: str, facts: Dict[str, Any]) -> Verdict:
        return self.eligibility.evaluate(cid, facts)

    def applicable(self, facts: Dict[str, Any]) -> List[Verdict]:
        return self.eligibility.applicable(facts)

    def ruled_out_by_role(self, facts: Dict[str, Any], clause_ids: Optional[Iterable[str]] = None,
                          activity: Optional[str] = None) -> List[Verdict]:
        return self.eligibility.ruled_out_by_role(facts, clause_ids, activity)

    def extract_facts(self, text: str, today: Optional[date] = None) -> Dict[str, Any]:
        return self.extractor.extract(text, today or self.today())

    def read_facts(self, text: str, today: Optional[date] = None) -> FactReading:
        """The facts a message states (denied values as "not:<value>"), the places it names and
        whom it is about."""
        return self.extractor.read(text, today or self.today())

    def read_conversation(self, texts: List[str], today: Optional[date] = None) -> Optional[FactReading]:
        """What a conversation says of the one person its last message asks about, when it tells of
        several ("那我呢", "就按他的情况算"): each message read on its own, what it says of the
        others left out, merged in order as the turns were (a later correction still wins). None
        when the last message does not pick one of several people."""
        pieces, subject = self.extractor.said_of_the_one_asked(texts)
        if subject is None:
            return None
        today = today or self.today()
        readings: Dict[Tuple[str, bool], FactReading] = {}

        def read(text: str, pick_one: bool) -> FactReading:  # each message read once each way
            if (text, pick_one) not in readings:
                readings[text, pick_one] = self.extractor.read(text, today, pick_one=pick_one)
            return readings[text, pick_one]

        facts: Dict[str, Any] = {}
        for piece in pieces:
            facts = self.eligibility.merge(facts, read(piece, False).facts)
        if "activity" not in facts:
            # What the question is about ("考卫生中级") is no one person's.
            topic = [r.facts["activity"] for r in (read(t, True) for t in texts) if "activity" in r.facts]
            if topic:
                facts["activity"] = topic[-1]
        if "place" not in facts and self.extractor.in_the_writers_place("。".join(texts)):
            # "我是景宁一个村的支书" then "村里有个小伙子…": the writer's place is theirs too.
            for text in texts:
                place = read(text, False).facts.get("place")
                if place:
                    facts["place"] = place
        return FactReading(facts, read(texts[-1], True).places, subject, asked_apart=True)

    @staticmethod
    def today() -> date:
        value = os.environ.get(TODAY_ENV)
        if value:
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise KBError(f"{TODAY_ENV}={value!r} is not a YYYY-MM-DD date") from None
        return date.today()

    # ------------------------------------------------------------------ vocabulary

    def user_words(self) -> List[str]:
        """Every KB term worth keeping whole when segmenting (for jieba)."""
        words: List[str] = []
        words.extend(self.places.surface_forms())
        for dept in self.departments.values():
            words.extend(dept.all_names)
        for clause in self.clauses.values():
            words.extend(kw.term for kw in clause.keywords)
        for entry in self.glossary.values():
            words.extend(entry.all_names)
        for fdef in self.facts_vocabulary.values():
            words.extend(fdef.words)
            for ev in fdef.values.values():
                words.extend(ev.synonyms)
        words.extend(self.not_facts)
        return [w for w in dict.fromkeys(normalise(w) for w in words) if len(w) >= 2]


# A place that gives money itself ("宁波市对博士后…补贴", "杭州给企业…资助").
_ITS_OWN = re.compile(r"自己|本级")
# Words that point at this document ("人社部发的这个文件", "省政府发的吗 这份文件").
_THIS_ONE = re.compile(r"这|本|该|此|发|出|印|联合")
_THIS_DOCUMENTS = re.compile(r"山区|26县|文件|意见|这个政策|省里|省财政")
_GIVES = re.compile(r"(市|县|区)?(本级)?((政府|财政|本地|当地|自己)?(对|给|为)|(自己|本地|当地)?(出台|制定|颁布|发布|出)?的)[^，,。；;！!？?]{0,14}?"
                    r"(补贴|资助|补助|奖励|奖补)")
# A word for a kind of people, after what comes before such a word ("当社区网格员", "这种带货主播",
# "打鱼的渔民", "帮宝妈"): its last characters say it names people.
_PEOPLE_ENDINGS = (r"(妈妈|主播|网红|干部|司机|会计|青年|年轻人|老人|妇女|人士|群体|人群|从业者|"
                   r"群众|同胞|专家|员|工|师|手|户|民|者|兵|妈|属|官|农|匠)")
# Marks between clauses, which no name of a group spans.
_CLAUSE_MARK = re.compile(f"[{CLAUSE_MARKS}、\\s]")
# What comes before such a word ("当社区网格员", "这种带货主播", "打鱼的渔民", "帮宝妈", "针对农村妇女").
_BEFORE_A_GROUP = set("的是当做个名位对给帮像和跟与种类些们于，,、。；;！!？?（( ")
_GROUP_LEN = 8
_ENDS_AS_PEOPLE = re.compile(r"(?<![^\u4e00-\u9fff])[\u4e00-\u9fff]*" + _PEOPLE_ENDINGS + "$")
# Words for people that are no kind of people the document could name ("负责人", "员工").
_NO_GROUP_WORDS = re.compile(r"负责人|工作人员|本人|个人|别人|家人|大家|当事人|联系人|申请人|员工|打工人|人员$|^[我你他她]")
# The writer saying who they are, right before the words ("我是报社记者", "我是一名记者", "作为一名记者").
# (also of where they work: "我是市电视台的记者")
_SAYS_WHO_I_AM = re.compile(r"((我|我们|本人|俺|俺们)(就)?是|作为|身为)(一名|一位|一个|名|位|个)?"
                            r"([^，,。；;！!？?我他她]{1,10}的)?$")
# The writer saying who they are at the start of the words ("作为一名记者").
_SPEAKING_AS = re.compile(r"作为|身为")
# What asks what the document holds for someone, besides naming the document or a policy.
_ASKS_WHAT_IS_FOR = re.compile(r"有关系|相关|有没有|有啥|有什么|支持|扶持|待遇|说法|照顾|提到|提了|涉及|哪一类|算不算|享受|有份|针对")
# A message that asks what the document holds for someone.
_ASKS_FOR_WHOM = re.compile(r"有关系|相关|有没有|有啥|有什么|支持|扶持|政策|待遇|说法|照顾|提到|涉及|哪一类|算不算|享受|有份|文件|意见|"
                            r"有(补贴|补助|奖励|优惠)")
# Whether the document names someone apart ("港澳台青年到衢州创业，这份意见有专门说法吗").
_SPECIALLY = re.compile(r"专门|特别|单独|专项|特殊|针对")
# Questions whether the document names someone: what is asked about is the group "x".
_ASKS_WHETHER_NAMED = [
    re.compile(r"(提到|提及|说到|讲到|写到|管到|涉及到?|照顾到?|覆盖到?|包括|包含|考虑到)(了)?(?P<x>[^，,。；;！!？?]{2,14}?)"
               r"(的?(吗|没有|没|么|呢|[？?])|的?$)"),
    re.compile(r"(像)?(我们|咱们|俺们)(这种|这样的|这类|这些)(?P<x>[^，,。；;！!？?]{2,14}?)的"),
    re.compile(r"(对|给|针对)(我们|咱们)?(这种|这类|这些)?(?P<x>[^，,。；;！!？?]{2,14}?)(有|有没有|有啥|有什么)"
               r"(什么|啥|哪些)?(专门的?)?(支持|政策|照顾|优惠|扶持|说法|倾斜|帮助|规定)"),
    re.compile(r"(?P<x>[^，,。；;！!？?]{2,8}?)(这个|这种|这块|这方面)[^，,。；;！!？?]{0,8}?文件(里|中|上)?"
               r"(有没有|有无|有)(政策|说法|提到|规定|涉及|照顾)"),
    re.compile(r"(?P<x>[^，,。；;！!？?]{2,8}?)[，,]?(这个|这份)?(文件|意见)(里|中|上)?(专门|特别)?(提了|提到了|提过|说了|写了|讲了)(吗|没)"),
]
_LEADING = re.compile(r"^(想问问|问问|想问|请问|问一下|咨询一下|了解一下|专门|特别|单独|到|了|对|给|像|我们|咱们|俺们|这种|这类|这些|那种|这个|那些|那个|的)+")
_NOT_A_GROUP = re.compile(r"什么|哪|啥|多少|怎么|如何|问|想|知道|请|有没|没有|这方面|这块|这个|那个|这些|这种|政策|规定|内容|问题|情况|事情|东西|文件|意见|"
                          r"照顾|支持|扶持|倾斜|优惠|帮助")


def _phrase(words: str) -> Optional[str]:
    """The group named in a question, without the words around it; None when it names nothing."""
    words = _LEADING.sub("", words).rstrip("的")
    if len(words) < 2 or _NOT_A_GROUP.search(words):
        return None
    return words


def _load_unnamed(data_dir, clauses: Optional[Dict[str, Clause]] = None
                  ) -> Tuple[List[Tuple[str, str, Optional[str]]], Dict[str, str]]:
    """unnamed.yml: (words that find the group, the name it is called by, note), longest words
    first: each name is called by itself, each of the group's ``forms`` ("退休的", "已退休") by the
    group's first name; and each name's closest measure where the file names one (``closest``, a
    clause id that must exist)."""
    from pathlib import Path

    import yaml

    path = Path(data_dir) / "unnamed.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: List[Tuple[str, str, Optional[str]]] = []
    closest: Dict[str, str] = {}
    for i, group in enumerate(raw.get("groups") or []):
        names = group.get("names") if isinstance(group, dict) else None
        if not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise KBError(f"unnamed.yml: groups.{i}.names: a list of names is required")
        forms = group.get("forms") or []
        if not isinstance(forms, list) or not all(isinstance(f, str) and f.strip() for f in forms):
            raise KBError(f"unnamed.yml: groups.{i}.forms: a list of words is required")
        out.extend((normalise(n), normalise(n), group.get("note")) for n in names)
        out.extend((normalise(f), normalise(names[0]), group.get("note")) for f in forms)
        near = group.get("closest")
        if near is not None:
            if clauses is not None and near not in clauses:
                raise KBError(f"unnamed.yml: groups.{i}.closest: unknown clause '{near}'")
            closest.update((normalise(n), near) for n in names)
    return sorted(out, key=lambda item: -len(item[0])), closest


_lock = threading.Lock()
_cached: Optional[KnowledgeBase] = None


def load_kb(data_dir: Optional[os.PathLike] = None) -> KnowledgeBase:
    """Build a fresh knowledge base from the data files (validated; raises KBError)."""
    return KnowledgeBase(load_data(data_dir))


def get_kb() -> KnowledgeBase:
    """The shared knowledge base, loaded once per process."""
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                _cached = load_kb()
    return _cached
