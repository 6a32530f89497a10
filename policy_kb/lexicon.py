"""Longest-first matching of a knowledge base's surface forms in a text: the one scan that the
fact reader, the place index and the clause search share.

    forms = LongestMatch({"创业担保贷款": None, "创业": "startup"})
    forms.scan("创业担保贷款有什么优惠")   # [(0, 6, "创业担保贷款", None)]: the longer form wins

A form's value may be None: a phrase that is matched (and so hides the shorter forms inside it)
but names nothing ("创业担保贷款" is no start-up).
"""
from __future__ import annotations

from typing import Dict, Generic, Iterator, List, Optional, Tuple, TypeVar

V = TypeVar("V")


class LongestMatch(Generic[V]):
    def __init__(self, forms: Dict[str, V], min_len: int = 1) -> None:
        self.forms = {f: v for f, v in forms.items() if len(f) >= min_len}
        self.min_len = min_len
        self.max_len = max((len(f) for f in self.forms), default=min_len)
        # first character -> the lengths of the forms that start with it, longest first: most
        # positions of a text start no form, and are passed over at one look
        lengths: Dict[str, set] = {}
        for f in self.forms:
            lengths.setdefault(f[0], set()).add(len(f))
        self._lengths: Dict[str, List[int]] = {c: sorted(ls, reverse=True) for c, ls in lengths.items()}

    def at(self, text: str, i: int) -> Optional[Tuple[str, V]]:
        """The longest form that starts at text[i], with its value, or None."""
        room = len(text) - i
        for length in self._lengths.get(text[i], ()) if room > 0 else ():
            if length <= room:
                chunk = text[i:i + length]
                if chunk in self.forms:
                    return chunk, self.forms[chunk]
        return None

    def scan(self, text: str) -> Iterator[Tuple[int, int, str, V]]:
        """(start, end, form, value) of each form, left to right, longest first, never overlapping."""
        i = 0
        while i < len(text):
            hit = self.at(text, i)
            if hit is None:
                i += 1
                continue
            yield i, i + len(hit[0]), hit[0], hit[1]
            i += len(hit[0])
