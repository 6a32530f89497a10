"""Knowledge base for 浙人社发〔2021〕22号 (HR and social-security support for the 26 mountain counties).

    from policy_kb import get_kb
    kb = get_kb()
    kb.search("创业担保贷款额度能提高吗")[0].clause.id   # 'm7'

The document's facts live in ``policy_kb/data/*.yml``; see README.md.
"""
from .errors import KBError
from .kb import KnowledgeBase, get_kb, load_kb
from .models import (
    Area,
    Button,
    City,
    Clause,
    Department,
    DocumentFacts,
    GlossaryEntry,
    Hedge,
    Keyword,
    OutsidePlace,
    Place,
    PlaceMatch,
    Question,
    SearchHit,
    Verdict,
)
from .repository import CONTRACT_CLAUSE_IDS
from .search import CONFIDENT, PLAUSIBLE

__all__ = [
    "KBError",
    "KnowledgeBase",
    "get_kb",
    "load_kb",
    "Area",
    "Button",
    "City",
    "Clause",
    "Department",
    "DocumentFacts",
    "GlossaryEntry",
    "Hedge",
    "Keyword",
    "OutsidePlace",
    "Place",
    "PlaceMatch",
    "Question",
    "SearchHit",
    "Verdict",
    "CONTRACT_CLAUSE_IDS",
    "CONFIDENT",
    "PLAUSIBLE",
]
