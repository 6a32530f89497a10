"""Homophone typos of the knowledge base's terms, put right ("飞第人才" → "飞地人才").

People type Chinese through pinyin input methods, so a slip is nearly always another character
with the same sound. A run of the text that reads exactly like a known term of three or more
characters (toneless pinyin), differs from it in at most two characters and is not itself a
known term, is replaced by the term. Shorter terms are left alone: two-character homophones are
too often real, different words.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Tuple

MIN_LEN = 3
MAX_DIFF = 2


@lru_cache(maxsize=4096)
def _syllable(ch: str) -> str:
    from pypinyin import lazy_pinyin

    out = lazy_pinyin(ch)
    return out[0] if out else ch


def _key(text: str) -> Tuple[str, ...]:
    return tuple(_syllable(ch) for ch in text)


class TypoCorrector:
    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = {t for t in terms if len(t) >= MIN_LEN and all("\u4e00" <= ch <= "\u9fff" for ch in t)}
        self.by_sound: Dict[Tuple[str, ...], List[str]] = {}
        for term in self.terms:
            self.by_sound.setdefault(_key(term), []).append(term)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)

    def _fix(self, window: str) -> Optional[str]:
        if window in self.terms:
            return None
        candidates = self.by_sound.get(_key(window), [])
        fits = [t for t in candidates if 0 < sum(a != b for a, b in zip(t, window)) <= MAX_DIFF]
        return fits[0] if len(fits) == 1 else None

    def correct(self, text: str) -> str:
        if not text or not self.terms:
            return text
        out: List[str] = []
        i, n = 0, len(text)
        while i < n:
            for length in self.lengths:
                window = text[i : i + length]
                if len(window) < length:
                    continue
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
