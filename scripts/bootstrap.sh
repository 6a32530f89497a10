#!/usr/bin/env bash
# Creates (or refreshes) the project environment in .venv from uv.lock.
# Idempotent: when the lock and the interpreter are unchanged it returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local c
  if [ -n "${PYTHON310:-}" ]; then echo "$PYTHON310"; return; fi
  for c in /root/.pyenv/versions/3.10.*/bin/python3.10 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3.10 \
           "$(command -v python3.10 2>/dev/null || true)"; do
    if [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$c"; return
    fi
  done
  # Last resort: uv can provide its own 3.10.
  echo ""
}

TOOLS=.tools
UV="$TOOLS/bin/uv"
# Offline: from the bundle BUNDLE_DIR names, or bundle/ when it exists (`make bundle`,
# scripts/bundle_install.sh); no registry is reached. Otherwise online from uv.lock, as below.
BUNDLE=""
if [ -n "${BUNDLE_DIR:-}" ]; then
  [ -d "$BUNDLE_DIR" ] || { echo "[setup] BUNDLE_DIR=$BUNDLE_DIR: no such directory (unset BUNDLE_DIR to install from the registry)" >&2; exit 1; }
  BUNDLE=$BUNDLE_DIR
elif [ -d bundle ]; then
  BUNDLE=bundle
fi
if [ -n "$BUNDLE" ]; then
  source scripts/bundle_install.sh
  bundle_check
  [ -x "$UV" ] || bundle_install_uv
  bundle_install_models
elif [ ! -x "$UV" ]; then
  echo "[setup] installing uv into $TOOLS"
  base=$(command -v python3 || command -v python)
  "$base" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "uv==0.13.9"
fi

PY=$(find_python310)
stamp=.venv/.synced
# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE is set, or site-packages
# is read-only, every start would otherwise compile TensorFlow and Rasa again (several seconds).
want="$(sha256sum uv.lock pyproject.toml | sha256sum | cut -c1-16) ${PY:-uv-managed} bytecode"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/python ]; then
  exit 0
fi
if [ -n "$BUNDLE" ]; then
  bundle_install_env "$PY"
elif [ -n "$PY" ]; then
  echo "[setup] Python 3.10: $PY"
  "$UV" sync --frozen --compile-bytecode --python "$PY"
else
  echo "[setup] no Python 3.10 found; letting uv provide one"
  "$UV" python install 3.10
  "$UV" sync --frozen --compile-bytecode --python 3.10
fi
echo "$want" > "$stamp"
