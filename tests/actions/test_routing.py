"""The routing table names every answer's kind in one module; handlers never call one another."""
from __future__ import annotations

import ast
import inspect

import pytest

from actions import answer, routing
from actions.answer import Answerer
from actions.understanding import Understanding


def test_handlers_never_hand_a_turn_to_one_another():
    tree = ast.parse(inspect.getsource(answer))
    calls = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Answerer"):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name.startswith("on_")):
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute) and node.attr.startswith("on_") and \
                        isinstance(node.value, ast.Name) and node.value.id in ("self", "sub"):
                    calls.append((fn.name, node.attr))
    assert calls == [], calls


def test_every_kind_the_table_can_name_has_its_handler():
    source = inspect.getsource(routing)
    kinds = set(ast.literal_eval(n) for n in _returned_strings(ast.parse(source)))
    kinds = (kinds | set(routing.REFINE)) - {"inform"}  # "inform" always goes on to the kind it continues
    missing = sorted(k for k in kinds if not hasattr(Answerer, f"on_{k}"))
    assert not missing, missing
    assert len(kinds) >= 25


def _returned_strings(tree):
    """The kinds a function of the module can return: `return "x"`, `return "a" if … else "b"`,
    and the values of a dict looked up in a return."""
    def kinds(value):
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield repr(value.value)
        elif isinstance(value, ast.IfExp):
            yield from kinds(value.body)
            yield from kinds(value.orelse)
        elif isinstance(value, ast.Dict):
            for v in value.values:
                yield from kinds(v)
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get":
            yield from kinds(value.func.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            yield from kinds(node.value)


@pytest.mark.parametrize("text, intent, kind", [
    ("第十条讲什么", "ask_clause", "no_such_measure"),                 # clause → no such measure
    ("省发改委负责哪几条", "ask_units", "unknown_department"),          # units → a department not named
    ("出站博士后去开化的民营企业上班有补助吗", "ask_clause", "eligibility"),  # clause → a case to judge
    ("江苏的山区县有什么扶持政策", "ask_clause", "outside"),
    ("嗯嗯", "inform", "rephrase"),
    ("我在开化县", "inform", "county"),
])
def test_a_kinds_own_conditions_send_the_turn_on(text, intent, kind):
    assert routing.route(Understanding(text=text, intent=intent, confidence=0.95, entities={})) == kind


def test_two_kinds_that_send_the_turn_to_each_other_end_in_a_request_to_rephrase(monkeypatch):
    monkeypatch.setitem(routing.REFINE, "term", lambda u: "document")
    monkeypatch.setitem(routing.REFINE, "document", lambda u: "term")
    u = Understanding(text="飞入地是什么意思", intent="ask_term", confidence=0.95, entities={})
    assert routing.route(u) == "unclear"
