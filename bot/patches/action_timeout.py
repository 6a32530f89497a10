"""One action call may take ``ACTION_CALL_TIMEOUT`` seconds (default 20), at most a third of the
conversation lock's lifetime, so that a hung action server never outlives the lock
(bot/locks.py). Rasa's own limit is 300 s.

Changes ``rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT``, read by ``RemoteAction.run`` on each
call (Rasa 3.6).
"""
from __future__ import annotations

from typing import Any, Dict

from bot import patches

WRITTEN_FOR = {"rasa": "3.6"}
DEFAULT_S = 20.0
STOCK: Dict[str, Any] = {}


def call_timeout(settings: Any) -> float:
    from rasa.core.lock_store import LOCK_LIFETIME

    wanted = getattr(settings, "action_call_timeout", DEFAULT_S) or DEFAULT_S
    return min(wanted, LOCK_LIFETIME / 3)


def apply(settings: Any) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from rasa.core.actions import action

    STOCK["timeout"] = action.DEFAULT_REQUEST_TIMEOUT
    action.DEFAULT_REQUEST_TIMEOUT = call_timeout(settings)
