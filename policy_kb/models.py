"""Value objects of the policy knowledge base.

The file-level schemas (``*File`` classes) describe the YAML data files and are
validated at load; the domain objects are what the services and callers use.
All models are pydantic v1.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, Field, root_validator, validator


class _Model(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = True


def _regular_expression(value: str) -> str:
    try:
        re.compile(value)
    except re.error as e:
        raise ValueError(f"pattern {value!r} is not a regular expression: {e}") from e
    return value


def _non_empty(value: str) -> str:
    if not value or not value.strip():
        raise ValueError("must not be empty")
    return value


# --------------------------------------------------------------------------- document


class DocumentFacts(_Model):
    number: str
    title: str
    short_title: str
    issuers: List[str]
    issued: date
    effective: date
    publicity: str
    expiry: Optional[date] = None
    expiry_note: str
    measure_count: int
    addressees: str
    preamble: str
    source_file: str
    # What this document does not cover, whatever else a message names: other matters
    # ("公积金贷款最多能贷多少") and other documents (an implementation rule, another policy).
    other_matters: List[str] = []
    # Other matters a story may name in passing ("老家房价便宜"): another matter only when the
    # last clause of the message, the one that asks, names them ("那淳安现在房价多少").
    other_matters_asked: List[str] = []
    other_documents: List[str] = []
    # Departments people may think issued the document or are responsible in it, which it does
    # not name ("人社部", "发改委"): said not to be named.
    other_departments: List[str] = []
    # The clauses that hold the document's own facts: what "山区县" means, when it applies, its
    # number and signatures.
    scope_clause: str
    effective_clause: str
    issuance_clause: str


class DocumentFile(_Model):
    document: DocumentFacts


# --------------------------------------------------------------------------- departments


class Department(_Model):
    id: str
    name: str
    full_name: str
    aliases: List[str] = []

    _nonempty = validator("id", "name", "full_name", allow_reuse=True)(_non_empty)

    @property
    def all_names(self) -> List[str]:
        names = [self.name, self.full_name, *self.aliases]
        return list(dict.fromkeys(names))

    def to_payload(self) -> Dict[str, str]:
        return {"name": self.name, "full_name": self.full_name}


class DepartmentsFile(_Model):
    departments: List[Department]


# --------------------------------------------------------------------------- clauses


class Hedge(_Model):
    phrase: str
    explanation: str
    decided_by: Optional[str] = None

    def describe(self) -> str:
        return f"{self.phrase}：{self.explanation}"


class Keyword(_Model):
    term: str
    weight: float = 1.0

    _nonempty = validator("term", allow_reuse=True)(_non_empty)

    @validator("weight")
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be positive")
        return v


SENTENCE_END = re.compile(r"(?<=[。；])")


class Clause(_Model):
    id: str
    title: str
    location: str
    part: str
    text: str = ""
    units_line: Optional[str] = None
    measure: Optional[int] = None
    paragraph: Optional[int] = None
    units: List[str] = []
    local_units: Optional[str] = None
    covers: List[str] = []
    grants: List[str] = []
    hedges: List[Hedge] = []
    keywords: List[Keyword] = []
    composed_of: List[str] = []
    # A clause whose words stand in more than one place of the document (the number at the top,
    # the signatures at the end) lists each contiguous passage; a citation quotes one passage.
    passages: List[str] = []
    # A label of at most 12 characters for buttons; the title when it is short enough.
    short_title: Optional[str] = None
    # A passage on the document itself (its scope, its start, its number and signatures), not a measure.
    about_document: bool = False
    # sentence (verbatim, one of the clause's sentences) -> words that point to it
    sentence_keywords: Dict[str, List[str]] = {}
    # derived at load
    parent: Optional[str] = None
    sentences: List[str] = []

    _nonempty = validator("id", "title", allow_reuse=True)(_non_empty)

    @validator("keywords", pre=True, each_item=True)
    def _keyword_shorthand(cls, v: Any) -> Any:
        return {"term": v} if isinstance(v, str) else v

    @root_validator(skip_on_failure=True)
    def _text_or_parts(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not values.get("composed_of") and not values.get("text", "").strip():
            raise ValueError("text is required unless composed_of is given")
        if values.get("composed_of") and values.get("text"):
            raise ValueError("a clause composed_of paragraphs takes its text from them")
        return values

    @property
    def opens_with_title(self) -> bool:
        """Whether its first sentence is the measure's title ("（七）加强创业扶持。"), which heads the
        paragraph rather than says anything: a measure's first paragraph of several sentences."""
        return self.measure is not None and self.paragraph in (None, 1) and len(self.sentences) > 1

    @property
    def is_parent(self) -> bool:
        return bool(self.composed_of)

    def to_citation(self) -> Dict[str, str]:
        return {"clause_id": self.id, "title": self.title, "text": self.text, "location": self.location}

    @property
    def label(self) -> str:
        return self.short_title or self.title


def split_sentences(text: str) -> List[str]:
    """Split on 。 and ； (kept with the sentence) and on line breaks."""
    out: List[str] = []
    for line in text.split("\n"):
        out.extend(s for s in SENTENCE_END.split(line) if s.strip())
    return out


class ClausesFile(_Model):
    clauses: List[Clause]


# --------------------------------------------------------------------------- places

PlaceKind = Literal["district", "city", "county", "autonomous_county"]
KIND_LABELS = {"district": "市辖区", "city": "县级市", "county": "县", "autonomous_county": "自治县"}
_SUFFIXES = ("畲族自治县", "自治县", "新区", "区", "县", "市")


def default_short_name(name: str) -> Optional[str]:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


class Township(_Model):
    """A township, town or sub-district street (乡、镇、街道) of Zhejiang, from the division table."""

    code: str
    name: str
    county: str
    city: str


class Landmark(_Model):
    """A place below township level that people name for where they are: a scenic area, an
    island, a village (楠溪江, 大陈岛, 下姜村). The division table stops at townships and no
    maintained package lists these, so places.yml names each with the one county it lies in (and
    its township where it lies in one); loading checks both against the division table."""

    name: str
    aliases: List[str] = []
    county: str
    township: Optional[str] = None

    @property
    def all_names(self) -> List[str]:
        return list(dict.fromkeys([self.name, *self.aliases]))


class Place(_Model):
    """A county-level division of Zhejiang."""

    name: str
    kind: PlaceKind
    city: str = ""
    short_names: List[str] = []
    note: Optional[str] = None
    is_mountain_county: bool = False
    # derived at load from the division table (policy_kb/townships.py), never typed in places.yml
    townships: List[Township] = []
    # attached at load from places.yml's `landmarks`
    landmarks: List[Landmark] = []

    @property
    def all_names(self) -> List[str]:
        names = [self.name]
        short = default_short_name(self.name)
        if short:
            names.append(short)
        names.extend(self.short_names)
        return list(dict.fromkeys(names))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_payload(self) -> Dict[str, Any]:
        return {"name": self.name, "city": self.city, "is_mountain_county": self.is_mountain_county}


class City(_Model):
    """A prefecture-level city of Zhejiang."""

    name: str
    aliases: List[str] = []
    counties: List[Place] = []
    covered: List[Place] = []

    @property
    def all_names(self) -> List[str]:
        return list(dict.fromkeys([self.name, *self.aliases]))

    @property
    def is_mountain_county(self) -> bool:
        return bool(self.counties) and len(self.covered) == len(self.counties)

    def to_payload(self) -> Dict[str, Any]:
        return {"name": self.name, "city": self.name, "is_mountain_county": self.is_mountain_county}


class Area(_Model):
    """A named part of a city, e.g. 衢州市区 (its urban districts)."""

    name: str
    city: str
    counties: List[str]
    places: List[Place] = []

    @property
    def is_mountain_county(self) -> bool:
        return bool(self.places) and all(p.is_mountain_county for p in self.places)

    def to_payload(self) -> Dict[str, Any]:
        return {"name": self.name, "city": self.city, "is_mountain_county": self.is_mountain_county}


class OutsidePlace(_Model):
    """A province-level division, a city or a county outside Zhejiang."""

    name: str
    province: str
    aliases: List[str] = []
    # A county read from the division table (婺源县): its name without 县/市 is read only where it is
    # no everyday word and names no other place, and it is never read from pinyin.
    county: bool = False
    short_name: bool = True

    @property
    def all_names(self) -> List[str]:
        names = [self.name, *self.aliases]
        short = default_short_name(self.name)
        if short and self.name != self.province and self.short_name:
            names.append(short)
        return list(dict.fromkeys(names))

    def to_payload(self) -> Dict[str, Any]:
        return {"name": self.name, "city": self.province, "is_mountain_county": False}


class PlaceMatch(BaseModel):
    """One place mention. Exactly one of place / city / area / outside is set.

    A township mention (千岛湖, 横店镇) is a match of its county: ``place`` is the county and
    ``township`` the township's standard name.
    """

    text: str
    span: tuple
    place: Optional[Place] = None
    city: Optional[City] = None
    area: Optional[Area] = None
    outside: Optional[OutsidePlace] = None
    township: Optional[str] = None
    landmark: Optional[str] = None  # a place below township level (楠溪江): ``place`` is its county
    fuzzy: bool = False

    @property
    def target(self) -> Union[Place, City, Area, OutsidePlace]:
        return self.place or self.city or self.area or self.outside  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def in_zhejiang(self) -> bool:
        return self.outside is None

    def to_payload(self) -> Dict[str, Any]:
        return self.target.to_payload()


class CityEntry(_Model):
    name: str
    aliases: List[str] = []
    counties: List[Place]


class OutsideEntry(_Model):
    province: str
    aliases: List[str] = []
    cities: List[str] = []


class MountainScope(_Model):
    clause: str
    whole_cities: List[str]
    named: List[str]


class PlacesFile(_Model):
    mountain_scope: MountainScope
    cities: List[CityEntry]
    confusable: Dict[str, str] = {}
    areas: List[Area] = []
    outside: List[OutsideEntry] = []
    # Provinces outside Zhejiang whose counties (县, 县级市) are read from the division table.
    outside_counties: List[str] = []
    landmarks: List[Landmark] = []

    @validator("confusable")
    def _single_chars(cls, v: Dict[str, str]) -> Dict[str, str]:
        for key in v:
            if len(key) != 1:
                raise ValueError(f"key '{key}' must be a single character")
        return v


# --------------------------------------------------------------------------- eligibility


class EnumValue(_Model):
    label: str
    synonyms: List[str] = []
    # A broad value ("企业") that covers narrower ones ("民营企业", "国有企业"): a condition that
    # names some of the narrower values but not this one cannot be decided by it, so it asks.
    narrower: List[str] = []
    # Values of the same fact it wins over when both are said in one message, whatever the order:
    # one who is "研究生还在读" is a student, not a graduate.
    over: List[str] = []
    # Facts this value implies when they are not stated ("考卫生中级" implies a health worker).
    implies: Dict[str, str] = {}
    # Values stated in the same message that the implication still replaces: one who "出站" is a
    # postdoc, even when called "博士" ("从博士后工作站出站的博士").
    implies_over: Dict[str, List[str]] = {}
    # The value of the same fact it is when said of a time to come ("明年才出站": still 在站),
    # unless what follows is a plan for then ("明年出站后想去丽水").
    not_yet: Optional[str] = None
    # Regular expressions for ways of saying it that a list of words cannot hold ("开了家土特产店",
    # "公办初中"); they count where no synonym of the same fact was found.
    patterns: List[str] = []

    _compiles = validator("patterns", each_item=True, allow_reuse=True)(_regular_expression)


class Button(_Model):
    title: str
    payload_value: str


class FactButton(_Model):
    title: str
    value: Union[int, str]


class FactDef(_Model):
    type: Literal["place", "enum", "int"]
    label: str
    question: str
    values: Dict[str, EnumValue] = {}
    buttons: List[FactButton] = []
    # Words that say what the fact is about ("毕业" of the years since graduation): kept whole when
    # a message is cut into words and read from pinyin ("biye 7 nian le").
    words: List[str] = []
    # Of what is done, not of who does it (what one applies for, who organises it): a message
    # that states only such facts tells of no one's case ("省人才市场的招聘会免费吗").
    undertaking: bool = False

    @root_validator(skip_on_failure=True)
    def _enum_needs_values(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values["type"] == "enum" and not values.get("values"):
            raise ValueError("an enum fact needs values")
        return values


class Guard(_Model):
    fact: str
    in_: List[str] = Field(..., alias="in")

    class Config:
        allow_population_by_field_name = True
        extra = "forbid"


class Condition(_Model):
    fact: str
    in_: Optional[List[str]] = Field(None, alias="in")
    mountain: Optional[bool] = None
    cities: List[str] = []
    max: Optional[int] = None
    min: Optional[int] = None
    when: Optional[Guard] = None
    # How a partly covered city named alone is read: "urban", as its urban districts (an enterprise
    # or a venture "在杭州" is in 杭州市区), when none of them qualifies; unset, by asking which county.
    city_alone: Optional[Literal["urban"]] = None
    # Tested only when said apart from that fact ("origin": where one is sent, when it is not
    # where one is now); otherwise skipped, asked for by no one.
    apart_from: Optional[str] = None
    # Tested only when the person says it ("不是省人才市场办的"): a condition people seldom state,
    # never asked for.
    if_said: bool = False
    met: str
    unmet: str
    skipped: Optional[str] = None

    class Config:
        allow_population_by_field_name = True
        extra = "forbid"


class Rule(_Model):
    clause: str
    decided_by: Optional[str] = None
    # Whether meeting the listed conditions still leaves the grant to someone's decision
    # ("视情给予", "可适当", "有条件的"): the verdict then reads "可能适用", not "符合条件".
    discretionary: bool = False
    # Whom the measure concerns (roles): a person of another role is not offered it by
    # applicable(), though the verdict itself turns on the conditions alone.
    concerns: List[str] = []
    # Roles the measure never judges (an employer is not itself a postdoc or a graduate): such a
    # person's question about the measure gets its content, not a verdict.
    not_for: List[str] = []
    # What one does that the measure is about (values of `activity`), where no condition tests
    # it: of two measures a message points at, the one about the person's undertaking is judged
    # ("民营企业里的工程师…评中级职称能倾斜吗": 职称评审, 第三条, not 第一条's private enterprises).
    activities: List[str] = []
    ask_order: List[str]
    questions: Dict[str, str] = {}
    conditions: List[Condition]


class Subjects(_Model):
    """Who a message speaks of: a relative (by the word for them), an employer, a local official."""

    relatives: Dict[str, List[str]] = {}
    # Others the asker names by what they are to them ("厂里有个技术员…他能享受吗").
    others: Dict[str, List[str]] = {}
    # Words that name a person only after whose they are ("我对象"; "扶持对象" names no one).
    needs_owner: List[str] = []
    employer: List[str] = []
    official: List[str] = []
    # Words that hold a word for a person and name no one ("朋友圈", "同学群").
    not_people: List[str] = []
    # Surnames: "小李", "老张" name a person of the story, called so in the answer.
    surnames: str = ""
    name_prefixes: List[str] = []

    def nicknames(self) -> List[str]:
        return [p + s for p in self.name_prefixes for s in self.surnames]


# How an answer addresses the one it speaks to: the person writing, their employer, their place.
SPOKEN_TO = ("您", "贵单位", "贵地")


class Subject(_Model):
    """The person or body whose case a message describes, and how an answer addresses them."""

    # "other": someone an employer or official asks about ("我们引进了一位博士后…他能享受吗")
    kind: Literal["self", "relative", "employer", "official", "other"] = "self"
    relation: Optional[str] = None  # 丈夫, 儿子 … for a relative
    called_by_name: bool = False  # another person named by name ("小李"), not by what they are

    @property
    def address(self) -> str:
        if self.kind == "relative" and self.relation:
            return f"您{self.relation}"
        if self.kind == "employer":
            return SPOKEN_TO[1]
        if self.kind == "official":
            return SPOKEN_TO[2]
        if self.kind == "other":
            if self.relation and self.called_by_name:
                return self.relation  # "小李"
            return f"该{self.relation}" if self.relation else "该人员"
        return SPOKEN_TO[0]


class EligibilityFile(_Model):
    facts: Dict[str, FactDef]
    rules: List[Rule]
    not_facts: List[str] = []
    # Ways of naming a measure that hold a fact's word without stating it ("那条博士后补助我能套用吗":
    # the person is not said to be a postdoc).
    not_fact_patterns: List[str] = []
    subjects: Subjects = Subjects()

    _compiles = validator("not_fact_patterns", each_item=True, allow_reuse=True)(_regular_expression)


class Question(_Model):
    text: str
    buttons: List[Button] = []


VerdictKind = Literal["eligible", "not_eligible", "need_info"]


class Verdict(_Model):
    clause_id: str
    verdict: VerdictKind
    met: List[str] = []
    unmet: List[str] = []
    missing: List[str] = []
    unmet_facts: List[str] = []
    questions: Dict[str, Question] = {}
    hedges: List[str] = []
    decided_by: Optional[str] = None
    discretionary: bool = False

    def to_payload(self) -> Dict[str, Any]:
        return {
            "clause_id": self.clause_id,
            "verdict": self.verdict,
            "met": list(self.met),
            "unmet": list(self.unmet),
            "missing": list(self.missing),
        }


# --------------------------------------------------------------------------- glossary


class GlossaryEntry(_Model):
    id: str
    term: str
    aliases: List[str] = []
    related: List[str] = []
    explanation: str
    is_explanation: bool = True

    @validator("is_explanation")
    def _always_explanation(cls, v: bool) -> bool:
        if not v:
            raise ValueError("glossary entries are explanations, not the document's words")
        return v

    @property
    def all_names(self) -> List[str]:
        return list(dict.fromkeys([self.term, *self.aliases]))


class GlossaryFile(_Model):
    glossary: List[GlossaryEntry]


# --------------------------------------------------------------------------- search


class SearchHit(BaseModel):
    clause: Clause
    score: float
    sentence: str

    @property
    def clause_id(self) -> str:
        return self.clause.id
