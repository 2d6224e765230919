# Sourced by build_collector.sh and build_telemetrygen.sh (which define die): finds the Go
# toolchain ($go_bin; GO=/path/to/go wins) and exports the build environment both share --
# no toolchain switch, no cgo, the normal module/build caches and proxy (only defaulted,
# never overriding what the caller set).
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
