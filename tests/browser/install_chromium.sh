#!/usr/bin/env bash
# Headless Chromium for tests/report_check.py, from Debian's packages.
# Exits 0 when a Chromium is on PATH (installing it as root with apt-get if
# need be), 1 with a message saying why not.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null; then
        exit 0
    fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "no Chromium on PATH, and installing it needs root and apt-get (Debian: apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/tmp/reproflow-chromium-install.log 2>&1; then
    apt-get update >>/tmp/reproflow-chromium-install.log 2>&1 || true
    if ! apt-get install -y --no-install-recommends chromium >>/tmp/reproflow-chromium-install.log 2>&1; then
        echo "apt-get install chromium failed (log: /tmp/reproflow-chromium-install.log):" >&2
        tail -5 /tmp/reproflow-chromium-install.log >&2
        exit 1
    fi
fi
command -v chromium >/dev/null
