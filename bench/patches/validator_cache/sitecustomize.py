"""Bench lever: Rasa's RemoteAction checks every action server reply with `jsonschema.validate`,
which re-checks the (large, constant) schema itself on every call. This compiles the validator once.

Applied lazily: when `rasa.core.actions.action` is first imported, its RemoteAction is patched.
"""
import importlib.abc
import sys

TARGET = "rasa.core.actions.action"


def _patch(module) -> None:
    # The assistant's own patch (bot/patches/action_validation.py; the repository root is on
    # PYTHONPATH).
    from bot import patches

    patches.apply("action_validation", None)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)
            sys.meta_path[:] = [f for f in sys.meta_path if f is not self]

        spec.loader.exec_module = exec_and_patch
        return spec


sys.meta_path.insert(0, _Finder())
