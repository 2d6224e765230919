#!/usr/bin/env bash
# The unit tests against the newest OpenTelemetry release on PyPI, our upper bound ignored.
#
# A second venv (.venv-newest, reused while pyproject.toml and the constraints are unchanged)
# holds the project with the pinned set, then every installed opentelemetry-* distribution is
# upgraded to its newest release (`pip install -U` resolves only the named packages, so our own
# `<1.46` does not hold them back; pip then reports the conflict with otel-chatbot, expected).
# Inside otel_chatbot/compat.py's tested range the fast-path tests demand each fast path; outside
# it they demand the public fallback with the same data. So a new SDK release shows here first.
#
# Trial of another release line (not CI): OTEL_TRIAL="opentelemetry-sdk==1.44.0" picks that
# instead of the newest (pip downgrades the rest to match), NEWEST_VENV=/tmp/v a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${NEWEST_VENV:-.venv-newest}
PIP=("$VENV/bin/python" -m pip -q --disable-pip-version-check)

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp=$VENV/.installed-$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  "${PIP[@]}" install -U pip
  "${PIP[@]}" install -c requirements/constraints.txt -e '.[dev]'
  rm -f "$VENV"/.installed-* && touch "$stamp"
fi

mapfile -t otel < <("$VENV/bin/python" -m pip --disable-pip-version-check list --format=freeze | grep -i '^opentelemetry-' | cut -d= -f1)
log=$VENV/upgrade.log
# shellcheck disable=SC2086  # OTEL_TRIAL is a list of requirement specifiers
if ! "${PIP[@]}" install -U "${otel[@]}" ${OTEL_TRIAL:-} >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
# Conflicts with otel-chatbot's own range are the point of this venv; anything else is shown.
grep -v -e "^ERROR: pip's dependency resolver" -e "^otel-chatbot .* requires opentelemetry-" "$log" || true

"$VENV/bin/python" - <<'EOF'
from importlib.metadata import version

from otel_chatbot import compat

lines = ", ".join(f"{name} {version(name)}" for name in ("opentelemetry-api", "opentelemetry-sdk",
                  "opentelemetry-exporter-otlp-proto-http", "opentelemetry-instrumentation"))
where = "inside" if compat.sdk_in_tested_range() else "OUTSIDE"
print(f"{lines}: {where} the tested range {compat.SDK_REQUIREMENT}, so the tests demand the "
      f"{'fast paths' if compat.sdk_in_tested_range() else 'public fallbacks'}")
EOF
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not e2e"
