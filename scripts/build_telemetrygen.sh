#!/usr/bin/env bash
# Build telemetrygen -- the load generator of opentelemetry-collector-contrib
# (cmd/telemetrygen) -- at the contrib release collector/manifest.yaml pins, and cache it.
# bench/collector_throughput.py drives otelcol-chatbot with it.
#
#   scripts/build_telemetrygen.sh            # build if needed; last stdout line = binary path
#   OTEL_CHATBOT_CACHE=/tmp/c scripts/build_telemetrygen.sh
#   OTEL_CHATBOT_REBUILD=1 scripts/build_telemetrygen.sh   # ignore the cache
#
# Cache layout:
#   ${OTEL_CHATBOT_CACHE:-$HOME/.cache/otel-chatbot}/tools/telemetrygen-<version>-<key>/telemetrygen
# where <key> is a sha256 over the version, the Go version/platform and the recipe below.
# `go install module@version` builds from the module's own go.mod through the Go module
# proxy (no replace directives needed for this module).  A cold build takes ~2.5 min on
# 2 cores (mostly downloads); cached ~0.03 s.
#
# Progress goes to stderr; only the binary path is printed on stdout.
set -euo pipefail

readonly RECIPE="go-install;ldflags=-s -w -buildid=;trimpath;cgo=0;buildvcs=false;v1"
readonly MODULE="github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen"

die() {
  printf 'build_telemetrygen.sh: ERROR: %s\n' "$*" >&2
  exit 1
}
log() { printf 'build_telemetrygen.sh: %s\n' "$*" >&2; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest="$repo_root/collector/manifest.yaml"
[[ -f "$manifest" ]] || die "manifest not found: $manifest"

# --- Go toolchain (scripts/go_env.sh, shared with build_collector.sh) ------------
# shellcheck source=scripts/go_env.sh
source "$repo_root/scripts/go_env.sh"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# --- Version: the contrib release the collector is built from -------------------
# (the `gomod:` lines only: `replaces:` pins a few transitive modules to older releases)
version=$(grep -E '^\s*-\s*gomod:' "$manifest" |
  grep -Eo 'opentelemetry-collector-contrib/[a-z/]+ v0\.[0-9]+\.[0-9]+' | awk '{print $2}' | sort -u)
[[ -n "$version" ]] || die "no opentelemetry-collector-contrib v0.x module in $manifest"
[[ $(wc -l <<<"$version") -eq 1 ]] ||
  die "manifest pins several contrib releases ($(tr '\n' ' ' <<<"$version")); pin exactly one"

key=$(printf '%s\n%s\n%s/%s\n%s\n' "$version" "$("$go_bin" env GOVERSION)" \
  "$("$go_bin" env GOOS)" "$("$go_bin" env GOARCH)" "$RECIPE" | sha256sum | cut -c1-16)
cache_root="${OTEL_CHATBOT_CACHE:-${HOME:?HOME is not set}/.cache/otel-chatbot}"
out_dir="$cache_root/tools/telemetrygen-$version-$key"
binary="$out_dir/telemetrygen"

serve_cached "$binary"
lock_build "$cache_root/tools/.lock-telemetrygen-$key" "$binary"

work_dir=$(mktemp -d "$cache_root/tools/build-telemetrygen-$key.XXXXXX")
trap 'rm -rf "$work_dir"' EXIT
log "installing $MODULE@$version ($("$go_bin" env GOVERSION))"
start=$(date +%s)
GOBIN="$work_dir" "$go_bin" install -trimpath -ldflags='-s -w -buildid=' "$MODULE@$version" >&2 ||
  die "could not build $MODULE@$version (is the Go module proxy reachable? GOPROXY=$GOPROXY)"
"$work_dir/telemetrygen" --help >/dev/null 2>&1 || die "built telemetrygen does not run"

rm -rf "$out_dir"
mkdir -p "$out_dir"
mv "$work_dir/telemetrygen" "$binary.tmp"
mv "$binary.tmp" "$binary"
log "built in $(($(date +%s) - start))s: $binary"
printf '%s\n' "$binary"
