"""Two costs of the stock Rasa server that the assistant does not need to pay on every turn.

Imported by the Rasa server process when it loads the channels (bot/channels/__init__.py).

* Rasa checks every action-server reply with ``jsonschema.validate``, which first re-checks the
  large, constant schema itself: a third of the server's CPU per message under load. The
  validator is built and its schema checked once; each reply is still validated in full.
* Each turn commits to the SQLite tracker store and, in SQLite's default rollback-journal mode,
  waits for the disk while the event loop is blocked. Write-ahead logging with
  ``synchronous=NORMAL`` keeps every committed turn across a crash of the process (only an
  operating-system crash or power loss may lose the last turns) and commits far faster.
  PostgreSQL, the production store, is not affected.
"""
from __future__ import annotations

import threading
from typing import Any, Dict

_lock = threading.Lock()
_applied = False


def compile_action_validation() -> None:
    """Rasa's RemoteAction validates replies with a validator built once (same checks)."""
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
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


def _sqlite_write_ahead_log() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # pragma: no branch - only SQLite
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        compile_action_validation()
        _sqlite_write_ahead_log()
        _applied = True
