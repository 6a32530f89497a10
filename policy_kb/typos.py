"""Homophone typos of the knowledge base's terms, put right ("飞第人才" → "飞地人才").

People type Chinese through pinyin input methods, so a slip is nearly always another character
with the same sound. A run of the text that reads like a known term of three or more
characters (toneless pinyin, the sounds input methods let one type for each other counted
alike), differs from it in at most two characters and is not itself a known term, is replaced
by the term. A two-character term is put right only from a slip that is
no word of the dictionary ("利律有优会吗"): two-character homophones are too often real words.

A two-character term that is a verb and its object is often written apart, with an aspect word
between ("挂完职", "出了站", "落了户"): such a term is joined again, the aspect word after it
("挂职完"), so the text keeps its length.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Dict, Iterable, List, Optional, Tuple

MIN_LEN = 3
MAX_DIFF = 2
# Two-character terms ("利律" → "利率", "优会" → "优惠") are put right only where the slip is no
# word of the dictionary: two-character homophones are too often real, different words.
PAIR = 2
# A character counted this often as a word by itself (是 796,991, 也 307,851, 事 44,769) is far
# likelier meant than a slip: 利 5,167, 律 2,073.
COMMON_CHAR = 40000
# Where two characters of a longer term differ, the very commonest (是, 这, 那 111,550) are meant.
VERY_COMMON_CHAR = 100000
# What may stand between the two characters of a term written apart ("挂完职", "出了站", "挂过职").
_APART = "了完过"


@lru_cache(maxsize=4096)
def _syllable(ch: str) -> str:
    from pypinyin import lazy_pinyin

    out = lazy_pinyin(ch)
    return out[0] if out else ch


# Sounds that pinyin input methods let one type for the other (their "fuzzy pinyin": z/zh, c/ch,
# s/sh, in/ing, en/eng, an/ang), which many speakers of southern Chinese do not tell apart: "明营"
# for 民营, "补租" for 补助.
_FUZZY = ((re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"([aeiu]n)g$"), r"\1"))


@lru_cache(maxsize=4096)
def _fuzzy(syllable: str) -> str:
    for pattern, plain in _FUZZY:
        syllable = pattern.sub(plain, syllable)
    return syllable


def _key(text: str) -> Tuple[str, ...]:
    return tuple(_fuzzy(_syllable(ch)) for ch in text)


class TypoCorrector:
    def __init__(self, terms: Iterable[str], freq: Optional[Callable[[str], int]] = None,
                 cut: Optional[Callable[[str], Iterable[str]]] = None) -> None:
        hanzi = {t for t in terms if all("\u4e00" <= ch <= "\u9fff" for ch in t)}
        self.freq, self.cut = freq, cut
        pairs = freq is not None and cut is not None
        self.terms = {t for t in hanzi if len(t) >= MIN_LEN or (pairs and len(t) == PAIR)}
        self.by_sound: Dict[Tuple[str, ...], List[str]] = {}
        for term in self.terms:
            self.by_sound.setdefault(_key(term), []).append(term)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)
        pairs_apart = {t for t in hanzi if len(t) == PAIR and not any(ch in _APART for ch in t)}
        self._apart = re.compile("|".join(f"{t[0]}[{_APART}]{t[1]}" for t in sorted(pairs_apart))) if pairs_apart else None

    def _fix(self, window: str) -> Optional[str]:
        if window in self.terms:
            return None
        if len(window) == PAIR and (self.freq is None or self.freq(window) > 0
                                    or any(self.freq(ch) >= COMMON_CHAR for ch in window)):
            return None  # a word of its own ("利益"), or a word as common as 是 or 也 ("这事是")
        candidates = self.by_sound.get(_key(window), [])
        fits = [t for t in candidates if 0 < sum(a != b for a, b in zip(t, window)) <= MAX_DIFF
                and not self._meant(t, window)]
        return fits[0] if len(fits) == 1 else None

    def _meant(self, term: str, window: str) -> bool:
        """Whether two characters differ from the term and one is among the very commonest words,
        and so meant as typed ("别管那些限制" is no slip of "哪些县": 那 111,550). One slip alone is
        put right whatever the character ("村为生室")."""
        differ = [b for a, b in zip(term, window) if a != b]
        return self.freq is not None and len(differ) >= 2 and any(self.freq(b) >= VERY_COMMON_CHAR for b in differ)

    def _alone(self, text: str) -> set:
        """Where the text has a character that is a word by itself (no word of the dictionary
        takes it in): only there can a two-character slip be."""
        if self.cut is None or PAIR not in self.lengths:
            return set()
        alone, at = set(), 0
        for token in self.cut(text):
            if len(token) == 1:
                alone.add(at)
            at += len(token)
        return alone

    def rejoin(self, text: str) -> str:
        """Two-character terms written apart joined again: "挂完职回去" → "挂职完回去"."""
        if self._apart is None:
            return text
        return self._apart.sub(lambda m: m.group(0)[0] + m.group(0)[2] + m.group(0)[1], text)

    def correct(self, text: str) -> str:
        if not text:
            return text
        text = self.rejoin(text)
        if not self.terms:
            return text
        out: List[str] = []
        i, n = 0, len(text)
        alone = self._alone(text)
        while i < n:
            for length in self.lengths:
                window = text[i : i + length]
                if len(window) < length:
                    continue
                if length == PAIR and not (i in alone and i + 1 in alone):
                    continue  # part of a word of the text ("开始", "江山市"): no slip
                if window in self.terms:
                    out.append(window)
                    i += length
                    break
                fixed = self._fix(window)
                if fixed is not None:
                    out.append(fixed)
                    i += length
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)
