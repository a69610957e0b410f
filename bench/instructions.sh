#!/usr/bin/env bash
# Instructions per client_credentials token (ES256, client_secret_basic with
# a sha256: secret, tracing off) through the whole in-process handler,
# counted by valgrind: a measure the load of the machine does not move.
#
#   bench/instructions.sh [DIR] [RUNS]
#
# DIR is a checkout of Signet (default: .); server/instr_test.go is copied
# into it when it has none, so any commit since 6782974 can be measured.
# Each run counts the instructions of the server's test binary at N1 and N2
# tokens (BenchmarkTokenInstructions, GOMAXPROCS=1; cpu.rdtscp=off because
# valgrind 3.19 does not know RDTSCP) and prints
# (I(N2) - I(N1)) / (N2 - N1): the set-up cancels out. RUNS (default 1)
# repeats that to show the spread.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "${1:-.}" && pwd)
runs=${2:-1}
n1=${N1:-300}
n2=${N2:-1300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$dir/server/instr_test.go" ]; then
	cp "$here/server/instr_test.go" "$dir/server/instr_test.go"
fi
(cd "$dir" && go test -c -o "$tmp/server.test" ./server/)
count() {
	GODEBUG=cpu.rdtscp=off GOMAXPROCS=1 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
		"$tmp/server.test" -test.run '^$' -test.bench '^BenchmarkTokenInstructions$' -test.benchtime "${1}x" 2>&1 >/dev/null |
		sed -n 's/.*I *refs: *//p' | tr -d ,
}
for _ in $(seq "$runs"); do
	a=$(count "$n1")
	b=$(count "$n2")
	echo "$(( (b - a) / (n2 - n1) )) instructions/token (I($n1)=$a I($n2)=$b)"
done
