#!/usr/bin/env bash
# Build the otelcol-chatbot collector distribution from collector/manifest.yaml
# with the OpenTelemetry Collector Builder (ocb), and cache the binary.
#
#   scripts/build_collector.sh            # build if needed; last stdout line = binary path
#   OTEL_CHATBOT_CACHE=/tmp/c scripts/build_collector.sh
#   OTEL_CHATBOT_REBUILD=1 scripts/build_collector.sh   # ignore the cache
#
# Cache layout:
#   ${OTEL_CHATBOT_CACHE:-$HOME/.cache/otel-chatbot}/collector/<key>/otelcol-chatbot
# where <key> is a sha256 over the manifest, the Go version/platform and the
# build recipe below, so the binary is rebuilt exactly when one of them changes.
#
# Reproducibility: ocb always compiles with -trimpath and CGO_ENABLED=0; we add
# -buildvcs=false, an empty build id and GOTOOLCHAIN=local (no toolchain switch),
# and the manifest pins every module to one collector release.
#
# Progress goes to stderr; only the binary path is printed on stdout.
set -euo pipefail

# Bump when the recipe (flags, builder invocation) changes: it is part of the key.
readonly RECIPE="ocb;ldflags=-s -w -buildid=;trimpath;cgo=0;buildvcs=false;v1"

die() {
  printf 'build_collector.sh: ERROR: %s\n' "$*" >&2
  exit 1
}
log() { printf 'build_collector.sh: %s\n' "$*" >&2; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest="$repo_root/collector/manifest.yaml"
[[ -f "$manifest" ]] || die "manifest not found: $manifest"

# --- Go toolchain (scripts/go_env.sh: $go_bin, GOTOOLCHAIN, CGO_ENABLED, caches, proxy) ---
# shellcheck source=scripts/go_env.sh
source "$repo_root/scripts/go_env.sh"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod"

go_version=$("$go_bin" env GOVERSION)
go_platform="$("$go_bin" env GOOS)/$("$go_bin" env GOARCH)"

# --- Builder version: the core release the manifest pins ---------------------
ocb_version=$(grep -Eo 'go\.opentelemetry\.io/collector/[a-z/]+ v0\.[0-9]+\.[0-9]+' "$manifest" |
  awk '{print $2}' | sort -u)
[[ -n "$ocb_version" ]] || die "no go.opentelemetry.io/collector v0.x module in $manifest"
[[ $(wc -l <<<"$ocb_version") -eq 1 ]] ||
  die "manifest pins several core releases ($(tr '\n' ' ' <<<"$ocb_version")); pin exactly one"

# --- Cache key ------------------------------------------------------------------
key=$({
  cat "$manifest"
  printf '\n%s\n%s\n%s\n%s\n' "$go_version" "$go_platform" "$ocb_version" "$RECIPE"
} | sha256sum | cut -c1-16)

cache_root="${OTEL_CHATBOT_CACHE:-${HOME:?HOME is not set}/.cache/otel-chatbot}"
out_dir="$cache_root/collector/$key"
binary="$out_dir/otelcol-chatbot"

serve_cached "$binary" "cached: $binary (key $key)"
lock_build "$cache_root/collector/.lock-$key" "$binary"

# --- Builder ----------------------------------------------------------------------
tools_dir="$cache_root/tools/ocb-$ocb_version"
builder="$tools_dir/builder"
if [[ ! -x "$builder" ]]; then
  log "installing go.opentelemetry.io/collector/cmd/builder@$ocb_version into $tools_dir"
  mkdir -p "$tools_dir"
  GOBIN="$tools_dir" "$go_bin" install "go.opentelemetry.io/collector/cmd/builder@$ocb_version" >&2 ||
    die "could not install the collector builder $ocb_version (is the Go module proxy reachable? GOPROXY=$GOPROXY)"
fi

# --- Build ------------------------------------------------------------------------
work_dir=$(mktemp -d "$cache_root/collector/build-$key.XXXXXX")
trap 'rm -rf "$work_dir"' EXIT
cp "$manifest" "$work_dir/manifest.yaml"
build_log="$cache_root/collector/build-$key.log"

log "building otelcol-chatbot (key $key, $go_version $go_platform, ocb $ocb_version); log: $build_log"
start=$(date +%s)
if ! (cd "$work_dir" && PATH="$(dirname "$go_bin"):$PATH" "$builder" \
  --config=manifest.yaml --ldflags='-s -w -buildid=' --verbose) >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2 || true
  die "ocb build failed (full log: $build_log)"
fi

built="$work_dir/_build/otelcol-chatbot"
[[ -x "$built" ]] || die "ocb finished but $built is missing (log: $build_log)"
"$built" --version >/dev/null 2>&1 || die "built binary does not run: $built (log: $build_log)"

rm -rf "$out_dir"
mkdir -p "$out_dir"
cp "$work_dir/_build/go.mod" "$work_dir/_build/go.sum" "$out_dir/" 2>/dev/null || true
mv "$built" "$binary.tmp"
mv "$binary.tmp" "$binary"
log "built in $(($(date +%s) - start))s: $binary"
printf '%s\n' "$binary"
