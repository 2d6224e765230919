#!/usr/bin/env bash
# Everything CI runs: install what the tests need, lint, type-check, unit tests (also against
# the newest OpenTelemetry release), then the tests that start real servers (uvicorn,
# otelcol-chatbot, Prometheus, moto) on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/install_system_deps.sh
echo "== collector build (cached by manifest hash)"
bash scripts/build_collector.sh | tail -n 1
echo "== dependency audit: pip-audit over requirements/constraints.txt (SKIPPED/INCOMPLETE when no service answers)"
.venv/bin/python scripts/audit_dependencies.py
echo "== lint and types"
.venv/bin/ruff check .
.venv/bin/mypy
echo "== unit tests"
.venv/bin/python -m pytest -q -p no:cacheprovider -m "not e2e"
echo "== unit tests against the newest OpenTelemetry release on PyPI (our upper bound ignored)"
bash scripts/test_newest_sdk.sh
echo "== end-to-end tests (real servers on loopback)"
.venv/bin/python -m pytest -q -p no:cacheprovider -m e2e
