#!/usr/bin/env bash
# make bench: what phase enforcement costs (docs/phases.md). nginx on
# loopback (testdata/nginx) is recorded while wrk loads it; then rounds
# alternate `sysrec run` of that profile with phases enforced (one filter
# whose init-only calls go to the supervisor) and of the same profile's
# union (`--phases off`: one filter, no supervisor): requests/s and p99
# latency under wrk. Then start-up: from starting `sysrec run` (no
# recording) to the first answered request, with and without phases,
# and nginx alone for reference. Prints medians with their spread.
set -uo pipefail
BIN=${BIN:-bin}
R=${R:-7}
S=${S:-15}
D=${D:-3s}
PORT=${PORT:-18097}
missing=""
for t in nginx wrk curl; do command -v $t >/dev/null || missing="$missing $t"; done
[ -n "$missing" ] && { echo "phases bench: needs$missing (apt-get install -y${missing})"; exit 0; }
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d); chmod 755 "$dir"
pid=
trap '[ -f "$dir/logs/nginx.pid" ] && kill -TERM "$(cat "$dir/logs/nginx.pid")" 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
# shellcheck source=testdata/bench/lib.sh
. "$here/bench/lib.sh"
nginx_prefix "$dir" "$PORT"
ngx=(nginx -p "$dir" -c "$dir/nginx.conf")
url="http://127.0.0.1:$PORT/"
up() { for _ in $(seq 400); do curl -s -o /dev/null "$url" && return 0; sleep 0.025; done; return 1; }
# stop ends what runs nginx (sysrec relays SIGTERM to it), then waits
# until the port is free.
stop() {
	kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; pid=
	for _ in $(seq 200); do curl -s -o /dev/null "$url" || return 0; sleep 0.05; done
	echo "nginx still answers on port $PORT" >&2; exit 1
}

"$BIN/sysrec" record --progress never -o "$dir/nginx.json" -- "${ngx[@]}" 2>"$dir/rec.log" & pid=$!
up && wrk -t1 -c16 -d3s "$url" >/dev/null
stop
"$BIN/sysrec" show "$dir/nginx.json" >"$dir/show.txt" || { cat "$dir/rec.log"; exit 1; }
init=$(grep -c '"phase": "init"' "$dir/nginx.json")
echo "nginx's profile: $init init-only entries"

names=("phases" "union (--phases off)")
modes=("" "--phases off")
# load: wrk --latency; req/s and p99 (ms) appended to $dir/rps$i, $dir/p99$i.
load() {
	wrk -t1 -c16 -d"$D" --latency "$url" >"$dir/wrk.out"
	awk '/Requests\/sec/ {print $2}' "$dir/wrk.out" >>"$dir/rps$1"
	awk '$1 == "99%" {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v); m=(u=="us")?0.001:(u=="s")?1000:1; print v*m}' "$dir/wrk.out" >>"$dir/p99$1"
}
for ((r = 0; r < R; r++)); do
	for i in "${!modes[@]}"; do
		# shellcheck disable=SC2086
		"$BIN/sysrec" run ${modes[$i]} --profile "$dir/nginx.json" -- "${ngx[@]}" 2>>"$dir/run.log" & pid=$!
		if up; then load "$i"; else echo "nginx did not start under ${names[$i]}" >&2; cat "$dir/run.log" >&2; fi
		stop
	done
done

# startup: milliseconds from starting the command to the first answer.
startup() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" 2>>"$dir/run.log" & pid=$!
	for _ in $(seq 4000); do curl -s -o /dev/null "$url" && break; done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
	stop
}
for ((r = 0; r < S; r++)); do
	startup "$BIN/sysrec" run --profile "$dir/nginx.json" -- "${ngx[@]}" >>"$dir/start0"
	startup "$BIN/sysrec" run --phases off --profile "$dir/nginx.json" -- "${ngx[@]}" >>"$dir/start1"
	startup "${ngx[@]}" >>"$dir/start2"
done
grep -i "serving phase" "$dir/run.log" | sort | uniq -c >&2

read -r base _ _ < <(stat "$dir/rps1")
printf '| nginx, wrk -t1 -c16 %s, %d rounds alternating | req/s median (min–max) | vs union | p99 ms median (min–max) |\n' "$D" "$R"
echo "|---|---:|---:|---:|"
for i in "${!modes[@]}"; do
	read -r med lo hi < <(stat "$dir/rps$i")
	read -r pmed plo phi < <(stat "$dir/p99$i")
	printf '| %s | %.0f (%.0f–%.0f) | %s | %.2f (%.2f–%.2f) |\n' "${names[$i]}" "$med" "$lo" "$hi" "$(awk "BEGIN{printf \"%+.1f%%\", ($med-$base)/$base*100}")" "$pmed" "$plo" "$phi"
done
echo
printf '| start-up to the first answer, %d rounds alternating | ms median (min–max) |\n' "$S"
echo "|---|---:|"
snames=("sysrec run, phases" "sysrec run --phases off" "nginx alone")
for i in 0 1 2; do
	read -r med lo hi < <(stat "$dir/start$i")
	printf '| %s | %s (%s–%s) |\n' "${snames[$i]}" "$med" "$lo" "$hi"
done
