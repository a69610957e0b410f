#!/usr/bin/env bash
# CI for Signet's openssl build (-tags openssl, cgo, libcrypto 3.x; see
# docs/openssl.md): install what the build needs when it is missing, then
# vet the signer packages, run the whole test suite with the tag and the
# race detector, and build the whole tree with the tag.
#
# Idempotent. Called by .ci/run after the pure-Go suite; runs on its own
# too. Installs from the Debian mirror only when pkg-config cannot find
# libcrypto (or no C compiler is there).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=1

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ci/openssl: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo -n -- "$@"
	fi
}

# apt_install installs missing Debian packages (never upgrading one that is
# there); it refreshes the package lists only when installing from the
# current ones fails.
apt_install() {
	command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	if ! as_root apt-get install -y --no-install-recommends --no-upgrade "$@"; then
		as_root apt-get update
		as_root apt-get install -y --no-install-recommends --no-upgrade "$@"
	fi
}

missing=()
if ! { command -v pkg-config >/dev/null && pkg-config --exists libcrypto; }; then
	missing+=(libssl-dev pkg-config)
fi
if ! command -v "${CC:-gcc}" >/dev/null; then
	missing+=(gcc libc6-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "${missing[@]}"
fi
pkg-config --atleast-version=3.0 libcrypto ||
	die "libcrypto $(pkg-config --modversion libcrypto) found; the openssl build needs 3.x"
log "libcrypto $(pkg-config --modversion libcrypto), $(openssl version 2>/dev/null || echo 'no openssl command')"

# With cgo off, -tags openssl silently builds the pure-Go backend; make
# sure the tag takes.
go list -tags openssl -deps ./signer/backend | grep -qx 'github.com/signet-id/signet/signer/openssl' ||
	die "-tags openssl does not select signer/openssl (is cgo enabled? go env CGO_ENABLED = $(go env CGO_ENABLED))"

log "go vet -tags openssl (signer)"
go vet -tags openssl ./signer/...

log "go test -race -tags openssl ./... (the whole suite again, on the OpenSSL backend)"
go test -race -tags openssl ./...

log "go build -tags openssl ./..."
go build -tags openssl ./...
