#!/usr/bin/env bash
# `make compose-test`: the real stack through docker compose (tests/compose), on a machine
# prepared by scripts/docker-prepare.sh. Prints one summary line:
#   compose: N mails, N records, N jobs sent, 0 lost, 0 duplicates
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
images="$(mktemp)"
trap 'rm -f "$images"' EXIT
bash scripts/docker-prepare.sh "$images"
MAILPIPE_COMPOSE_IMAGES="$images" "$PY" -m pytest tests/compose -p no:cacheprovider \
  -o addopts="" --timeout 3600 -q ${PYTEST_ARGS:-}
