#!/usr/bin/env bash
# Downloads the Debian packages of scripts/install_system_deps.sh (Chromium and its driver, the CJK
# font, PostgreSQL, Redis, nginx) with every package they depend on, into DEB_DIR (default
# bundle/debs), for a machine of the same Debian release that reaches no mirror:
#   there:  apt-get install --no-install-recommends ./debs/*.deb
# Run on a machine with the same release and architecture and a reachable mirror (root not
# needed for downloading; `apt-get update` first). A package already installed here is downloaded
# too: the target may lack it.
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_DIR=${DEB_DIR:-${BUNDLE_DIR:-bundle}/debs}
mkdir -p "$DEB_DIR"

# The package names of SYSTEM_DEPS ("<marker>|<package> ..."), as install_system_deps.sh installs them.
mapfile -t wanted < <(sed -n 's/^ *"[^"|]*|\([^"]*\)".*/\1/p' scripts/install_system_deps.sh | tr ' ' '\n' | sed '/^$/d')
[ ${#wanted[@]} -gt 0 ] || { echo "[debs] no packages found in scripts/install_system_deps.sh" >&2; exit 1; }

# Everything they need, as apt would install it with --no-install-recommends.
mapfile -t all < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${wanted[@]}" | sed -n 's/^\([a-z0-9][^ :<>]*\).*/\1/p' | sort -u)
echo "[debs] ${wanted[*]}: ${#all[@]} packages with their dependencies, into $DEB_DIR"
(cd "$DEB_DIR" && apt-get download "${all[@]}" 2>&1 | grep -v '^Get:' || true)
(cd "$DEB_DIR" && sha256sum ./*.deb > SHA256SUMS)
{
  echo "# Versions downloaded on $(date -u +%Y-%m-%d) ($(. /etc/os-release && echo "$PRETTY_NAME"), $(dpkg --print-architecture))"
  for p in "${wanted[@]}"; do
    echo "$p $(apt-cache policy "$p" | sed -n 's/ *Candidate: //p')"
  done
} > "$DEB_DIR/VERSIONS"
echo "[debs] $(ls "$DEB_DIR"/*.deb | wc -l) files, $(du -sh "$DEB_DIR" | cut -f1); versions in $DEB_DIR/VERSIONS"
