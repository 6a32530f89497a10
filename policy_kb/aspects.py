"""What a question asks about a measure (an amount, how to apply, who decides …) and what the
document says on that point: aspects.yml, checked word for word against the clauses at load."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from pydantic import validator

from .errors import KBError
from .models import Clause, _Model
from .text import normalise, squash

ASPECTS_FILE = "aspects.yml"
_BEFORE_OR = re.compile(r"[，,、\s]+(?=还是)")


class AspectDef(_Model):
    label: str
    missing: str
    words: List[str]
    # Whether whoever the measure leaves its decision to also settles this point: not a window or
    # a telephone number, which the responsible units (named with every answer) keep.
    decided: bool = True
    # A point of how something is run (when to sign up, how, with what papers, where): asked of a
    # group or programme the document does not name, it is that programme's own.
    of_running: bool = False

    @validator("words")
    def _some_words(cls, words: List[str]) -> List[str]:
        if not words:
            raise ValueError("an aspect needs words")
        return words


class ClauseAspect(_Model):
    states: Optional[str] = None
    decided_by: Optional[str] = None
    # The words stated answer only part of what is asked ("“飞地”人才的认定由飞入地负责" says who
    # recognises, not where to apply or what to bring): the answer also says what is left open.
    partial: bool = False


class AspectsFile(_Model):
    aspects: Dict[str, AspectDef]
    clauses: Dict[str, Dict[str, ClauseAspect]] = {}


class AspectAnswer(_Model):
    """What the document says about one aspect of one clause."""

    clause_id: str
    aspect: str
    label: str
    states: Optional[str] = None  # the document's words on it, or None when it says nothing
    missing: Optional[str] = None  # how to say that it says nothing (also when `states` is only part)
    decided_by: Optional[str] = None


class Aspects:
    def __init__(self, parsed: AspectsFile) -> None:
        self.defs = parsed.aspects
        self.by_clause = parsed.clauses
        words = [(normalise(w), key) for key, d in self.defs.items() for w in d.words]
        # "几" asks what "多少" asks ("提高几个百分点", "能补几万"): each wording with 多少 is also
        # read with 几 in its place, where that leaves three characters or more.
        words += [(w.replace("多少", "几"), key) for w, key in words
                  if "多少" in w and len(w.replace("多少", "几")) >= 3]
        self._words = sorted(dict.fromkeys(words), key=lambda kv: -len(kv[0]))
        # (asked of the same text several times a turn, by the routing and the answer)
        self.of = lru_cache(maxsize=1024)(self._of)

    def _of(self, text: str) -> Optional[str]:
        """The aspect a question asks about (the longest wording found first), or None."""
        found = self.wording(text)
        return found[1] if found else None

    def wording(self, text: str) -> Optional[Tuple[str, str]]:
        """The words that ask for an aspect in a question, and the aspect ("有名单吗", "named")."""
        # ("发给个人，还是给县里": a choice asked across a comma is one wording)
        norm = _BEFORE_OR.sub("", normalise(text))
        # (the wordings are sorted longest first: the first found is the longest)
        return next(((word, key) for word, key in self._words if word in norm), None)

    def answer(self, clause: Clause, aspect: str, default_decider: Optional[str]) -> AspectAnswer:
        d = self.defs[aspect]
        own = self.by_clause.get(clause.id, {}).get(aspect)
        if own is None and clause.composed_of:
            own = next((self.by_clause.get(c, {}).get(aspect) for c in clause.composed_of
                        if self.by_clause.get(c, {}).get(aspect)), None)
        states = own.states if own else None
        decided_by = (own.decided_by if own else None) or (default_decider if d.decided else None)
        # An amount or rate the document only promises ("适当提高…额度") is still not a figure.
        partial = states is not None and (aspect in ("amount", "rate", "quota") or own.partial)
        return AspectAnswer(clause_id=clause.id, aspect=aspect, label=d.label, states=states,
                            missing=d.missing if states is None or partial else None, decided_by=decided_by)


def load_aspects(data_dir: Path, clauses: Dict[str, Clause]) -> Aspects:
    from .repository import _fail, _parse, _read_yaml

    parsed = _parse(AspectsFile, _read_yaml(data_dir, ASPECTS_FILE), ASPECTS_FILE)
    for cid, by_aspect in parsed.clauses.items():
        if cid not in clauses:
            raise _fail(ASPECTS_FILE, ("clauses", cid), f"unknown clause '{cid}'")
        for key, value in by_aspect.items():
            if key not in parsed.aspects:
                raise _fail(ASPECTS_FILE, ("clauses", cid, key), f"unknown aspect '{key}'")
            if value.states is not None and squash(value.states) not in squash(clauses[cid].text):
                raise _fail(ASPECTS_FILE, ("clauses", cid, key, "states"),
                            f"not found verbatim in clause {cid}")
    return Aspects(parsed)


__all__ = ["Aspects", "AspectAnswer", "load_aspects", "KBError"]
