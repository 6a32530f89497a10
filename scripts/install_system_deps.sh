#!/usr/bin/env bash
# Installs the Debian packages the project needs outside its Python environment.
# Idempotent: a package group is installed only when its marker file is missing, so a second run
# does nothing and needs no network. Run as root (CI does); `sudo` is used when available otherwise.
#
# To add a system dependency, append one line to SYSTEM_DEPS:
#   "<file that exists once installed>|<package> [<package> ...]"
set -euo pipefail

SYSTEM_DEPS=(
  # Headless browser for the web widget's browser tests (driven by Playwright, never downloaded).
  "/usr/bin/chromium|chromium chromium-driver"
  # A CJK font, so that the browser renders (and screenshots show) the widget's Chinese text.
  "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc|fonts-wqy-zenhei"
  # The production profile's stores and load balancer, started on loopback by the scale-out tests
  # (tests/scale/): PostgreSQL tracker store, Redis lock store, nginx in front of two Rasa servers.
  # Only the binaries are used; the tests run their own throwaway instances, never the system services.
  "/usr/bin/pg_createcluster|postgresql"
  "/usr/bin/redis-server|redis-server"
  "/usr/sbin/nginx|nginx"
)

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "[system-deps] must run as root (or with sudo available)" >&2
  exit 1
fi

missing=()
for entry in "${SYSTEM_DEPS[@]}"; do
  marker=${entry%%|*}
  packages=${entry#*|}
  if [ -e "$marker" ]; then
    echo "[system-deps] $marker present; skipping: $packages"
  else
    # shellcheck disable=SC2206  # package lists are space-separated on purpose
    missing+=($packages)
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "[system-deps] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
