"""Place lookup: Zhejiang county-level divisions, cities, urban areas and places outside Zhejiang.

Matching is on the normalised text (simplified characters).  Exact names and short
forms are matched longest-first, left to right.  A near miss is accepted only when
no exact name is found, the mistyped name has its 区/县/市 ending (晋云县 for
缙云县), exactly one character differs, that character is a known confusion for
the right one (``confusable`` in places.yml, or the same pinyin when pypinyin is
installed), and exactly one Zhejiang place fits.  Fuzzy matching never guesses
between two places.

Townships, towns and streets (千岛湖镇, 横店, 乌镇) are matched as their county: see
townships.py for their names and the order in which names of both kinds win.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple, Union

from rapidfuzz.distance import Levenshtein

from .lexicon import LongestMatch
from .models import Area, City, Landmark, OutsidePlace, Place, PlaceMatch, Township
from .text import normalise
from .townships import WORDS_AFTER_A_TOWNSHIP, TownshipForms, township_forms

Target = Union[Place, City, Area, OutsidePlace]

_SUFFIX_CHARS = "区县市"


class PlaceIndex:
    def __init__(
        self,
        cities: Dict[str, City],
        places: Dict[str, Place],
        areas: Dict[str, Area],
        outside: Dict[str, OutsidePlace],
        mountain_order: List[str],
        masked_terms: Iterable[str] = (),
        confusable: Optional[Dict[str, str]] = None,
    ) -> None:
        self.confusable = {k: set(v) for k, v in (confusable or {}).items()}
        self.cities = cities
        self.places = places
        self.areas = areas
        self.outside = outside
        self.mountain_order = mountain_order
        self._surface: Dict[str, Target] = {}
        # Zhejiang first so that a shared name resolves inside the province.
        for place in places.values():
            for alias in place.all_names:
                self._surface.setdefault(alias, place)
        for city in cities.values():
            for alias in city.all_names:
                self._surface.setdefault(alias, city)
        for area in areas.values():
            self._surface.setdefault(area.name, area)
        zhejiang = set(self._surface)
        outside_names = {alias for obj in outside.values() for alias in obj.all_names}
        for obj in outside.values():
            for alias in obj.all_names:
                self._surface.setdefault(alias, obj)
        # What text is matched against: places.yml's Zhejiang names, full township names, places
        # outside Zhejiang, short township forms, in that order of precedence.
        self.townships: TownshipForms = township_forms(
            (t for place in places.values() for t in place.townships), zhejiang, outside_names
        )
        self._lookup: Dict[str, Union[Target, Township, Landmark]] = {
            name: self._surface[name] for name in zhejiang
        }
        self._lookup.update(self.townships.full)
        # Places below township level (楠溪江, 大陈岛): after full township names, before outside names.
        self.landmarks: Dict[str, Landmark] = {
            normalise(name): mark for place in places.values() for mark in place.landmarks for name in mark.all_names
        }
        for name, mark in self.landmarks.items():
            self._lookup.setdefault(name, mark)
        for name, target in self._surface.items():
            self._lookup.setdefault(name, target)
        for name, township in self.townships.short.items():
            self._lookup.setdefault(name, township)
        # Phrases that contain a place name without referring to a place
        # (e.g. 人行杭州中心支行); they are skipped as a whole.
        self._masked = {t for t in masked_terms if t and t not in self._surface}
        # Words that a township name can run into (城北乡 + 乡镇卫生院); they stop only townships.
        self._township_masked = self._masked | set(WORDS_AFTER_A_TOWNSHIP)
        self._max_len = max(len(s) for s in [*self._lookup, *self._masked, "x"])
        # A masked phrase ("人民医院" is no 人民 place) wins over a place name of the same length.
        self._forms = LongestMatch({**self._lookup, **{m: None for m in self._masked}}, min_len=2)
        # Township names several counties share, as people write them: a full name, or a short form
        # of three characters or more (a two-character one is too often an ordinary word: 桥头).
        self.shared_townships = LongestMatch(
            {f: ts for f, ts in self.townships.shared.items() if len(f) >= 3 or f.endswith(("镇", "乡"))}, min_len=2
        )
        # name (with its 区/县/市 ending) -> place, for near-miss matching
        self._fuzzy_pool: Dict[str, Place] = {}
        for place in places.values():
            for alias in place.all_names:
                if alias[-1] in _SUFFIX_CHARS:
                    self._fuzzy_pool[alias] = place
            short = place.all_names[1] if len(place.all_names) > 1 else None
            if short:
                for suffix in _SUFFIX_CHARS:
                    self._fuzzy_pool.setdefault(short + suffix, place)

    # ------------------------------------------------------------------ lookups

    def by_name(self, name: str) -> Optional[Target]:
        """Resolve a standard name or alias exactly (after normalisation)."""
        return self._surface.get(normalise(name))

    def surface_forms(self) -> Dict[str, Target]:
        """County-level, city, area and outside names (township forms: ``township_forms``)."""
        return dict(self._surface)

    def township_forms(self) -> Dict[str, Township]:
        """Every surface form of a township that text is matched against."""
        return {**self.townships.full, **self.townships.short}

    def mountain_counties(self) -> List[Place]:
        return [self.places[n] for n in self.mountain_order]

    def city(self, name: str) -> Optional[City]:
        target = self.by_name(name)
        if isinstance(target, City):
            return target
        if target is None:
            for city in self.cities.values():
                if any(alias in normalise(name) for alias in city.all_names):
                    return city
        return None

    # ------------------------------------------------------------------ text scanning

    def places_in_text(self, text: str, fuzzy: bool = False) -> List[PlaceMatch]:
        norm = normalise(text)
        out: List[PlaceMatch] = []
        i, n = 0, len(norm)
        while i < n:
            hit = self._longest_at(norm, i)
            if hit is None:
                i += 1
                continue
            term, target = hit
            masked = self._township_masked if isinstance(target, Township) else self._masked
            if target is not None and self._straddles(norm, i, len(term), masked):
                i += 1  # the name runs into a longer word that starts inside it
                continue
            if isinstance(target, Township) and out and out[-1].span[1] == i and not _contains(out[-1], target):
                i += len(term)  # "上海虹桥", "深圳福田": part of the place just named, not a Zhejiang township
                continue
            if target is not None:
                out.append(self._make_match(target, term, (i, i + len(term))))
            i += len(term)
        if out:
            out = self._settle_shared(norm, out)
        if fuzzy and not out:
            out.extend(self._fuzzy_matches(norm))
        return out

    def _settle_shared(self, norm: str, out: List[PlaceMatch]) -> List[PlaceMatch]:
        """The matches with each shared township name that a place of the same text settles: of
        the townships sharing the name, the one place named contains ("温州桥头镇" is 永嘉's, not 慈溪's)."""
        added = []
        for start, end, form, townships in self.shared_townships.scan(norm):
            if any(m.span[0] < end and start < m.span[1] for m in out):
                continue
            fits = [t for t in townships if any(_contains(m, t) for m in out)]
            if len(fits) == 1:
                added.append(self._make_match(fits[0], form, (start, end)))
        return sorted(out + added, key=lambda m: m.span) if added else out

    def find_place(self, text: str) -> Optional[PlaceMatch]:
        """The first place mentioned, preferring a county-level place, then an area, a city, outside Zhejiang."""
        matches = self.places_in_text(text, fuzzy=True)
        return most_specific(matches) if matches else None

    def _straddles(self, norm: str, i: int, length: int, masked: Optional[set] = None) -> bool:
        """Whether a non-place phrase starts inside norm[i:i+length] and ends beyond it."""
        masked = self._masked if masked is None else masked
        end = i + length
        for j in range(i + 1, end):
            for k in range(end + 1, min(len(norm), j + self._max_len) + 1):
                if norm[j:k] in masked:
                    return True
        return False

    def _longest_at(self, norm: str, i: int) -> Optional[Tuple[str, Optional[Union[Target, Township, Landmark]]]]:
        return self._forms.at(norm, i)

    def _confused(self, right: str, wrong: str) -> bool:
        if wrong in self.confusable.get(right, ()):
            return True
        return _same_pinyin(right, wrong)

    def _fuzzy_matches(self, norm: str) -> List[PlaceMatch]:
        out: List[PlaceMatch] = []
        i = 0
        while i < len(norm):
            found = None
            for length in (7, 4, 3):
                chunk = norm[i : i + length]
                if len(chunk) < length or chunk[-1] not in _SUFFIX_CHARS:
                    continue
                candidates = {}
                for name, place in self._fuzzy_pool.items():
                    if len(name) != length or name[-1] != chunk[-1]:
                        continue
                    if Levenshtein.distance(name, chunk, weights=(9, 9, 1)) != 1:
                        continue
                    k = next(j for j in range(length) if name[j] != chunk[j])
                    if self._confused(name[k], chunk[k]):
                        candidates[place.name] = place
                if len(candidates) == 1 and not self._straddles(norm, i, length):
                    # ("能像山区县企业一样": 山区县 runs on from inside "像山区", no slip of 象山)
                    found = (chunk, next(iter(candidates.values())))
                    break
            if found:
                chunk, place = found
                out.append(self._make_match(place, chunk, (i, i + len(chunk)), fuzzy=True))
                i += len(chunk)
            else:
                i += 1
        return out

    def _make_match(
        self, target: Union[Target, Township, Landmark], term: str, span: Tuple[int, int], fuzzy: bool = False
    ) -> PlaceMatch:
        if isinstance(target, Township):
            county = self.places[target.county]
            return PlaceMatch(text=term, span=span, fuzzy=fuzzy, place=county, township=target.name)
        if isinstance(target, Landmark):
            return PlaceMatch(text=term, span=span, fuzzy=fuzzy, place=self.places[target.county], landmark=target.name)
        kwargs = {
            Place: "place",
            City: "city",
            Area: "area",
            OutsidePlace: "outside",
        }
        return PlaceMatch(text=term, span=span, fuzzy=fuzzy, **{kwargs[type(target)]: target})


def specificity(match: PlaceMatch) -> int:
    """How narrow a place is, narrowest 0: a county-level place, an area, a city; outside Zhejiang
    a county ("江西上饶婺源"), a city, a province."""
    if match.place is not None:
        return 0
    if match.area is not None:
        return 1
    if match.city is not None:
        return 2
    if match.outside.county:
        return 3
    return 4 if match.outside.name != match.outside.province else 5


def most_specific(matches: List[PlaceMatch]) -> PlaceMatch:
    """Of places named together ("丽水市莲都区", "江西上饶婺源"), the narrowest, the first of those."""
    return min(matches, key=specificity)


def _contains(match: PlaceMatch, township: Township) -> bool:
    """Whether the place of a match is, or contains, the township's county."""
    if match.place is not None:
        return match.place.name == township.county
    if match.city is not None:
        return match.city.name == township.city
    if match.area is not None:
        return township.county in match.area.counties
    return False


def _same_pinyin(a: str, b: str) -> bool:
    """Same toneless pinyin, when pypinyin is available (optional dependency)."""
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return lazy_pinyin(a) == lazy_pinyin(b)
