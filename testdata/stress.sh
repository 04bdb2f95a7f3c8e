#!/usr/bin/env bash
# make stress: the whole privileged suite N times in a row (default 20)
# with two CPU-burning loops beside it, stopping at the first failure and
# printing its log. A test that fails 1 time in 20 under load is a
# failing test.
set -uo pipefail
N=${N:-20}
GO=${GO:-go}
burn() { while :; do :; done; }
burn & b1=$!
burn & b2=$!
trap 'kill $b1 $b2 2>/dev/null' EXIT
log=$(mktemp)
for i in $(seq 1 "$N"); do
	start=$(date +%s)
	if ! SYSREC_TEST_PRIVILEGED=1 "$GO" test -count=1 -timeout 9m ./... >"$log" 2>&1; then
		echo "stress: run $i of $N FAILED:"
		grep -v '^ok ' "$log"
		rm -f "$log"
		exit 1
	fi
	echo "stress: run $i of $N passed ($(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg))"
done
rm -f "$log"
echo "stress: $N of $N passed with two CPU-burning loops beside"
