# Sourced by build_collector.sh and build_telemetrygen.sh (which define die and log): finds the
# Go toolchain ($go_bin; GO=/path/to/go wins) and exports the build environment both share --
# no toolchain switch, no cgo, the normal module/build caches and proxy (only defaulted,
# never overriding what the caller set) -- and gives both the same binary cache protocol
# (serve_cached, lock_build).
go_bin=${GO:-}
if [[ -z "$go_bin" ]]; then
  go_bin=$(command -v go || true)
  [[ -z "$go_bin" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
fi
[[ -n "$go_bin" && -x "$go_bin" ]] ||
  die "Go toolchain not found (install Go >= 1.24 and put it on PATH, or set GO=/path/to/go)"

export GOTOOLCHAIN=local
export CGO_ENABLED=0
GOMODCACHE="${GOMODCACHE:-$("$go_bin" env GOMODCACHE)}"
GOCACHE="${GOCACHE:-$("$go_bin" env GOCACHE)}"
GOPROXY="${GOPROXY:-$("$go_bin" env GOPROXY)}"
export GOMODCACHE GOCACHE GOPROXY

# serve_cached BINARY [MESSAGE]: when BINARY is built (and OTEL_CHATBOT_REBUILD is unset), log
# MESSAGE (default "cached: BINARY"), print its path as the script's last stdout line and end
# the script.
serve_cached() {
  if [[ -x "$1" && -z "${OTEL_CHATBOT_REBUILD:-}" ]]; then
    log "${2:-cached: $1}"
    printf '%s\n' "$1"
    exit 0
  fi
}

# lock_build LOCK_FILE BINARY: one build per cache key at a time -- parallel runs wait for the
# first, then serve what it built.
lock_build() {
  mkdir -p "$(dirname "$1")" || die "cannot create cache dir $(dirname "$1")"
  exec 9>"$1"
  if command -v flock >/dev/null; then
    flock 9
  fi
  serve_cached "$2" "cached (built by a concurrent run): $2"
}
