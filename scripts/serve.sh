#!/usr/bin/env bash
# Starts the action server and the Rasa server on loopback, waits until both answer, and stops
# both on Ctrl-C (or when either exits). Expects scripts/bootstrap.sh and scripts/train.py done.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PY=.venv/bin/python
MODEL=$("$PY" scripts/train.py --print-path)
[ -f "$MODEL" ] || { echo "No trained model at $MODEL: run 'make train' first." >&2; exit 1; }
# A missing or corrupt model, an unreadable knowledge base, a conversation store that cannot be
# opened or the HTTP API on without a token: say so now, not in a log after start-up.
"$PY" scripts/preflight.py --model "$MODEL" || exit 1
LOGS="$VAR_DIR/logs"; mkdir -p "$LOGS"
# Rasa's HTTP API (conversations, model) stays off unless enabled, and then needs the token.
API_ARGS=()
case "${RASA_ENABLE_API:-0}" in
  1|true|yes|on) API_ARGS=(--enable-api --auth-token "$RASA_API_TOKEN") ;;
esac

# Conversation locks and channel state of a previous run (bot/shared_state.py) are dropped.
"$PY" -m bot.shared_state --remove-stale

pids=()
stop() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo; echo "Assistant stopped."
}
trap stop INT TERM EXIT

SANIC_HOST="$ACTIONS_HOST" "$PY" -m rasa_sdk --actions actions --port "$ACTIONS_PORT" \
  >"$LOGS/actions.log" 2>&1 &
pids+=($!)
"$PY" -m rasa run --model "$MODEL" --endpoints endpoints.yml --credentials bot/credentials.yml \
  -i "$RASA_HOST" --port "$RASA_PORT" ${API_ARGS[@]+"${API_ARGS[@]}"} ${RASA_EXTRA_ARGS:-} >"$LOGS/rasa.log" 2>&1 &
pids+=($!)

"$PY" scripts/wait_ready.py "http://$ACTIONS_HOST:$ACTIONS_PORT/health" "http://$RASA_HOST:$RASA_PORT/" \
  --timeout 180 --pids "${pids[@]}" || { echo "The assistant did not start; see $LOGS/" >&2; tail -n 30 "$LOGS/rasa.log" >&2; exit 1; }

cat <<MSG

  浙人社发〔2021〕22号 政策问答助手 is running.
    Web widget demo page:  http://$RASA_HOST:$RASA_PORT/webhooks/widget/demo
    REST channel:          POST http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook
                           {"sender": "me", "message": "创业担保贷款有什么优惠"}
    WeChat webhook:        http://$RASA_HOST:$RASA_PORT/webhooks/wechat/webhook ${WECHAT_TOKEN:+(configured)}
    Logs:                  $LOGS/
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
echo "A server exited; see $LOGS/" >&2
