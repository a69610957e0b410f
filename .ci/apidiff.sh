#!/usr/bin/env bash
# .ci/apidiff.sh checks the exported API of the module against the
# recorded one (.ci/api/signet.api, written by apidiff -w) and fails on an
# incompatible change that is not announced in .ci/api/announced-breaks.txt.
#
#   .ci/apidiff.sh          check (CI)
#   .ci/apidiff.sh -w       record the current API (at a release, or once a
#                           break is announced and released); then empty
#                           announced-breaks.txt
#
# apidiff comes from golang.org/x/exp through the module proxy with go run:
# it is not a dependency of the module. Compatible changes (additions) pass.
# See docs/library.md, "Stability policy".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"

MODULE=github.com/signet-id/signet
APIDIFF=(go run golang.org/x/exp/cmd/apidiff@v0.0.0-20261113113407-e3970619a1a4)
RECORD=.ci/api/signet.api
ALLOW=.ci/api/announced-breaks.txt

if [ "${1:-}" = "-w" ]; then
	"${APIDIFF[@]}" -m -w "$RECORD" "$MODULE" 2>/dev/null
	echo "apidiff: recorded the API of $MODULE in $RECORD" >&2
	exit 0
fi
[ -f "$RECORD" ] || { echo "apidiff: $RECORD is missing; record it with .ci/apidiff.sh -w" >&2; exit 1; }

errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
if ! out=$("${APIDIFF[@]}" -m -incompatible "$RECORD" "$MODULE" 2>"$errlog"); then
	grep -v '^Ignoring internal package' "$errlog" >&2 || true
	echo "apidiff: could not compare the API (above)" >&2
	exit 1
fi

# The announced breaks: apidiff's lines, exactly, without comments.
allowed=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$ALLOW" 2>/dev/null || true)
unannounced=$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | grep -vxF -e "${allowed:-}" || true)
if [ -z "$allowed" ]; then
	unannounced=$(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' || true)
fi
if [ -n "$unannounced" ]; then
	echo "apidiff: incompatible changes to the exported API that are not announced:" >&2
	printf '%s\n' "$unannounced" | sed 's/^/  /' >&2
	echo "Keep the API compatible, or announce each break: add the line above to $ALLOW and to the changelog in docs/library.md (see its stability policy)." >&2
	exit 1
fi
n=$(printf '%s\n' "$out" | grep -cv '^[[:space:]]*$' || true)
echo "apidiff: the exported API is compatible with $RECORD ($n announced break(s))" >&2
