#!/usr/bin/env bash
# The reliability and security claims of docs/reliability.md, re-proven by one command: the
# fault, outage, crash, parity, budget, redaction and fuzz tests, one group at a time, then a
# summary table (group, tests passed / failed / skipped, seconds).
#
#   bash scripts/faults.sh            every group (fuzz bounded by the seeded "ci" profile)
#   bash scripts/faults.sh fuzz       the fuzz groups only, long: OTEL_CHATBOT_HYPOTHESIS=long,
#                                     OTEL_CHATBOT_HYPOTHESIS_EXAMPLES (default 5000) per test
#   bash scripts/faults.sh GROUP ...  the named groups (see `bash scripts/faults.sh list`)
#
# Works on a fresh clone: it installs the venv (scripts/bootstrap.sh) and builds the cached
# collector when they are missing. Exit status: 0 when every group passed.
set -uo pipefail
cd "$(dirname "$0")/.."

declare -A SUITES=(
  [parity]="tests/e2e/instrumentation/test_parity_bedrock.py tests/e2e/instrumentation/test_parity_providers.py tests/e2e/distro/test_distro_parity.py"
  [fuzz-unit]="tests/fuzz"
  [fuzz-wiring]="tests/fuzz"
  [hostile-values]="tests/unit/export/test_hostile_values.py tests/unit/export/test_safe_values.py tests/e2e/export/test_hostile_values_export.py"
  [budgets]="tests/unit/test_cardinality.py tests/unit/test_guard.py tests/e2e/instrumentation/test_budgets.py"
  [export-retry]="tests/unit/export/test_retaining_queue.py tests/unit/export/test_span_batching.py tests/unit/export/test_outage.py"
  [collector-outage]="tests/e2e/collector/test_outage_no_loss.py tests/e2e/collector/test_backend_outages.py"
  [collector-crash]="tests/e2e/collector/test_tail_sampling_crash.py tests/e2e/collector/test_end_to_end.py"
  [redaction]="tests/unit/genai/test_redaction.py tests/unit/genai/test_redaction_corpus.py tests/e2e/instrumentation/test_query_redaction.py"
)
declare -A MARKERS=([fuzz-unit]="not e2e" [fuzz-wiring]="e2e")
ORDER=(parity fuzz-unit fuzz-wiring hostile-values budgets export-retry collector-outage collector-crash redaction)
FUZZ=(fuzz-unit fuzz-wiring hostile-values)

selected=("${ORDER[@]}")
case "${1:-}" in
  list) for g in "${ORDER[@]}"; do printf "%-17s %s%s\n" "$g" "${SUITES[$g]}" "${MARKERS[$g]:+ (-m \"${MARKERS[$g]}\")}"; done; exit 0 ;;
  fuzz)
    export OTEL_CHATBOT_HYPOTHESIS=long
    export OTEL_CHATBOT_HYPOTHESIS_EXAMPLES="${OTEL_CHATBOT_HYPOTHESIS_EXAMPLES:-5000}"
    selected=("${FUZZ[@]}") ;;
  "") ;;
  *)
    selected=("$@")
    for g in "${selected[@]}"; do
      [[ -n "${SUITES[$g]+x}" ]] || { echo "unknown group '$g'; groups: ${ORDER[*]}" >&2; exit 2; }
    done ;;
esac

[[ -x .venv/bin/python ]] || bash scripts/bootstrap.sh
for g in "${selected[@]}"; do
  if [[ "$g" == collector-* ]]; then bash scripts/build_collector.sh | tail -n 1; break; fi
done

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
for g in "${selected[@]}"; do
  read -r -a args <<<"${SUITES[$g]}"
  marker=()
  [[ -n "${MARKERS[$g]+x}" ]] && marker=(-m "${MARKERS[$g]}")
  echo "== $g: ${args[*]} ${marker[*]}"
  start=$(date +%s)
  .venv/bin/python -m pytest -q -p no:cacheprovider "${marker[@]}" --junitxml="$results/$g.xml" "${args[@]}" 2>&1 | tail -n 5
  rc=${PIPESTATUS[0]}
  echo "$g $rc $(( $(date +%s) - start ))" >>"$results/times"
  [[ $rc -eq 0 || $rc -eq 5 ]] || status=1
done

echo
echo "== summary (hypothesis profile: ${OTEL_CHATBOT_HYPOTHESIS:-ci}${OTEL_CHATBOT_HYPOTHESIS_EXAMPLES:+, $OTEL_CHATBOT_HYPOTHESIS_EXAMPLES examples})"
.venv/bin/python - "$results" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

results = Path(sys.argv[1])
print(f"{'group':<17} {'tests':>5} {'passed':>6} {'failed':>6} {'skipped':>7} {'seconds':>7}  result")
for line in (results / "times").read_text().splitlines():
    group, rc, seconds = line.split()
    tests = failed = skipped = 0
    report = results / f"{group}.xml"
    if report.exists():
        for suite in ET.parse(report).getroot().iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
    verdict = "ok" if rc in ("0", "5") else "FAILED"
    print(f"{group:<17} {tests:>5} {tests - failed - skipped:>6} {failed:>6} {skipped:>7} {seconds:>7}  {verdict}")
EOF
exit $status
