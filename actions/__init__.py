"""The action server: answers every question from policy_kb, quoting the clause it rests on."""
from bot.privacy import install as _mask_personal_numbers_in_logs  # ID-card and mobile numbers
_mask_personal_numbers_in_logs()
