#!/usr/bin/env bash
# Everything CI runs: install, lint, type-check, unit tests, then the tests that start servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "== lint and types"
.venv/bin/ruff check otel_chatbot
.venv/bin/mypy
echo "== unit tests"
.venv/bin/python -m pytest -q -p no:cacheprovider -m "not e2e"
echo "== end-to-end tests (real servers on loopback)"
.venv/bin/python -m pytest -q -p no:cacheprovider -m e2e
