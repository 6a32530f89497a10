"""Settings the actions read from the environment, in one place."""
from __future__ import annotations

import os

# Below this NLU confidence an out_of_scope prediction is checked against the knowledge base
# before the assistant declines: a bare keyword like "飞地" is a real question.
OOS_TRUST_CONFIDENCE = float(os.environ.get("OOS_TRUST_CONFIDENCE", "0.80"))
# How many clauses an "ambiguous" reply offers as buttons.
MAX_CHOICES = 3
# Where people are sent for what the document does not answer.
HOTLINE = "12333"
