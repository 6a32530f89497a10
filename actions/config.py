"""The settings the actions use, read once from the one settings object (bot/settings.py)."""
from __future__ import annotations

from bot.settings import Settings

_SETTINGS = Settings.from_env(check=False, lenient=True)

# Below this NLU confidence an out_of_scope prediction is checked against the knowledge base
# before the assistant declines: a bare keyword like "飞地" is a real question.
OOS_TRUST_CONFIDENCE: float = _SETTINGS.oos_trust_confidence
# Where people are sent for what the document does not answer.
HOTLINE: str = _SETTINGS.hotline
