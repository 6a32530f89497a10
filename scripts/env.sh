# Embedded defaults for every setting the assistant reads; sourced by the Makefile's targets.
# Anything already set in the environment wins.
: "${RASA_HOST:=127.0.0.1}"
: "${RASA_PORT:=5005}"
: "${ACTIONS_HOST:=127.0.0.1}"
: "${ACTIONS_PORT:=5055}"
: "${ACTION_ENDPOINT_URL:=http://${ACTIONS_HOST}:${ACTIONS_PORT}/webhook}"
: "${VAR_DIR:=var}"
: "${TRACKER_DB_URL:=sqlite:///${VAR_DIR}/tracker.db}"
: "${LOCK_STORE_TYPE:=in_memory}"
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
export RASA_HOST RASA_PORT ACTIONS_HOST ACTIONS_PORT ACTION_ENDPOINT_URL VAR_DIR TRACKER_DB_URL \
  LOCK_STORE_TYPE REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DB REDIS_KEY_PREFIX \
  WECHAT_TOKEN WECHAT_APPID WECHAT_SECRET WECHAT_AES_KEY WIDGET_ALLOWED_ORIGINS
# Quieter, reproducible TensorFlow on small machines; no telemetry, no network at run time.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED=false
export PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p "$VAR_DIR"
