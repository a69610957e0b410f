# Sourced by .ci/run (bash): the tools the docs/connect examples need, so
# that the e2e/connect tests run them all inside the normal `go test`.
#
# - Python: Debian's python3-authlib and python3-requests (PyPI is not
#   reachable from CI), for /usr/bin/python3; exports SIGNET_CONNECT_PYTHON.
# - Node: `npm ci` in examples/connect/node (openid-client pinned by its
#   package.json and package-lock.json), again only when the lock changed.
# - oauth2-proxy: `go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6`
#   into a temporary GOBIN, then moved into a cache directory (it is not a
#   dependency of Signet); exports SIGNET_CONNECT_OAUTH2_PROXY.
#
# Idempotent: where it ran before it installs nothing (a few checks, about
# two seconds here). Runs on its own too: `bash .ci/connect.sh`.

set -euo pipefail # as .ci/run, which sources it
export PATH="$PATH:/usr/local/go/bin"
SIGNET_OAUTH2_PROXY_VERSION=v7.15.6

connect_log() { printf '==> connect: %s\n' "$*" >&2; }

connect_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n -- "$@"; fi
}

connect_apt() {
	connect_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null 2>&1 ||
		{ connect_as_root apt-get update >/dev/null && connect_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null; }
}

connect_setup() {
	local root start=$SECONDS
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

	export SIGNET_CONNECT_PYTHON=/usr/bin/python3
	if ! "$SIGNET_CONNECT_PYTHON" -c 'import authlib, requests' 2>/dev/null; then
		connect_log "installing python3-authlib and python3-requests"
		connect_apt python3-authlib python3-requests
	fi

	if ! command -v npm >/dev/null; then
		connect_log "installing nodejs and npm"
		connect_apt nodejs npm
	fi
	local node_dir="$root/examples/connect/node" lock_sum
	lock_sum="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
	if [ "$(cat "$node_dir/node_modules/.signet-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
		connect_log "npm ci in examples/connect/node"
		(cd "$node_dir" && npm ci --no-audit --no-fund >/dev/null)
		printf '%s\n' "$lock_sum" >"$node_dir/node_modules/.signet-lock-sha256"
	fi

	local cache="${SIGNET_CI_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/signet-ci/bin}"
	export SIGNET_CONNECT_OAUTH2_PROXY="$cache/oauth2-proxy-$SIGNET_OAUTH2_PROXY_VERSION"
	if [ ! -x "$SIGNET_CONNECT_OAUTH2_PROXY" ]; then
		connect_log "building oauth2-proxy $SIGNET_OAUTH2_PROXY_VERSION (go install, once; cached in $cache)"
		local gobin
		gobin="$(mktemp -d)"
		(cd "$gobin" && GOBIN="$gobin" GOFLAGS=-mod=mod go install "github.com/oauth2-proxy/oauth2-proxy/v7@$SIGNET_OAUTH2_PROXY_VERSION")
		mkdir -p "$cache"
		mv "$gobin/oauth2-proxy" "$SIGNET_CONNECT_OAUTH2_PROXY"
		rm -rf "$gobin"
	fi
	connect_log "ready in $((SECONDS - start))s: python $SIGNET_CONNECT_PYTHON, node $(node --version), $SIGNET_CONNECT_OAUTH2_PROXY"
}

connect_setup
