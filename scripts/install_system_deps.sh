#!/usr/bin/env bash
# System packages the tests need beyond the Python venv and Go, one Debian package per tool:
#   prometheus -> `promtool` (rule checks and rule unit tests) and `prometheus` (the end-to-end
#                 stack and collector tests start a real one);
#   chromium   -> `chromium`, the headless browser the live stats page is tested in (driven by
#                 Playwright from the dev extra, which never downloads a browser of its own);
#   tmux       -> `tmux`, the real terminal `otel-chatbot top` is tested in.
# Idempotent: does nothing when every tool is already on PATH.  Uses sudo only when not root.
set -euo pipefail

declare -A package_of=([promtool]=prometheus [prometheus]=prometheus [chromium]=chromium [tmux]=tmux)

missing=()
packages=()
for tool in promtool prometheus chromium tmux; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    missing+=("$tool")
    package=${package_of[$tool]}
    [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "install_system_deps.sh: need root or sudo to install: ${packages[*]} (missing: ${missing[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_system_deps.sh: no apt-get; install ${packages[*]} yourself (missing: ${missing[*]})" >&2
  exit 1
fi

echo "install_system_deps.sh: installing ${packages[*]} (missing: ${missing[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# The prometheus package enables a systemd service; the tests start their own Prometheus processes.
if [[ " ${packages[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${SUDO[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
for tool in "${missing[@]}"; do
  command -v "$tool" >/dev/null
done
