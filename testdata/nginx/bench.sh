#!/usr/bin/env bash
# nginx throughput with and without `sysrec record` (make bench): wrk on
# loopback against testdata/nginx, and the recording's loss counter.
set -uo pipefail
BIN=${BIN:-bin}
D=${D:-5s}
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "nginx bench: needs nginx and wrk (apt-get install nginx wrk)"; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d); chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT
# shellcheck source=testdata/bench/lib.sh
. "$here/../bench/lib.sh"
nginx_prefix "$dir" 18099
rps() { wrk -t1 -c16 -d"$D" http://127.0.0.1:18099/ | awk '/Requests\/sec/ {print $2}'; }
up() { for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18099/ && return; sleep 0.05; done; }

nginx -p "$dir" -c "$dir/nginx.conf" 2>/dev/null & pid=$!
up; bare=$(rps); kill $pid; wait $pid 2>/dev/null

"$BIN/sysrec" record --progress never -o "$dir/nginx.json" -- nginx -p "$dir" -c "$dir/nginx.conf" 2>"$dir/rec.log" & rec=$!
up; recorded=$(rps); kill -INT $rec; wait $rec 2>/dev/null
calls=$(sed -n 's/.* syscalls, \([0-9]*\) calls in.*/\1/p' "$dir/rec.log")
lost=$(grep -o '"lost": [0-9]*' "$dir/nginx.json" | awk '{print $2}')
printf '| nginx, wrk -c16 %s | bare %s req/s | under sysrec record %s req/s | %s | %s calls recorded, %s lost |\n' \
	"$D" "$bare" "$recorded" "$(awk "BEGIN{printf \"%+.1f%%\", ($recorded-$bare)/$bare*100}")" "$calls" "$lost"
