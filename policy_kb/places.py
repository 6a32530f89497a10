"""Place lookup: Zhejiang county-level divisions, cities, urban areas and places outside Zhejiang.

Matching is on the normalised text (simplified characters).  Exact names and short
forms are matched longest-first, left to right.  A near miss is accepted only when
no exact name is found, the mistyped name has its 区/县/市 ending (晋云县 for
缙云县), exactly one character differs, that character is a known confusion for
the right one (``confusable`` in places.yml, or the same pinyin when pypinyin is
installed), and exactly one Zhejiang place fits.  Fuzzy matching never guesses
between two places.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple, Union

from rapidfuzz.distance import Levenshtein

from .models import Area, City, OutsidePlace, Place, PlaceMatch
from .text import normalise

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
        for obj in outside.values():
            for alias in obj.all_names:
                self._surface.setdefault(alias, obj)
        # Phrases that contain a place name without referring to a place
        # (e.g. 人行杭州中心支行); they are skipped as a whole.
        self._masked = {t for t in masked_terms if t and t not in self._surface}
        self._max_len = max(len(s) for s in [*self._surface, *self._masked, "x"])
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
        return dict(self._surface)

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
            if target is not None and self._straddles(norm, i, len(term)):
                i += 1  # the name runs into a longer word that starts inside it
                continue
            if target is not None:
                out.append(self._make_match(target, term, (i, i + len(term))))
            i += len(term)
        if fuzzy and not out:
            out.extend(self._fuzzy_matches(norm))
        return out

    def find_place(self, text: str) -> Optional[PlaceMatch]:
        """The first place mentioned, preferring a county-level place, then an area, a city, outside Zhejiang."""
        matches = self.places_in_text(text, fuzzy=True)
        if not matches:
            return None
        for kind in ("place", "area", "city", "outside"):
            for m in matches:
                if getattr(m, kind) is not None:
                    return m
        return matches[0]

    def _straddles(self, norm: str, i: int, length: int) -> bool:
        """Whether a non-place phrase starts inside norm[i:i+length] and ends beyond it."""
        end = i + length
        for j in range(i + 1, end):
            for k in range(end + 1, min(len(norm), j + self._max_len) + 1):
                if norm[j:k] in self._masked:
                    return True
        return False

    def _longest_at(self, norm: str, i: int) -> Optional[Tuple[str, Optional[Target]]]:
        for length in range(min(self._max_len, len(norm) - i), 1, -1):
            chunk = norm[i : i + length]
            if chunk in self._masked:
                return chunk, None
            target = self._surface.get(chunk)
            if target is not None:
                return chunk, target
        return None

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
                if len(candidates) == 1:
                    found = (chunk, next(iter(candidates.values())))
                    break
            if found:
                chunk, place = found
                out.append(self._make_match(place, chunk, (i, i + len(chunk)), fuzzy=True))
                i += len(chunk)
            else:
                i += 1
        return out

    @staticmethod
    def _make_match(target: Target, term: str, span: Tuple[int, int], fuzzy: bool = False) -> PlaceMatch:
        kwargs = {
            Place: "place",
            City: "city",
            Area: "area",
            OutsidePlace: "outside",
        }
        return PlaceMatch(text=term, span=span, fuzzy=fuzzy, **{kwargs[type(target)]: target})


def _same_pinyin(a: str, b: str) -> bool:
    """Same toneless pinyin, when pypinyin is available (optional dependency)."""
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - depends on the environment
        return False
    return lazy_pinyin(a) == lazy_pinyin(b)
