"""Extract eligibility facts from what a user wrote.

Only facts actually stated are returned.  Enum facts come from the synonyms in
eligibility.yml (longest match first, phrases listed under ``not_facts`` are
skipped whole); the place is the first county-level place mentioned (else an
urban area, a city, a place outside Zhejiang); the years since graduation come
from "毕业7年" / "毕业七年了" / "2016年毕业" / "去年毕业" and similar.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

from .models import FactDef
from .places import PlaceIndex
from .text import cn_number, normalise

_NUM = r"(\d{1,3}|[零〇一二两三四五六七八九十百]{1,4})"
_YEAR4 = r"((?:19|20)\d{2}|[一二][零〇一二三四五六七八九]{3})"
_YEAR2 = r"(\d{2})"

_YEARS_PATTERNS = [
    # 毕业7年 / 毕业了七年 / 毕业已经三年了 / 毕业快十年 / 毕业第8年 / 毕业有5年
    re.compile(r"毕业(?:了|已经|已|都|有|快|将近|差不多|才|刚|刚刚|刚好|正好|恰好|满|第|整|大概|大约|约)*" + _NUM + r"(?:个)?(?:整)?年"),
    # 7年前毕业 / 三年前毕业的
    re.compile(_NUM + r"(?:个)?年前(?:大学|本科|研究生|硕士|博士)?毕业"),
]
_YEAR_OF_GRADUATION = [
    re.compile(_YEAR4 + r"年(?:大学|本科|研究生|硕士|博士|从\S{1,12}?)?毕业"),
    re.compile(r"(?<!\d)" + _YEAR2 + r"年(?:大学|本科|研究生|硕士|博士)?毕业"),
    re.compile(r"毕业(?:于|时间是|时间为|年份是|年份为)?" + _YEAR4 + r"年"),
    re.compile(r"(?:19|20)\d{2}届"),
]
_RELATIVE = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}
_FRESH = re.compile(r"(刚毕业|应届|今年毕业|即将毕业|马上毕业|还没毕业)")
_CN_YEAR_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_CN_YEAR_DIGITS["零"] = "0"


def _year_value(token: str) -> Optional[int]:
    if token.isdigit():
        return int(token)
    digits = "".join(_CN_YEAR_DIGITS.get(ch, "") for ch in token)
    return int(digits) if len(digits) == len(token) else None


def parse_years_since_graduation(text: str, today: date) -> Optional[int]:
    """Whole years since graduation stated in ``text``, or None.  Never raises."""
    text = normalise(text)
    if not text or "毕业" not in text and "届" not in text:
        return None
    for pattern in _YEARS_PATTERNS:
        m = pattern.search(text)
        if m:
            value = cn_number(m.group(1))
            if value is not None and value < 100:
                return value
    for word, delta in sorted(_RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if word + "毕业" in text or word + "刚毕业" in text:
            return delta
    for pattern in _YEAR_OF_GRADUATION:
        m = pattern.search(text)
        if not m:
            continue
        if m.groups():
            year = _year_value(m.group(1))
            if year is not None and year < 100:
                year += 2000 if year <= today.year % 100 else 1900
        else:
            year = int(m.group(0)[:4])
        if year is not None and 1950 <= year <= today.year:
            return today.year - year
    if _FRESH.search(text):
        return 0
    return None


class FactExtractor:
    def __init__(self, facts: Dict[str, FactDef], places: PlaceIndex, not_facts: List[str]) -> None:
        self.facts = facts
        self.places = places
        self._terms: Dict[str, Optional[Tuple[str, str]]] = {}
        for key, fdef in facts.items():
            if fdef.type != "enum":
                continue
            for value, ev in fdef.values.items():
                for syn in ev.synonyms:
                    self._terms.setdefault(normalise(syn), (key, value))
        for phrase in not_facts:
            self._terms[normalise(phrase)] = None
        self._max_len = max((len(t) for t in self._terms), default=1)

    def enum_mentions(self, text: str) -> List[Tuple[str, str, str, Tuple[int, int]]]:
        """(fact, value, matched text, span) for each enum synonym, longest match first."""
        norm = normalise(text)
        out = []
        i = 0
        while i < len(norm):
            for length in range(min(self._max_len, len(norm) - i), 0, -1):
                chunk = norm[i : i + length]
                if chunk in self._terms:
                    hit = self._terms[chunk]
                    if hit is not None:
                        out.append((hit[0], hit[1], chunk, (i, i + length)))
                    i += length
                    break
            else:
                i += 1
        return out

    def _inner_mentions(self, chunk: str) -> List[Tuple[str, str, str, Tuple[int, int]]]:
        found = []
        for start in range(len(chunk)):
            for end in range(len(chunk), start, -1):
                if (start, end) == (0, len(chunk)):
                    continue
                hit = self._terms.get(chunk[start:end])
                if hit is not None:
                    found.append((hit[0], hit[1], chunk[start:end], (start, end)))
        return found

    def extract(self, text: str, today: date) -> Dict[str, Any]:
        norm = normalise(text)
        out: Dict[str, Any] = {}
        if not norm:
            return out
        match = self.places.find_place(norm)
        if match is not None:
            out["place"] = match.name
        mentions = self.enum_mentions(norm)
        for fact, value, _, _ in mentions:
            out.setdefault(fact, value)
        # A phrase can state two facts: "我们企业" is an employer and an enterprise, "公立医院" a
        # public institution and a hospital. Words of other facts inside a matched phrase count.
        for fact, _, chunk, _ in mentions:
            for inner_fact, inner_value, _, _ in self._inner_mentions(chunk):
                if inner_fact != fact:
                    out.setdefault(inner_fact, inner_value)
        years = parse_years_since_graduation(norm, today)
        if years is not None:
            out["years_since_graduation"] = years
        return {k: out[k] for k in self.facts if k in out}
