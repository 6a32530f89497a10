"""Load and validate the YAML data files.

Each file is parsed into its pydantic schema; then the files are checked against
each other (department ids, clause ids, fact names, place names).  Any problem
raises :class:`KBError` naming the file and the field.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type, TypeVar, Union

import yaml
from pydantic import BaseModel, ValidationError

from .errors import KBError
from .models import (
    Area,
    City,
    Clause,
    ClausesFile,
    DepartmentsFile,
    Department,
    DocumentFacts,
    DocumentFile,
    EligibilityFile,
    GlossaryEntry,
    GlossaryFile,
    OutsidePlace,
    Place,
    PlacesFile,
    Rule,
    FactDef,
    Subjects,
    default_short_name,
    split_sentences,
)
from .text import squash
from .townships import attach_townships, counties_of_provinces, is_ordinary_word

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = PACKAGE_DIR / "data"

DOCUMENT_FILE = "document.yml"
CLAUSES_FILE = "clauses.yml"
DEPARTMENTS_FILE = "departments.yml"
PLACES_FILE = "places.yml"
ELIGIBILITY_FILE = "eligibility.yml"
GLOSSARY_FILE = "glossary.yml"

# The clause ids fixed by the answer contract (shared CONTRACT.md).
CONTRACT_CLAUSE_IDS = (
    "principle", "goals", "m1", "m2", "m3.1", "m3.2", "m4.1", "m4.2",
    "m5", "m6", "m7", "m8", "m9", "scope", "effective", "issuance",
)

M = TypeVar("M", bound=BaseModel)


@dataclass
class KBData:
    data_dir: Path
    source_text: str
    document: DocumentFacts
    departments: Dict[str, Department]
    clauses: Dict[str, Clause]
    cities: Dict[str, City]
    places: Dict[str, Place]
    areas: Dict[str, Area]
    outside: Dict[str, OutsidePlace]
    mountain_order: List[str]
    confusable: Dict[str, str]
    facts: Dict[str, FactDef]
    rules: Dict[str, Rule]
    not_facts: List[Union[str, "re.Pattern"]]  # phrases, and patterns of phrases, that state no fact
    subjects: Subjects
    glossary: Dict[str, GlossaryEntry]


# --------------------------------------------------------------------------- helpers


def format_loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if part == "__root__":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _fail(filename: str, loc: Iterable[Any], message: str) -> KBError:
    return KBError(f"{filename}: {format_loc(loc)}: {message}")


def _read_yaml(data_dir: Path, filename: str) -> Any:
    path = data_dir / filename
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise KBError(f"{filename}: file not found in {data_dir}") from None
    except yaml.YAMLError as exc:
        raise KBError(f"{filename}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise KBError(f"{filename}: (top level): expected a mapping")
    return data


def _parse(model: Type[M], data: Any, filename: str) -> M:
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        message = f"{filename}: {format_loc(first['loc'])}: {first['msg']}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        raise KBError(message) from None


def _check_unique(filename: str, items: List[Tuple[Tuple[Any, ...], str]], what: str) -> None:
    seen: Dict[str, Tuple[Any, ...]] = {}
    for loc, key in items:
        if key in seen:
            raise _fail(filename, loc, f"duplicate {what} '{key}' (first at {format_loc(seen[key])})")
        seen[key] = loc


# --------------------------------------------------------------------------- loaders


def _load_document(data_dir: Path) -> Tuple[DocumentFacts, str]:
    doc = _parse(DocumentFile, _read_yaml(data_dir, DOCUMENT_FILE), DOCUMENT_FILE).document
    source_path = data_dir / doc.source_file
    if not source_path.exists():
        source_path = PACKAGE_DIR / doc.source_file
    if not source_path.exists():
        raise _fail(DOCUMENT_FILE, ("document", "source_file"), f"file '{doc.source_file}' not found")
    return doc, source_path.read_text(encoding="utf-8")


def _load_departments(data_dir: Path) -> Dict[str, Department]:
    parsed = _parse(DepartmentsFile, _read_yaml(data_dir, DEPARTMENTS_FILE), DEPARTMENTS_FILE)
    _check_unique(
        DEPARTMENTS_FILE,
        [(("departments", i, "id"), d.id) for i, d in enumerate(parsed.departments)],
        "department id",
    )
    names = []
    for i, dept in enumerate(parsed.departments):
        for j, alias in enumerate(dept.all_names):
            names.append((("departments", i, "aliases", j), alias))
    _check_unique(DEPARTMENTS_FILE, names, "department name or alias")
    return {d.id: d for d in parsed.departments}


def _load_clauses(
    data_dir: Path, departments: Dict[str, Department], source_text: str
) -> Dict[str, Clause]:
    parsed = _parse(ClausesFile, _read_yaml(data_dir, CLAUSES_FILE), CLAUSES_FILE)
    items = parsed.clauses
    _check_unique(CLAUSES_FILE, [(("clauses", i, "id"), c.id) for i, c in enumerate(items)], "clause id")
    by_id = {c.id: c for c in items}
    for cid in CONTRACT_CLAUSE_IDS:
        if cid not in by_id:
            raise _fail(CLAUSES_FILE, ("clauses",), f"missing clause id '{cid}' required by the answer contract")
    source = squash(source_text)
    for i, clause in enumerate(items):
        for j, unit in enumerate(clause.units):
            if unit not in departments:
                raise _fail(CLAUSES_FILE, ("clauses", i, "units", j), f"unknown department '{unit}'")
        for j, part in enumerate(clause.composed_of):
            if part not in by_id or by_id[part].composed_of:
                raise _fail(CLAUSES_FILE, ("clauses", i, "composed_of", j), f"unknown paragraph clause '{part}'")
        for fieldname in ("text", "units_line"):
            value = getattr(clause, fieldname)
            for line in (value or "").split("\n"):
                if line and squash(line) not in source:
                    raise _fail(CLAUSES_FILE, ("clauses", i, fieldname), "not found verbatim in the source document")
        for j, hedge in enumerate(clause.hedges):
            if squash(hedge.phrase) not in squash(clause.text) and not clause.composed_of:
                raise _fail(CLAUSES_FILE, ("clauses", i, "hedges", j, "phrase"), f"'{hedge.phrase}' does not occur in the clause text")
    # Parents take text, units and hedges from their paragraphs.
    for clause in items:
        if clause.composed_of:
            parts = [by_id[p] for p in clause.composed_of]
            clause.text = "\n".join(p.text for p in parts)
            clause.units_line = "\n".join(p.units_line for p in parts if p.units_line) or None
            units: List[str] = []
            for p in parts:
                units.extend(u for u in p.units if u not in units)
                p.parent = clause.id
            clause.units = units
            clause.local_units = next((p.local_units for p in parts if p.local_units), None)
            if not clause.hedges:
                clause.hedges = [h for p in parts for h in p.hedges]
    # A citation quotes one contiguous passage of the document: a paragraph of a parent, each
    # listed passage, or the whole text.
    for i, clause in enumerate(items):
        if clause.composed_of:
            clause.passages = [by_id[p].text for p in clause.composed_of]
        elif not clause.passages:
            clause.passages = [clause.text]
        elif squash("".join(clause.passages)) != squash(clause.text):
            raise _fail(CLAUSES_FILE, ("clauses", i, "passages"), "the passages together must be the clause text")
        for j, passage in enumerate(clause.passages):
            if squash(passage) not in source:
                raise _fail(CLAUSES_FILE, ("clauses", i, "passages", j) if clause.passages is not None else ("clauses", i, "text"),
                            "not one contiguous passage of the source document: list its passages")
        if len(clause.label) > 12:
            raise _fail(CLAUSES_FILE, ("clauses", i, "short_title"), "a title over 12 characters needs a short_title of at most 12")
    for i, clause in enumerate(items):
        clause.sentences = split_sentences(clause.text)
        for sentence in clause.sentence_keywords:
            if sentence not in clause.sentences:
                raise _fail(CLAUSES_FILE, ("clauses", i, "sentence_keywords", sentence), "not a sentence of the clause")
    return by_id


def _load_places(
    data_dir: Path, clauses: Dict[str, Clause]
) -> Tuple[Dict[str, City], Dict[str, Place], Dict[str, Area], Dict[str, OutsidePlace], List[str], Dict[str, str]]:
    parsed = _parse(PlacesFile, _read_yaml(data_dir, PLACES_FILE), PLACES_FILE)
    cities: Dict[str, City] = {}
    places: Dict[str, Place] = {}
    surface: List[Tuple[Tuple[Any, ...], str]] = []
    for i, entry in enumerate(parsed.cities):
        loc = ("cities", i)
        if entry.name in cities:
            raise _fail(PLACES_FILE, loc + ("name",), f"duplicate city '{entry.name}'")
        for j, alias in enumerate([entry.name, *entry.aliases]):
            surface.append((loc + ("aliases", j), alias))
        for j, place in enumerate(entry.counties):
            if place.name in places:
                raise _fail(PLACES_FILE, loc + ("counties", j, "name"), f"duplicate place '{place.name}'")
            place.city = entry.name
            place.is_mountain_county = False
            places[place.name] = place
            for k, alias in enumerate(place.all_names):
                surface.append((loc + ("counties", j, "short_names", k), alias))
        cities[entry.name] = City(name=entry.name, aliases=entry.aliases, counties=entry.counties)
    _check_unique(PLACES_FILE, surface, "place name")

    # The mountain counties follow the scope clause: whole cities, then named counties.
    scope = parsed.mountain_scope
    if scope.clause not in clauses:
        raise _fail(PLACES_FILE, ("mountain_scope", "clause"), f"unknown clause '{scope.clause}'")
    scope_text = clauses[scope.clause].text
    order: List[str] = []
    for i, city_name in enumerate(scope.whole_cities):
        if city_name not in cities:
            raise _fail(PLACES_FILE, ("mountain_scope", "whole_cities", i), f"unknown city '{city_name}'")
        if (default_short_name(city_name) or city_name) not in scope_text:
            raise _fail(PLACES_FILE, ("mountain_scope", "whole_cities", i), f"'{city_name}' is not named in the scope clause")
        order.extend(p.name for p in cities[city_name].counties)
    short_index: Dict[str, List[str]] = {}
    for place in places.values():
        for alias in place.all_names:
            short_index.setdefault(alias, []).append(place.name)
    for i, term in enumerate(scope.named):
        if term not in scope_text:
            raise _fail(PLACES_FILE, ("mountain_scope", "named", i), f"'{term}' is not named in the scope clause")
        found = short_index.get(term, [])
        if len(found) != 1:
            raise _fail(PLACES_FILE, ("mountain_scope", "named", i), f"'{term}' does not name exactly one place")
        if found[0] in order:
            raise _fail(PLACES_FILE, ("mountain_scope", "named", i), f"'{term}' is already covered")
        order.append(found[0])
    for name in order:
        places[name].is_mountain_county = True
    for city in cities.values():
        city.covered = [p for p in city.counties if p.is_mountain_county]

    areas: Dict[str, Area] = {}
    for i, area in enumerate(parsed.areas):
        if area.city not in cities:
            raise _fail(PLACES_FILE, ("areas", i, "city"), f"unknown city '{area.city}'")
        for j, name in enumerate(area.counties):
            if name not in places or places[name].city != area.city:
                raise _fail(PLACES_FILE, ("areas", i, "counties", j), f"'{name}' is not a place of {area.city}")
        area.places = [places[n] for n in area.counties]
        areas[area.name] = area
    # "杭州市区", "温州市区": a city's urban area is its districts (区), where places.yml names no other.
    for city in cities.values():
        name = city.name + "区"
        districts = [p for p in city.counties if p.kind == "district"]
        if name not in areas and districts:
            areas[name] = Area(name=name, city=city.name, counties=[p.name for p in districts], places=districts)

    outside: Dict[str, OutsidePlace] = {}
    zj_names = {alias for _, alias in surface}
    for i, entry in enumerate(parsed.outside):
        items = [(entry.province, entry.aliases, ("outside", i, "province"))]
        items += [(c, [], ("outside", i, "cities", j)) for j, c in enumerate(entry.cities)]
        for name, aliases, loc in items:
            obj = OutsidePlace(name=name, province=entry.province, aliases=aliases)
            for alias in obj.all_names:
                if alias in zj_names or alias in outside:
                    raise _fail(PLACES_FILE, loc, f"name '{alias}' is used twice")
            for alias in obj.all_names:
                outside[alias] = obj
    # Counties of neighbouring provinces ("江西婺源"), from the division table: a name shared by two
    # counties or with a place above is left out, and a short form that is an everyday word too.
    read = counties_of_provinces(parsed.outside_counties)
    shared = {n for n, count in Counter(name for name, _ in read).items() if count > 1}
    shorts = Counter(default_short_name(name) for name, _ in read)
    for name, province in read:
        if name in shared or name in zj_names or name in outside:
            continue
        short = default_short_name(name)
        usable = bool(short) and shorts[short] == 1 and short not in zj_names and short not in outside \
            and not is_ordinary_word(short, county=True)
        obj = OutsidePlace(name=name, province=province, county=True, short_name=usable)
        for alias in obj.all_names:
            outside[alias] = obj
    outside_by_name = {o.name: o for o in outside.values()}
    # Townships, towns and streets come from the civil-affairs division table, never from places.yml.
    for i, entry in enumerate(parsed.cities):
        for j, place in enumerate(entry.counties):
            if place.townships:
                raise _fail(PLACES_FILE, ("cities", i, "counties", j, "townships"), "townships are read from the division table, not typed here")
    attach_townships(cities, places)
    all_names = zj_names | set(outside)
    seen: set = set()
    for i, mark in enumerate(parsed.landmarks):
        loc = ("landmarks", i)
        if mark.county not in places:
            raise _fail(PLACES_FILE, loc + ("county",), f"unknown county '{mark.county}'")
        county = places[mark.county]
        townships = {t.name for t in county.townships}
        if mark.township is not None and mark.township not in townships:
            raise _fail(PLACES_FILE, loc + ("township",), f"'{mark.township}' is no township of {mark.county}")
        for j, name in enumerate(mark.all_names):
            if name in all_names or name in seen or name in townships:
                raise _fail(PLACES_FILE, loc + (("aliases", j - 1) if j else ("name",)), f"name '{name}' is used twice")
            seen.add(name)
        county.landmarks.append(mark)
    return cities, places, areas, outside_by_name, order, parsed.confusable


def _load_eligibility(
    data_dir: Path, clauses: Dict[str, Clause], cities: Dict[str, City]
) -> Tuple[Dict[str, FactDef], Dict[str, Rule], List[str], Subjects]:
    parsed = _parse(EligibilityFile, _read_yaml(data_dir, ELIGIBILITY_FILE), ELIGIBILITY_FILE)
    facts = parsed.facts
    for key, fdef in facts.items():
        for value, ev in fdef.values.items():
            vloc = ("facts", key, "values", value)
            for field_name in ("narrower", "over"):
                for other in getattr(ev, field_name):
                    if other not in fdef.values:
                        raise _fail(ELIGIBILITY_FILE, vloc + (field_name,), f"unknown value '{other}'")
            if ev.not_yet is not None and ev.not_yet not in fdef.values:
                raise _fail(ELIGIBILITY_FILE, vloc + ("not_yet",), f"unknown value '{ev.not_yet}'")
            for fact, implied in ev.implies.items():
                target = facts.get(fact)
                if target is None:
                    raise _fail(ELIGIBILITY_FILE, vloc + ("implies",), f"unknown fact '{fact}'")
                if target.type == "enum" and implied not in target.values:
                    raise _fail(ELIGIBILITY_FILE, vloc + ("implies", fact), f"unknown value '{implied}'")
            for fact, replaced in ev.implies_over.items():
                if fact not in ev.implies:
                    raise _fail(ELIGIBILITY_FILE, vloc + ("implies_over",), f"'{fact}' is not implied")
                unknown = [v for v in replaced if v not in facts[fact].values]
                if unknown:
                    raise _fail(ELIGIBILITY_FILE, vloc + ("implies_over", fact), f"unknown values {unknown}")
    rules: Dict[str, Rule] = {}
    for i, rule in enumerate(parsed.rules):
        loc = ("rules", i)
        if rule.clause not in clauses:
            raise _fail(ELIGIBILITY_FILE, loc + ("clause",), f"unknown clause '{rule.clause}'")
        if rule.clause in rules:
            raise _fail(ELIGIBILITY_FILE, loc + ("clause",), f"duplicate rule for clause '{rule.clause}'")
        for j, cond in enumerate(rule.conditions):
            cloc = loc + ("conditions", j)
            if cond.fact not in facts:
                raise _fail(ELIGIBILITY_FILE, cloc + ("fact",), f"unknown fact '{cond.fact}'")
            fdef = facts[cond.fact]
            kinds = [k for k in ("in_", "mountain", "max", "min") if getattr(cond, k) is not None]
            if not kinds:
                raise _fail(ELIGIBILITY_FILE, cloc, "condition needs one of in / mountain / max / min")
            if cond.in_ is not None:
                if fdef.type != "enum":
                    raise _fail(ELIGIBILITY_FILE, cloc + ("in",), f"fact '{cond.fact}' is not an enum")
                for k, value in enumerate(cond.in_):
                    if value not in fdef.values:
                        raise _fail(ELIGIBILITY_FILE, cloc + ("in", k), f"unknown value '{value}' of fact '{cond.fact}'")
            if cond.mountain is not None and fdef.type != "place":
                raise _fail(ELIGIBILITY_FILE, cloc + ("mountain",), f"fact '{cond.fact}' is not a place")
            if cond.apart_from is not None and cond.apart_from not in facts:
                raise _fail(ELIGIBILITY_FILE, cloc + ("apart_from",), f"unknown fact '{cond.apart_from}'")
            if cond.city_alone is not None and cond.mountain is None:
                raise _fail(ELIGIBILITY_FILE, cloc + ("city_alone",), "city_alone reads a place condition (mountain)")
            for k, city in enumerate(cond.cities):
                if city not in cities:
                    raise _fail(ELIGIBILITY_FILE, cloc + ("cities", k), f"unknown city '{city}'")
            if (cond.max is not None or cond.min is not None) and fdef.type != "int":
                raise _fail(ELIGIBILITY_FILE, cloc + ("max",), f"fact '{cond.fact}' is not a number")
            if cond.when is not None:
                if cond.when.fact not in facts or facts[cond.when.fact].type != "enum":
                    raise _fail(ELIGIBILITY_FILE, cloc + ("when", "fact"), f"unknown enum fact '{cond.when.fact}'")
                for k, value in enumerate(cond.when.in_):
                    if value not in facts[cond.when.fact].values:
                        raise _fail(ELIGIBILITY_FILE, cloc + ("when", "in", k), f"unknown value '{value}'")
        # (a fact tested only when said apart from another is never asked for)
        needed = {c.fact for c in rule.conditions if c.apart_from is None and not c.if_said} | {c.when.fact for c in rule.conditions if c.when}
        for j, fact in enumerate(rule.ask_order):
            if fact not in facts:
                raise _fail(ELIGIBILITY_FILE, loc + ("ask_order", j), f"unknown fact '{fact}'")
        for fact in sorted(needed - set(rule.ask_order)):
            raise _fail(ELIGIBILITY_FILE, loc + ("ask_order",), f"fact '{fact}' used by a condition is not in ask_order")
        for key in rule.questions:
            if key not in facts:
                raise _fail(ELIGIBILITY_FILE, loc + ("questions", key), f"unknown fact '{key}'")
        rules[rule.clause] = rule
    return facts, rules, parsed.not_facts + [re.compile(p) for p in parsed.not_fact_patterns], parsed.subjects


def _load_glossary(data_dir: Path, clauses: Dict[str, Clause]) -> Dict[str, GlossaryEntry]:
    parsed = _parse(GlossaryFile, _read_yaml(data_dir, GLOSSARY_FILE), GLOSSARY_FILE)
    _check_unique(GLOSSARY_FILE, [(("glossary", i, "id"), g.id) for i, g in enumerate(parsed.glossary)], "glossary id")
    _check_unique(
        GLOSSARY_FILE,
        [(("glossary", i, "aliases", j), n) for i, g in enumerate(parsed.glossary) for j, n in enumerate(g.all_names)],
        "glossary term",
    )
    for i, entry in enumerate(parsed.glossary):
        for j, cid in enumerate(entry.related):
            if cid not in clauses:
                raise _fail(GLOSSARY_FILE, ("glossary", i, "related", j), f"unknown clause '{cid}'")
    return {g.id: g for g in parsed.glossary}


def load_data(data_dir: Optional[os.PathLike] = None) -> KBData:
    data_dir = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
    document, source_text = _load_document(data_dir)
    departments = _load_departments(data_dir)
    for i, issuer in enumerate(document.issuers):
        if issuer not in departments:
            raise _fail(DOCUMENT_FILE, ("document", "issuers", i), f"unknown department '{issuer}'")
    clauses = _load_clauses(data_dir, departments, source_text)
    measures = {c.measure for c in clauses.values() if c.measure is not None}
    if len(measures) != document.measure_count:
        raise _fail(DOCUMENT_FILE, ("document", "measure_count"), f"clauses.yml has {len(measures)} measures")
    for key in ("scope_clause", "effective_clause", "issuance_clause"):
        cid = getattr(document, key)
        if cid not in clauses or not clauses[cid].about_document:
            raise _fail(DOCUMENT_FILE, ("document", key), f"'{cid}' is not a clause about the document itself")
    cities, places, areas, outside, order, confusable = _load_places(data_dir, clauses)
    facts, rules, not_facts, subjects = _load_eligibility(data_dir, clauses, cities)
    glossary = _load_glossary(data_dir, clauses)
    return KBData(
        data_dir=data_dir,
        source_text=source_text,
        document=document,
        departments=departments,
        clauses=clauses,
        cities=cities,
        places=places,
        areas=areas,
        outside=outside,
        mountain_order=order,
        confusable=confusable,
        facts=facts,
        rules=rules,
        not_facts=not_facts,
        subjects=subjects,
        glossary=glossary,
    )
