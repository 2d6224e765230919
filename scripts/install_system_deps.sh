#!/usr/bin/env bash
# System packages the tests need beyond the Python venv and Go:
#   prometheus (Debian) -> `promtool` (rule checks and rule unit tests) and `prometheus`
#                          (the end-to-end stack and collector tests start a real one).
# Idempotent: does nothing when every tool is already on PATH.  Uses sudo only when not root.
set -euo pipefail

missing=()
for tool in promtool prometheus; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "install_system_deps.sh: need root or sudo to install: prometheus (missing: ${missing[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_system_deps.sh: no apt-get; install Prometheus (promtool, prometheus) yourself (missing: ${missing[*]})" >&2
  exit 1
fi

echo "install_system_deps.sh: installing prometheus (missing: ${missing[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The package enables a systemd service; the tests start their own Prometheus processes.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${SUDO[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
command -v promtool >/dev/null && command -v prometheus >/dev/null
