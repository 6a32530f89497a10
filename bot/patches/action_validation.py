"""Rasa checks every action-server reply with ``jsonschema.validate``, which first re-checks the
large, constant schema itself: a third of the server's CPU per message under load. The validator
is built and its schema checked once; each reply is still validated in full, and an invalid one
is still rejected with Rasa's own message.

Changes ``rasa.core.actions.action.RemoteAction._validate_action_result`` (Rasa 3.6).
"""
from __future__ import annotations

from typing import Any, Dict

from bot import patches

WRITTEN_FOR = {"rasa": "3.6"}
STOCK: Dict[str, Any] = {}


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    original = STOCK["validate"] = RemoteAction._validate_action_result
    holder: Dict[str, Any] = {}

    def _validate_action_result(self, result: Dict[str, Any]) -> bool:
        validator = holder.get("validator")
        if validator is None:
            spec = self.action_response_format_spec()
            cls = validators.validator_for(spec)
            cls.check_schema(spec)
            validator = holder["validator"] = cls(spec)
        try:
            validator.validate(result)
        except ValidationError:
            return original(self, result)  # the original raises with Rasa's own message
        return True

    RemoteAction._validate_action_result = _validate_action_result
