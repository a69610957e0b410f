#!/usr/bin/env bash
# CI for Signet's release artifacts and deployment recipes (docs/install.md):
#
#  1. the release matrix (scripts/release.sh --snapshot) twice, from two
#     clones of HEAD at different paths, and a check that both give
#     byte-identical archives, SBOMs and checksums; linux/amd64 a third
#     time with an empty build cache, so compiling is checked too, not
#     only linking and archiving (the whole matrix cold is too slow here);
#  2. the container image without a daemon (tools/image): built from the
#     linux/amd64 archive twice (same digest), its config checked against
#     the Dockerfile, its root filesystem unpacked, and signet version,
#     serve --dev and healthcheck run from it as UID 65532;
#  3. the deployment recipes (tools/deploycheck): deploy/compose loaded
#     and validated with compose-go, deploy/helm/signet linted and
#     rendered with the Helm Go module and every manifest checked against
#     the Kubernetes API types, deploy/systemd/signet.service through
#     systemd-analyze verify when systemd-analyze is there.
#
# The release tooling lives in tools/ (its own go.mod), never in Signet's.
# Idempotent; needs only the Go module proxy and Debian's mirror. Builds
# what is committed (HEAD), not uncommitted changes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"
repo=$PWD

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ci/release: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n -- "$@"; fi; }
apt_install() {
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	if ! as_root apt-get install -y --no-install-recommends --no-upgrade "$@"; then
		as_root apt-get update
		as_root apt-get install -y --no-install-recommends --no-upgrade "$@"
	fi
}

start=$(date +%s)
missing=()
command -v git >/dev/null || missing+=(git)
command -v curl >/dev/null || missing+=(curl)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
{ command -v pkg-config >/dev/null && pkg-config --exists libcrypto; } || missing+=(libssl-dev pkg-config)
command -v "${CC:-gcc}" >/dev/null || missing+=(gcc libc6-dev)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

work=$(mktemp -d)
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

log "tools module: download"
(cd tools && go mod download)

# --- 1. the release matrix, twice -------------------------------------------
git clone -q --no-hardlinks "$repo" "$work/a/signet"
git clone -q --no-hardlinks "$repo" "$work/b/another-path/signet"
t0=$(date +%s)
log "release build A (the whole matrix)"
"$work/a/signet/scripts/release.sh" --snapshot --out "$work/dist-a"
t1=$(date +%s)
log "release build B (the whole matrix, another clone and path)"
"$work/b/another-path/signet/scripts/release.sh" --snapshot --out "$work/dist-b"
t2=$(date +%s)
log "release build C (linux/amd64 with an empty build cache)"
GOCACHE="$work/gocache" "$work/b/another-path/signet/scripts/release.sh" --snapshot \
	--targets linux/amd64 --out "$work/dist-c"
t3=$(date +%s)
log "timings: A $((t1 - t0))s, B $((t2 - t1))s, C (cold) $((t3 - t2))s"

log "reproducibility: A and B byte-identical"
diff -r "$work/dist-a" "$work/dist-b" >&2 || die "two builds of the same commit differ (above)"
version=$(cd "$work/a/signet" && echo "0.0.0-snapshot-$(git rev-parse --short=12 HEAD)")
amd64="signet_${version}_linux_amd64"
cmp "$work/dist-a/$amd64.tar.gz" "$work/dist-c/$amd64.tar.gz" ||
	die "linux/amd64 built with an empty cache differs from the cached build"
for t in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 linux_amd64_openssl; do
	for f in "signet_${version}_$t.tar.gz" "signet_${version}_$t.cdx.json"; do
		[ -s "$work/dist-a/$f" ] || die "missing release artifact $f"
	done
done
(cd "$work/dist-a" && sha256sum --quiet -c "signet_${version}_checksums.txt") || die "checksums do not match"
grep -q '"bomFormat": "CycloneDX"' "$work/dist-a/$amd64.cdx.json" || die "$amd64.cdx.json is not a CycloneDX SBOM"
grep -q 'pkg:golang/github.com/go-jose/go-jose/v4@' "$work/dist-a/$amd64.cdx.json" || die "the SBOM lacks go-jose"
grep -q 'pkg:golang/helm.sh' "$work/dist-a/$amd64.cdx.json" && die "the SBOM lists release tooling (helm): tools leaked into Signet's module"
tar -xzf "$work/dist-a/$amd64.tar.gz" -C "$work"
bin="$work/$amd64/signet"
"$bin" version | grep -qx "signet $version" || die "signet version does not print $version: $("$bin" version)"
file_out=$(file -b "$bin" 2>/dev/null || true)
case "$file_out" in *dynamically*) die "linux/amd64 is not static: $file_out" ;; esac
tar -xzf "$work/dist-a/${amd64}_openssl.tar.gz" -C "$work"
"$work/${amd64}_openssl/signet" version | grep -q '^signing backend: openssl' ||
	die "the openssl build does not sign with OpenSSL: $("$work/${amd64}_openssl/signet" version)"

# --- 2. the container image -------------------------------------------------
revision=$(git -C "$work/a/signet" rev-parse HEAD)
created=$(cd "$work/a/signet" && TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
log "image: build (daemonless) twice, check the config, unpack the rootfs"
for n in 1 2; do
	(cd tools && go run ./image build -binary "$bin" -version "$version" -revision "$revision" \
		-created "$created" -out "$work/image$n.oci") >"$work/image$n.txt"
done
# Each build prints the path it wrote and the image digest: the digests must match.
d1=$(grep -o 'sha256:[0-9a-f]\{64\}' "$work/image1.txt" | head -n 1)
d2=$(grep -o 'sha256:[0-9a-f]\{64\}' "$work/image2.txt" | head -n 1)
[ -n "$d1" ] && [ "$d1" = "$d2" ] || die "two image builds differ: $(cat "$work"/image?.txt)"
rootfs="$work/rootfs"
(cd tools && go run ./image check -layout "$work/image1.oci" -version "$version" -revision "$revision" \
	-dockerfile "$repo/Dockerfile" -rootfs "$rootfs")
# Run as the image would: its root, its user, its working directory.
in_image() {
	if [ "$(id -u)" -eq 0 ]; then
		unshare --root="$rootfs" --wd=/data --setuid 65532 --setgid 65532 "$@"
	else
		(cd "$rootfs/data" && "$rootfs$1" "${@:2}")
	fi
}
in_image /signet version | grep -qx "signet $version" || die "signet version in the image: $(in_image /signet version)"
in_image /signet healthcheck --url http://127.0.0.1:1/healthz 2>"$work/hc.err" && die "healthcheck of nothing succeeded"
grep -q 'connection refused' "$work/hc.err" || die "healthcheck of nothing: $(cat "$work/hc.err")"
port=$( (cd tools && go run ./image freeport) )
# exec, so that $! is signet itself (unshare execs it) and kill reaches it.
(
	if [ "$(id -u)" -eq 0 ]; then
		exec unshare --root="$rootfs" --wd=/data --setuid 65532 --setgid 65532 /signet serve --dev --listen "127.0.0.1:$port"
	fi
	cd "$rootfs/data" && exec "$rootfs/signet" serve --dev --listen "127.0.0.1:$port"
) >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
	in_image /signet healthcheck --url "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || die "serve --dev from the image exited: $(cat "$work/serve.log")"
	sleep 0.5
done
in_image /signet healthcheck --url "http://127.0.0.1:$port/healthz" || die "serve --dev from the image is not healthy: $(cat "$work/serve.log")"
secret=$(cat "$rootfs/data/signet-data/demo-client-secret")
curl -fsS -u "demo:$secret" -d grant_type=client_credentials "http://127.0.0.1:$port/connect/token" |
	grep -q '"access_token"' || die "no token from serve --dev in the image"
kill "$server_pid"
wait "$server_pid" || die "serve --dev did not stop cleanly: $(cat "$work/serve.log")"
server_pid=""

# --- 3. the deployment recipes -----------------------------------------------
log "deploy: compose, helm, kubernetes schemas"
(cd tools && go run ./deploycheck -repo "$repo" -signet "$bin")
if command -v systemd-analyze >/dev/null; then
	log "systemd-analyze verify deploy/systemd/signet.service"
	unit="$work/systemd/signet.service"
	mkdir -p "$work/systemd"
	# verify wants ExecStart's binary to exist: point it at the built one.
	sed "s|/usr/local/bin/signet|$bin|g" deploy/systemd/signet.service >"$unit"
	out=$(systemd-analyze verify "$unit" 2>&1) || die "systemd-analyze verify: $out"
	[ -z "$out" ] || die "systemd-analyze verify warns: $out"
	systemd-analyze security --offline=yes --threshold=30 "$unit" >"$work/security.txt" 2>&1 ||
		die "systemd-analyze security: exposure above 3.0: $(tail -3 "$work/security.txt")"
	log "$(tail -1 "$work/security.txt")"
else
	log "systemd-analyze not found: deploy/systemd/signet.service not verified"
fi
log "release checks passed in $(($(date +%s) - start))s"
