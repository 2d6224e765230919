#!/usr/bin/env bash
# The main job: the demo chatbot under the distro, on embedded defaults (no Docker, no AWS).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/otel-chatbot demo "$@"
