# Sourced by .ci/run (bash): axe-core for the accessibility check of the
# real-browser suite (e2e/browser), which injects it into Chromium on every
# page and fails on any serious or critical violation.
#
# - `npm ci` in e2e/browser/a11y (axe-core pinned by its package.json and
#   package-lock.json), only when the lock changed;
# - exports SIGNET_AXE_JS, the path of axe.min.js (the test skips its
#   accessibility check, saying why, when it is not set and the file is not
#   at its default place).
#
# Idempotent. Runs on its own too: `bash .ci/a11y.sh`.

set -euo pipefail # as .ci/run, which sources it

a11y_setup() {
	local root dir lock_sum
	root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	dir="$root/e2e/browser/a11y"
	if ! command -v npm >/dev/null; then
		printf '==> a11y: installing nodejs and npm\n' >&2
		if [ "$(id -u)" -eq 0 ]; then apt-get install -y nodejs npm >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y nodejs npm >/dev/null; }; else sudo -n apt-get install -y nodejs npm >/dev/null; fi
	fi
	lock_sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
	if [ "$(cat "$dir/node_modules/.signet-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
		printf '==> a11y: npm ci in e2e/browser/a11y\n' >&2
		(cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
		printf '%s\n' "$lock_sum" >"$dir/node_modules/.signet-lock-sha256"
	fi
	export SIGNET_AXE_JS="$dir/node_modules/axe-core/axe.min.js"
	printf '==> a11y: axe-core %s at %s\n' "$(node -p 'require(process.argv[1]).version' "$dir/node_modules/axe-core/package.json")" "$SIGNET_AXE_JS" >&2
}

a11y_setup
