# Sourced by .ci/run (bash): real key backends for the HSM/KMS tests
# (docs/hsm-and-kms.md).
#
# - PKCS#11: installs Debian's softhsm2 (and opensc for pkcs11-tool) when
#   missing, initialises a throw-away token in a temporary directory of its
#   own (never the system token directory) and exports
#   SOFTHSM2_CONF, SIGNET_TEST_PKCS11_MODULE, SIGNET_TEST_PKCS11_TOKEN_LABEL
#   and SIGNET_TEST_PKCS11_PIN.
# - AWS KMS: builds github.com/nsmithuk/local-kms from the module proxy
#   (into a cache directory, not a dependency of Signet), starts it on
#   127.0.0.1 with a free port and its data in the temporary directory, and
#   exports SIGNET_TEST_KMS_ENDPOINT and SIGNET_TEST_KMS_REGION.
#
# Everything it starts is stopped, and the directory removed, when the
# sourcing shell exits. Idempotent: on a machine where it ran before it
# reinstalls nothing. Runs on its own too: `bash .ci/backends.sh` checks
# that both backends come up, then stops them.

export PATH="$PATH:/usr/local/go/bin"
SIGNET_LOCAL_KMS_VERSION=v0.0.0-20260228092603-2a5e92d09ab6
SIGNET_SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so

backends_log() { printf '==> backends: %s\n' "$*" >&2; }

backends_as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n -- "$@"; fi
}

backends_install_softhsm() {
	if [ -e "$SIGNET_SOFTHSM_MODULE" ] && command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null; then
		return 0
	fi
	backends_log "installing softhsm2 and opensc"
	backends_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y softhsm2 opensc >/dev/null 2>&1 ||
		{ backends_as_root apt-get update >/dev/null && backends_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y softhsm2 opensc >/dev/null; }
}

# shellcheck source=freeport.sh
source "$(dirname "${BASH_SOURCE[0]}")/freeport.sh"

backends_stop() {
	if [ -n "${SIGNET_LOCAL_KMS_PID:-}" ]; then
		kill "$SIGNET_LOCAL_KMS_PID" 2>/dev/null || true
		wait "$SIGNET_LOCAL_KMS_PID" 2>/dev/null || true
		SIGNET_LOCAL_KMS_PID=
	fi
	if [ -n "${SIGNET_BACKENDS_DIR:-}" ]; then
		rm -rf "$SIGNET_BACKENDS_DIR"
		SIGNET_BACKENDS_DIR=
	fi
}

backends_start() {
	SIGNET_BACKENDS_DIR="$(mktemp -d /tmp/signet-backends.XXXXXX)"
	trap backends_stop EXIT

	backends_install_softhsm
	mkdir -p "$SIGNET_BACKENDS_DIR/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$SIGNET_BACKENDS_DIR/tokens" >"$SIGNET_BACKENDS_DIR/softhsm2.conf"
	export SOFTHSM2_CONF="$SIGNET_BACKENDS_DIR/softhsm2.conf"
	# Throw-away PINs of a token that lives only as long as this run.
	softhsm2-util --init-token --free --label signet-ci --pin 1234 --so-pin 12345678 >/dev/null
	export SIGNET_TEST_PKCS11_MODULE="$SIGNET_SOFTHSM_MODULE"
	export SIGNET_TEST_PKCS11_TOKEN_LABEL=signet-ci
	export SIGNET_TEST_PKCS11_PIN=1234
	backends_log "SoftHSM token signet-ci in $SIGNET_BACKENDS_DIR/tokens"

	local bin="${SIGNET_CI_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/signet-ci/bin}"
	if ! go version -m "$bin/local-kms" 2>/dev/null | grep -q "$SIGNET_LOCAL_KMS_VERSION"; then
		backends_log "building local-kms $SIGNET_LOCAL_KMS_VERSION"
		mkdir -p "$bin"
		(cd "$SIGNET_BACKENDS_DIR" && GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/nsmithuk/local-kms@$SIGNET_LOCAL_KMS_VERSION")
	fi
	local port
	for _ in 1 2 3; do
		port="$(ci_free_port)"
		mkdir -p "$SIGNET_BACKENDS_DIR/kms"
		PORT="$port" KMS_REGION=eu-west-1 KMS_ACCOUNT_ID=111122223333 \
			KMS_DATA_PATH="$SIGNET_BACKENDS_DIR/kms" KMS_SEED_PATH="$SIGNET_BACKENDS_DIR/no-seed.yaml" \
			"$bin/local-kms" >"$SIGNET_BACKENDS_DIR/local-kms.log" 2>&1 &
		SIGNET_LOCAL_KMS_PID=$!
		for _ in $(seq 1 100); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				export SIGNET_TEST_KMS_ENDPOINT="http://127.0.0.1:$port"
				export SIGNET_TEST_KMS_REGION=eu-west-1
				backends_log "local-kms on $SIGNET_TEST_KMS_ENDPOINT (pid $SIGNET_LOCAL_KMS_PID)"
				return 0
			fi
			kill -0 "$SIGNET_LOCAL_KMS_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$SIGNET_LOCAL_KMS_PID" 2>/dev/null || true
		wait "$SIGNET_LOCAL_KMS_PID" 2>/dev/null || true
	done
	cat "$SIGNET_BACKENDS_DIR/local-kms.log" >&2
	backends_log "local-kms did not start"
	return 1
}

backends_start

# The default build has cgo; a CGO_ENABLED=0 build must still compile and
# refuse pkcs11 with a clear configuration error.
backends_log "keybackend without cgo"
(cd "$(dirname "${BASH_SOURCE[0]}")/.." && CGO_ENABLED=0 go test -count=1 ./keybackend/ >/dev/null)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	pkcs11-tool --module "$SIGNET_TEST_PKCS11_MODULE" --list-token-slots | grep -q signet-ci
	backends_log "both backends came up"
fi
