#!/usr/bin/env bash
# make bench: what a seccomp filter costs a server, side by side in one
# run. nginx on loopback (testdata/nginx) is recorded while wrk loads it;
# then rounds alternate nginx with no filter, with sysrec's filter of that
# profile, with the same allow list compiled by libseccomp (default and
# binary tree), and with Docker's default profile compiled by libseccomp.
# Every filter is installed the same way (bwrap --seccomp, just before
# exec). Prints medians with their spread, and the expected filter
# instructions per recorded call for each filter, for nginx and redis.
set -uo pipefail
BIN=${BIN:-bin}
R=${R:-9}
D=${D:-2s}
PORT=${PORT:-18099}
missing=""
for t in nginx wrk bwrap curl; do command -v $t >/dev/null || missing="$missing $t"; done
/usr/bin/python3 -c 'import seccomp' 2>/dev/null || missing="$missing python3-seccomp"
[ -n "$missing" ] && { echo "enforcement bench: needs$missing (apt-get install -y${missing})"; exit 0; }
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d); chmod 755 "$dir"
trap '[ -f "$dir/logs/nginx.pid" ] && kill -TERM "$(cat "$dir/logs/nginx.pid")" 2>/dev/null; kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
# shellcheck source=testdata/bench/lib.sh
. "$here/bench/lib.sh"
nginx_prefix "$dir" "$PORT"
ngx=(nginx -p "$dir" -c "$dir/nginx.conf")
up() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0; sleep 0.05; done; return 1; }
# stop ends nginx through its master (which ends its workers; killing
# bwrap would orphan them, and the next round would measure them), then
# waits until the port is free.
stop() {
	[ -f "$dir/logs/nginx.pid" ] && kill -TERM "$(cat "$dir/logs/nginx.pid")" 2>/dev/null
	wait $pid 2>/dev/null; pid=
	for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" || return 0; sleep 0.05; done
	echo "nginx still answers on port $PORT" >&2; exit 1
}
rps() { wrk -t1 -c16 -d"$D" "http://127.0.0.1:$PORT/" | awk '/Requests\/sec/ {print $2}'; }

# Learn nginx's profile while it serves.
"$BIN/sysrec" record --progress never -o "$dir/nginx.json" -- "${ngx[@]}" 2>"$dir/rec.log" & pid=$!
up && wrk -t1 -c16 -d3s "http://127.0.0.1:$PORT/" >/dev/null
kill -INT $pid; wait $pid 2>/dev/null; pid=
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" || break; sleep 0.05; done
"$BIN/sysrec" emit --format bpf -o "$dir/sysrec.bpf" "$dir/nginx.json" || exit 1
/usr/bin/python3 "$here/bench/libseccomp.py" "$dir/nginx.json" "$dir/libseccomp.bpf" default || exit 1
/usr/bin/python3 "$here/bench/libseccomp.py" "$dir/nginx.json" "$dir/libseccomp-tree.bpf" tree || exit 1
/usr/bin/python3 "$here/bench/libseccomp.py" "$here/../emit/testdata/docker-default.json" "$dir/docker.bpf" default || exit 1

names=("no filter" "sysrec" "libseccomp (default)" "libseccomp (binary tree)" "Docker default (libseccomp)")
filters=("" sysrec libseccomp libseccomp-tree docker)
for ((r = 0; r < R; r++)); do
	for i in "${!filters[@]}"; do
		f=${filters[$i]}
		if [ -z "$f" ]; then
			"${ngx[@]}" 2>/dev/null & pid=$!
		else
			bwrap --die-with-parent --dev-bind / / --seccomp 9 "${ngx[@]}" 9<"$dir/$f.bpf" 2>/dev/null & pid=$!
		fi
		if up; then rps >>"$dir/r$i"; else echo "nginx did not start under ${names[$i]}" >&2; fi
		stop
	done
done
read -r none _ _ < <(stat "$dir/r0")
printf '| nginx, wrk -t1 -c16 %s, %d rounds alternating | req/s median (min–max) | vs no filter |\n' "$D" "$R"
echo "|---|---:|---:|"
for i in "${!filters[@]}"; do
	read -r med lo hi < <(stat "$dir/r$i")
	printf '| %s | %.0f (%.0f–%.0f) | %s |\n' "${names[$i]}" "$med" "$lo" "$hi" "$(awk "BEGIN{printf \"%+.1f%%\", ($med-$none)/$none*100}")"
done
echo
echo "Expected filter instructions per recorded call of nginx's profile:"
"$BIN/sysrec" cost "$dir/nginx.json" "$dir/libseccomp.bpf" "$dir/libseccomp-tree.bpf" | sed "s#$dir/##"

# The same for redis, recorded while redis-benchmark loads it.
if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v redis-cli >/dev/null; then
	RPORT=$((PORT + 1))
	"$BIN/sysrec" record --progress never -o "$dir/redis.json" -- redis-server --port "$RPORT" --save '' --appendonly no --dir "$dir" >"$dir/redis-rec.log" 2>&1 & pid=$!
	for _ in $(seq 200); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
	redis-benchmark -p "$RPORT" -n 50000 -c 16 -q -t set,get,incr,lpush,lpop,sadd,hset >/dev/null 2>&1
	kill -INT $pid; wait $pid 2>/dev/null; pid=
	/usr/bin/python3 "$here/bench/libseccomp.py" "$dir/redis.json" "$dir/redis-libseccomp.bpf" default || exit 1
	/usr/bin/python3 "$here/bench/libseccomp.py" "$dir/redis.json" "$dir/redis-libseccomp-tree.bpf" tree || exit 1
	echo
	echo "Expected filter instructions per recorded call of redis's profile:"
	"$BIN/sysrec" cost "$dir/redis.json" "$dir/redis-libseccomp.bpf" "$dir/redis-libseccomp-tree.bpf" | sed "s#$dir/##"
else
	echo "(redis rows skipped: apt-get install redis-server)"
fi
