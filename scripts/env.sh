# Embedded defaults for every setting the assistant reads; sourced by the Makefile's targets.
# Anything already set in the environment wins.
: "${RASA_HOST:=127.0.0.1}"
: "${RASA_PORT:=5005}"
: "${ACTIONS_HOST:=127.0.0.1}"
: "${ACTIONS_PORT:=5055}"
: "${ACTION_ENDPOINT_URL:=http://${ACTIONS_HOST}:${ACTIONS_PORT}/webhook}"
: "${VAR_DIR:=var}"
: "${TRACKER_DB_URL:=sqlite:///${VAR_DIR}/tracker.db}"
# Rasa server processes: one per core, at most 2 unless set (each holds its own model). The
# workers of one server share conversation locks and channel state in SQLite files beside the
# tracker database (bot/locks.py, bot/shared_state.py); several servers use Redis instead.
: "${SANIC_WORKERS:=$(n=$(nproc 2>/dev/null || echo 1); [ "$n" -gt 2 ] && n=2; echo "$n")}"
: "${LOCK_STORE_TYPE:=bot.locks.SQLiteLockStore}"
: "${REDIS_HOST:=127.0.0.1}"
: "${REDIS_PORT:=6379}"
: "${REDIS_PASSWORD:=}"
: "${REDIS_DB:=1}"
: "${REDIS_KEY_PREFIX:=shanqu26}"
: "${WECHAT_TOKEN:=}"
: "${WECHAT_APPID:=}"
: "${WECHAT_SECRET:=}"
: "${WECHAT_AES_KEY:=}"
: "${WIDGET_ALLOWED_ORIGINS:=}"
# Public input guard, faults, Rasa's HTTP API and retention (docs/operations.md).
: "${GUARD_MAX_MESSAGE_CHARS:=1000}"
: "${GUARD_SENDER_PER_MINUTE:=20}"
: "${GUARD_CLIENT_PER_MINUTE:=60}"
: "${GUARD_CLIENT_EXEMPT:=127.0.0.1, ::1}"
: "${TRUSTED_PROXIES:=}"
: "${HTTP_REQUEST_TIMEOUT:=15}"
# Signs the widget's sessions; empty: a key generated once in var/widget-session.key.
: "${WIDGET_SESSION_SECRET:=}"
: "${ACTION_REPLY_TIMEOUT:=8}"
: "${RASA_ENABLE_API:=0}"
: "${RASA_API_TOKEN:=}"
: "${CONVERSATION_RETENTION_DAYS:=180}"
export GUARD_MAX_MESSAGE_CHARS GUARD_SENDER_PER_MINUTE GUARD_CLIENT_PER_MINUTE GUARD_CLIENT_EXEMPT \
  TRUSTED_PROXIES HTTP_REQUEST_TIMEOUT WIDGET_SESSION_SECRET ACTION_REPLY_TIMEOUT RASA_ENABLE_API \
  RASA_API_TOKEN CONVERSATION_RETENTION_DAYS
export RASA_HOST RASA_PORT ACTIONS_HOST ACTIONS_PORT ACTION_ENDPOINT_URL VAR_DIR TRACKER_DB_URL \
  SANIC_WORKERS LOCK_STORE_TYPE REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DB REDIS_KEY_PREFIX \
  WECHAT_TOKEN WECHAT_APPID WECHAT_SECRET WECHAT_AES_KEY WIDGET_ALLOWED_ORIGINS
# Quieter, reproducible TensorFlow on small machines; no telemetry, no network at run time.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED=false
export PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p "$VAR_DIR"
