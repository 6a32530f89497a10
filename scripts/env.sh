# What the shell scripts and the Makefile's targets need; sourced by them. Anything already set
# in the environment wins. Every setting of the assistant has its one default in bot/settings.py
# (`python -m bot.settings` lists them); the servers read them there, not here.
# tests/test_settings.py checks that the defaults below are those of bot/settings.py.
: "${VAR_DIR:=var}"
export VAR_DIR
# Quieter, reproducible TensorFlow on small machines; no telemetry, no network at run time.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export RASA_TELEMETRY_ENABLED=false
export PYTHONHASHSEED="${PYTHONHASHSEED:-0}"
export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p "$VAR_DIR"
