#!/usr/bin/env bash
# Build Signet's release artifacts: static binaries for every target of the
# release matrix, one reproducible .tar.gz each, SHA-256 checksums and a
# CycloneDX SBOM. See docs/install.md.
#
#   scripts/release.sh [--snapshot] [--out DIR] [--targets "linux/amd64 ..."]
#
# Without --snapshot the commit must carry a tag vX.Y.Z, which becomes the
# version, and the tree must be clean. --snapshot builds any commit (tree
# changes included) as 0.0.0-snapshot-<revision>, for CI and testing.
#
# Reproducible: the same commit gives byte-identical archives, checksums
# and SBOM on any machine with the same Go and, for the openssl target, the
# same C toolchain and libcrypto headers. -trimpath drops local paths,
# -buildid= the build ID, the archives are written with sorted names,
# owner 0, and the commit time as every file's mod time, and gzip -n
# leaves out the name and time of its own header.
#
# Targets: os/arch for pure-Go static builds (CGO_ENABLED=0), and
# linux/amd64/openssl for -tags openssl (cgo, dynamically linked to
# libcrypto 3; see docs/openssl.md), built only on a linux/amd64 host.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"

ALL_TARGETS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 linux/amd64/openssl"
out=dist
snapshot=false
targets=$ALL_TARGETS

die() { printf 'release: %s\n' "$*" >&2; exit 1; }
log() { printf '==> %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--snapshot) snapshot=true ;;
	--out) out=${2:?--out needs a directory}; shift ;;
	--targets) targets=${2:?--targets needs a list such as "linux/amd64 darwin/arm64"}; shift ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1: use --snapshot, --out DIR or --targets LIST" ;;
	esac
	shift
done

command -v git >/dev/null || die "git not found: the version and commit time come from git"
revision=$(git rev-parse HEAD)
# The commit time in UTC: the mod time of every archived file.
epoch=$(git log -1 --format=%ct HEAD)
commit_time=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then dirty=true; else dirty=false; fi

if $snapshot; then
	version="0.0.0-snapshot-${revision:0:12}"
else
	version=$(git describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null) ||
		die "HEAD has no tag vX.Y.Z: tag the release (git tag v1.2.3) or build with --snapshot"
	$dirty && die "the tree has uncommitted changes: commit or stash them, or build with --snapshot"
fi

ldflags="-s -w -buildid= -X main.version=$version -X main.revision=$revision -X main.buildTime=$commit_time -X main.modified=$dirty"
export SOURCE_DATE_EPOCH=$epoch

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The SBOM generator, built for this host from the tools module (so it is
# no dependency of Signet).
(cd tools && GOFLAGS= go build -o "$work/cyclonedx-gomod" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod) ||
	die "cannot build cyclonedx-gomod from tools/ (the Go module proxy must be reachable once)"

for t in $targets; do
	IFS=/ read -r goos goarch variant <<<"$t"
	tags="" cgo=0 suffix=""
	case "$variant" in
	"") ;;
	openssl)
		[ "$goos/$goarch" = "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" ] ||
			die "$t: the openssl build uses cgo and is built on a $goos/$goarch host only"
		tags=openssl cgo=1 suffix=_openssl
		;;
	*) die "target $t: the only variant is openssl (linux/amd64/openssl)" ;;
	esac
	name="signet_${version}_${goos}_${goarch}${suffix}"
	log "build $name"
	stage="$work/$name"
	mkdir -p "$stage"
	CGO_ENABLED=$cgo GOOS=$goos GOARCH=$goarch GOFLAGS= go build -trimpath -buildvcs=false \
		-tags "$tags" -ldflags "$ldflags" -o "$stage/signet" ./cmd/signet
	if [ -n "$tags" ]; then
		# Not `go list | grep -q`: grep stops at the first match, go list
		# then dies of SIGPIPE, and pipefail fails the check at random.
		deps=$(CGO_ENABLED=$cgo go list -tags "$tags" -deps ./cmd/signet)
		grep -qx 'github.com/signet-id/signet/signer/openssl' <<<"$deps" ||
			die "$t: -tags openssl did not select signer/openssl (is a C compiler and libcrypto 3 there? see docs/openssl.md)"
	fi
	cp README.md signet.example.yaml "$stage/"
	chmod 0755 "$stage/signet"
	chmod 0644 "$stage/README.md" "$stage/signet.example.yaml"
	tar -C "$work" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		--format=gnu -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
	# The SBOM of this target: its build constraints select the modules.
	# No serial number (random) and no timestamp, so it is reproducible.
	CGO_ENABLED=$cgo GOOS=$goos GOARCH=$goarch GOFLAGS="-tags=$tags" \
		"$work/cyclonedx-gomod" app -json -std -noserial -notimestamp \
		-main cmd/signet -output "$out/$name.cdx.json" "$PWD" ||
		die "$t: cyclonedx-gomod failed"
done

log "checksums"
(cd "$out" && LC_ALL=C sha256sum -- *.tar.gz *.cdx.json >"signet_${version}_checksums.txt")
log "built $version ($revision, $commit_time, modified=$dirty) in $out/"
ls -l "$out" >&2
