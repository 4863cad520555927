#!/usr/bin/env bash
# Prepares the browser tests (tests/browser, docs/console.md "Browser tests"): Debian's Chromium
# and a font from Debian's packages. The Python side comes from pyproject's dev extras (`make
# install`): `playwright` (the driver; no browser of its own is ever downloaded, the tests launch
# /usr/bin/chromium) and `axe-playwright-python`, which ships axe-core's axe.min.js.
# Idempotent: nothing is fetched when /usr/bin/chromium exists. Where it cannot be installed (no
# root, no apt-get) it says so and exits 0: the browser tests then fail saying how to install it.
set -u

CHROMIUM=/usr/bin/chromium
PACKAGES="chromium fonts-liberation"

if [ -x "$CHROMIUM" ]; then
  echo "browser-prepare: $("$CHROMIUM" --version 2>/dev/null | head -n1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-prepare: no apt-get here: install Chromium at $CHROMIUM by hand" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "browser-prepare: not root: run 'sudo apt-get install -y $PACKAGES'" >&2
    exit 0
  fi
fi

echo "browser-prepare: installing $PACKAGES from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || echo "browser-prepare: apt-get update failed" >&2
# shellcheck disable=SC2086  # the package list is meant to split
if ! $SUDO apt-get install -y -qq $PACKAGES >/dev/null; then
  echo "browser-prepare: 'apt-get install -y $PACKAGES' failed: the browser tests will say so" >&2
  exit 0
fi
echo "browser-prepare: $("$CHROMIUM" --version 2>/dev/null | head -n1)"
exit 0
