#!/usr/bin/env bash
# Everything the tests need on a fresh machine: the Python packages, and Debian's Chromium + ChromeDriver
# for the one browser test (installed only when missing; needs root or sudo, as on our CI machines).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements-dev.txt
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
