#!/usr/bin/env bash
# make test: every test, verbose into a log; prints the package results
# (on failure: everything, then each failed test's own output again,
# testdata/failures.awk) and ends with a line naming each skipped test,
# so a skip is never invisible.
set -uo pipefail
GO=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$GO" test -count=1 -timeout 9m -v "$@" ./... >"$log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
	cat "$log"
	awk -f "$(dirname "$0")/failures.awk" "$log"
else
	grep -E '^(ok|FAIL|\?) ' "$log"
fi
skips=$(grep -oE -- '--- SKIP: [^ ]+' "$log" | sed 's/--- SKIP: //' | sort -u)
n=$(printf '%s' "$skips" | grep -c . || true)
if [ "$n" -eq 0 ]; then
	echo "skipped: none"
else
	echo "skipped: $n test(s):" $skips
fi
exit "$status"
