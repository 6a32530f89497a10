# Offline install from a bundle made by `make bundle` (scripts/bundle.sh). Sourced by
# scripts/bootstrap.sh when BUNDLE_DIR names a directory, or when bundle/ exists; never reaches a
# package registry: pip and uv get --no-index, uv runs in offline mode, the only packages they see
# are the bundle's wheels. Whatever is missing stops the install with a message that names it.

bundle_fail() {
  echo "[setup] offline install from $BUNDLE: $*" >&2
  exit 1
}

# The bundle is complete and was made for this checkout's uv.lock.
bundle_check() {
  local f
  for f in MANIFEST SHA256SUMS requirements.txt wheels; do
    [ -e "$BUNDLE/$f" ] || bundle_fail "$f is missing: build the bundle with 'make bundle' on a machine with registry access"
  done
  local want have
  want=$(sha256sum uv.lock | cut -c1-16)
  have=$(sed -n 's/^lock_hash=//p' "$BUNDLE/MANIFEST")
  [ "$want" = "$have" ] || bundle_fail "it was built for uv.lock $have, this checkout has $want: build it again ('make bundle') from this commit"
}

bundle_verify() {
  echo "[setup] checking $BUNDLE/SHA256SUMS"
  local bad
  if ! bad=$(cd "$BUNDLE" && sha256sum --check --quiet SHA256SUMS 2>&1); then
    bundle_fail "files missing or damaged (copy the bundle again):"$'\n'"$bad"
  fi
}

# uv itself, from its wheel in the bundle, into .tools (as the online path does from the registry).
bundle_install_uv() {
  local version base
  version=$(sed -n 's/^uv_version=//p' "$BUNDLE/MANIFEST")
  ls "$BUNDLE"/wheels/uv-"$version"-*.whl >/dev/null 2>&1 || bundle_fail "wheels/uv-$version-*.whl is missing"
  base=$(command -v python3 || command -v python || find_python310)
  [ -n "$base" ] || bundle_fail "no Python found to install uv with: install Python 3.10 (see docs/zh/deploy.md)"
  echo "[setup] installing uv $version into $TOOLS from $BUNDLE/wheels"
  "$base" -m venv "$TOOLS" || bundle_fail "'$base -m venv' failed (on Debian: the python3-venv package)"
  PIP_CONFIG_FILE=/dev/null "$TOOLS/bin/pip" install --isolated --quiet --disable-pip-version-check \
    --no-index --find-links "$BUNDLE/wheels" "uv==$version" || bundle_fail "uv $version did not install from wheels/"
}

# The locked environment in .venv, from the bundle's wheels only. `uv sync` would fetch the files
# named in uv.lock; `uv pip sync` of the list exported from the same lock gives the same packages
# at the same versions (tests/deploy/test_bundle.py compares both) from --find-links alone.
bundle_install_env() {
  local py=$1
  [ -n "$py" ] || bundle_fail "no Python 3.10 found (looked for PYTHON310, ~/.pyenv/versions/3.10.*, python3.10 on PATH); offline, uv cannot download one: install Python 3.10 or set PYTHON310=/path/to/python3.10"
  bundle_verify
  echo "[setup] Python 3.10: $py; installing the locked environment from $BUNDLE/wheels (offline)"
  export UV_OFFLINE=1 UV_NO_INDEX=1 UV_PYTHON_DOWNLOADS=never
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    "$UV" venv --quiet --clear --python "$py" .venv || bundle_fail "could not create .venv with $py"
  fi
  "$UV" pip sync --offline --no-index --find-links "$BUNDLE/wheels" --python .venv/bin/python \
    --compile-bytecode "$BUNDLE/requirements.txt" \
    || bundle_fail "the wheels above are missing from wheels/ or do not fit this machine (Linux x86-64, Python 3.10): build the bundle again with 'make bundle' on a machine like this one"
}

# The bundle's model, into models/ (scripts/train.py then finds it up to date and trains nothing).
bundle_install_models() {
  local m name sum
  for m in "$BUNDLE"/models/*.tar.gz; do
    [ -f "$m" ] || continue
    name=$(basename "$m")
    [ -f "models/$name" ] && continue
    sum=$(grep "  models/$name\$" "$BUNDLE/SHA256SUMS" | cut -d' ' -f1)
    [ "$sum" = "$(sha256sum "$m" | cut -d' ' -f1)" ] || bundle_fail "models/$name is damaged or not in SHA256SUMS"
    mkdir -p models
    cp "$m" "models/$name.part" && mv "models/$name.part" "models/$name"
    echo "[setup] model from the bundle: models/$name"
  done
}
