"""Custom Rasa input channels (registered in bot/credentials.yml)."""

# The Rasa server imports this package when it loads the channels: a good moment to apply the
# server-side tuning (see bot/server_tuning.py).
from bot import server_tuning as _server_tuning  # noqa: E402

_server_tuning.apply()
