"""Custom Rasa input channels (registered in bot/credentials.yml)."""

# The Rasa server imports this package when it loads the channels: a good moment to apply the
# server-side tuning (see bot/server_tuning.py) and the limits on HTTP requests themselves
# (bot/channels/http_limits.py), before the server starts.
from bot import server_tuning as _server_tuning  # noqa: E402
from bot.channels import http_limits as _http_limits  # noqa: E402

_server_tuning.apply()
_http_limits.apply()
