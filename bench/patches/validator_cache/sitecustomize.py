"""Bench lever: Rasa's RemoteAction checks every action server reply with `jsonschema.validate`,
which re-checks the (large, constant) schema itself on every call. This compiles the validator once.

Applied lazily: when `rasa.core.actions.action` is first imported, its RemoteAction is patched.
"""
import importlib.abc
import sys

TARGET = "rasa.core.actions.action"


def _patch(module) -> None:
    from jsonschema import ValidationError, validators

    cls = module.RemoteAction
    cache = {}

    def _validate_action_result(self, result):
        v = cache.get("v")
        if v is None:
            spec = self.action_response_format_spec()
            klass = validators.validator_for(spec)
            klass.check_schema(spec)
            v = cache["v"] = klass(spec)
        try:
            v.validate(result)
            return True
        except ValidationError as e:
            e.message += (". Failed to validate Action server response from API, make sure your "
                          "response from the Action endpoint is valid.")
            raise e

    cls._validate_action_result = _validate_action_result


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
