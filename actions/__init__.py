"""The action server: answers every question from policy_kb, quoting the clause it rests on."""
from bot.privacy import install as _mask_personal_numbers_in_logs  # ID-card and mobile numbers
_mask_personal_numbers_in_logs()

# Load the knowledge base and build its search index when the server starts, not on the first
# question somebody asks.
from policy_kb import get_kb as _get_kb  # noqa: E402

_get_kb().warm()
