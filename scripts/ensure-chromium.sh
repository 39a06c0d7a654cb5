#!/usr/bin/env bash
# The console's browser tests (test/console) drive a headless Chromium: Debian's `chromium`
# package, at /usr/bin/chromium (or CHROMIUM_PATH). Installs it when missing and this runs as root
# with apt-get (development and CI machines); otherwise says how, and the browser tests fail with
# the same message rather than being skipped.
set -euo pipefail

log() { printf '[infra] %s\n' "$*"; }

browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian's chromium for the console's browser tests (first run only)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  log "chromium installed: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
else
  log "warning: no Chromium at $browser: the console's browser tests will fail. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH."
fi
