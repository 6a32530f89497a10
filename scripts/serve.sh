#!/usr/bin/env bash
# Starts the action server and the Rasa server on loopback and keeps them running: one that
# exits (or stops answering) is restarted with back-off while the other goes on (bot/supervisor.py).
# Ctrl-C stops both. Expects scripts/bootstrap.sh and scripts/train.py done.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PY=.venv/bin/python
MODEL=$("$PY" scripts/train.py --print-path)
[ -f "$MODEL" ] || { echo "No trained model at $MODEL: run 'make train' first." >&2; exit 1; }
# A missing or corrupt model, an unreadable knowledge base, a conversation store that cannot be
# opened or is damaged, or the HTTP API on without a token: say so now, not in a log after start-up.
"$PY" scripts/preflight.py --model "$MODEL" || exit 1
LOGS="$VAR_DIR/logs"; mkdir -p "$LOGS"
# Rasa's HTTP API (conversations, model) stays off unless enabled, and then needs the token
# (RASA_ENABLE_API, RASA_API_TOKEN); the supervisor refuses the API without one. Conversation
# locks and channel state of a previous run (bot/shared_state.py) are dropped before each start
# of Rasa.
exec "$PY" -m bot.supervisor --model "$MODEL" --logs "$LOGS"
