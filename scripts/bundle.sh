#!/usr/bin/env bash
# `make bundle`: everything needed to install and run the assistant on a machine of the same kind
# (Linux x86-64, Python 3.10) that reaches no package registry, in one directory, BUNDLE_DIR
# (default bundle/, git-ignored):
#
#   wheels/            every package of uv.lock (all groups: `make test` runs there too), as wheels
#                      for this machine's Python 3.10 and platform; packages published only as
#                      source are built into wheels here. uv itself is one of them.
#   requirements.txt   the same list, exported from uv.lock (name==version)
#   models/            the trained model of this checkout
#   source.tar.gz      the committed code (git archive HEAD), for a target that has no clone
#   MANIFEST           uv.lock's hash, the model, the commit, the Python and platform it was built for
#   SHA256SUMS         the checksum of every file above (`sha256sum -c SHA256SUMS` in BUNDLE_DIR)
#
# On the target, `make setup` (and so `make run`, `make test`) installs from BUNDLE_DIR when it
# exists, offline (scripts/bootstrap.sh). Run again after uv.lock changed: the wheels are fetched
# again only when the lock's hash differs from the one they were fetched for.
set -euo pipefail
cd "$(dirname "$0")/.."

BUNDLE_DIR=${BUNDLE_DIR:-bundle}
UV=.tools/bin/uv
UV_VERSION=$("$UV" --version | awk '{print $2}')
[ -x .venv/bin/python ] || { echo "[bundle] no .venv: run 'make setup' first" >&2; exit 1; }
# The interpreter the environment was built on (.venv/pyvenv.cfg), whose tags the wheels must fit.
BASE_PY="$(sed -n 's/^home = //p' .venv/pyvenv.cfg)/python3.10"
[ -x "$BASE_PY" ] || BASE_PY=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
LOCK_HASH=$(sha256sum uv.lock | cut -c1-16)

mkdir -p "$BUNDLE_DIR/wheels" "$BUNDLE_DIR/models"
BUNDLE_DIR=$(cd "$BUNDLE_DIR" && pwd)

"$UV" export --frozen --all-groups --no-emit-project --format requirements-txt --no-hashes \
  --quiet -o "$BUNDLE_DIR/requirements.txt"
# The same list with the lock's hashes: every file downloaded is checked against uv.lock.
hashed=$(mktemp)
trap 'rm -f "$hashed"; rm -rf "${pipenv:-}"' EXIT
"$UV" export --frozen --all-groups --no-emit-project --format requirements-txt --quiet -o "$hashed"

stamp="$BUNDLE_DIR/wheels/.lock-hash"
if [ "$(cat "$stamp" 2>/dev/null)" = "$LOCK_HASH uv-$UV_VERSION" ]; then
  echo "[bundle] wheels of uv.lock $LOCK_HASH already in $BUNDLE_DIR/wheels"
else
  echo "[bundle] fetching the wheels of uv.lock $LOCK_HASH for $("$BASE_PY" -V) into $BUNDLE_DIR/wheels"
  rm -f "$BUNDLE_DIR"/wheels/*.whl "$stamp"
  # pip's `wheel` command downloads a package's wheel where one fits this interpreter and
  # platform, and builds one from the source distribution where none is published (jieba, docopt...).
  pipenv=$(mktemp -d)
  "$BASE_PY" -m venv "$pipenv"
  started=$SECONDS
  pip() {  # this machine's pip settings may name extra local indexes: their absence is no error
    "$pipenv/bin/pip" "$@" --quiet --disable-pip-version-check --progress-bar off \
      2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2 || true)
  }
  pip wheel --no-deps --use-pep517 --require-hashes -r "$hashed" -w "$BUNDLE_DIR/wheels"
  pip download --no-deps --only-binary=:all: "uv==$UV_VERSION" -d "$BUNDLE_DIR/wheels"
  echo "[bundle] wheels fetched in $((SECONDS - started)) s"
  echo "$LOCK_HASH uv-$UV_VERSION" > "$stamp"
fi

# The model this checkout serves (RASA_MODEL when set), trained by `make train` beforehand.
source scripts/env.sh
MODEL=$(.venv/bin/python scripts/train.py --print-path 2>/dev/null | tail -n 1)
[ -f "$MODEL" ] || { echo "[bundle] no trained model at $MODEL: run 'make train' first" >&2; exit 1; }
find "$BUNDLE_DIR/models" -name '*.tar.gz' ! -name "$(basename "$MODEL")" -delete
[ -f "$BUNDLE_DIR/models/$(basename "$MODEL")" ] || cp "$MODEL" "$BUNDLE_DIR/models/"

COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$COMMIT" != unknown ]; then
  git archive --format=tar.gz -o "$BUNDLE_DIR/source.tar.gz" HEAD
fi

cat > "$BUNDLE_DIR/MANIFEST" <<EOF
lock_hash=$LOCK_HASH
uv_version=$UV_VERSION
python=$("$BASE_PY" -c 'import platform; print(platform.python_version())')
platform=$(uname -s)-$(uname -m)
model=$(basename "$MODEL")
commit=$COMMIT
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF

(cd "$BUNDLE_DIR" && find . -type f ! -name SHA256SUMS ! -name .lock-hash -printf '%P\n' | LC_ALL=C sort \
   | xargs -d '\n' sha256sum > SHA256SUMS)
wheels=$(find "$BUNDLE_DIR/wheels" -name '*.whl' | wc -l)
echo "[bundle] $BUNDLE_DIR: $wheels wheels, model $(basename "$MODEL"), $(du -sh "$BUNDLE_DIR" | cut -f1) in all"
