#!/usr/bin/env bash
# make bench: what recording costs a syscall, measured side by side in one
# run. A tight getppid loop (bin/target loop N) runs bare, under the
# tracepoint floor (empty programs on sys_enter and sys_exit loaded by
# sysrec's own loader), under sysrec record, beside a recording it is not
# part of, under bpftrace and under strace — alternating, R rounds in a
# random order each, so a disturbance hits every configuration alike.
# Absolute numbers differ between hosts by 5x; the ratios to bare and the
# cost above the floor are what compare.
set -uo pipefail
BIN=${BIN:-bin}
N=${N:-2000000}
R=${R:-7}
target=$BIN/target
sysrec=$BIN/sysrec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null' EXIT

ns() { sed -n 's/ ns\/call//p' | tail -1; }
# bpftrace needs tracefs for tracepoint:raw_syscalls; mount it in a
# private mount namespace where the host has none.
bt() {
	unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec "$@"' sh bpftrace -q -e "$1" -c "$target loop $N -v" 2>/dev/null
}

declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "bare" "$target loop $N -v"
add "floor: empty sys_enter+sys_exit" "$sysrec floor -- $target loop $N -v"
add "sysrec record" "$sysrec record --progress never -o $tmp/p.json -- $target loop $N -v"
add "sysrec record --fs off (no path recording)" "$sysrec record --progress never --fs off -o $tmp/p.json -- $target loop $N -v"
add "beside a recording (other cgroup)" "BESIDE on"
add "beside a recording --fs off" "BESIDE off"
if command -v bpftrace >/dev/null; then
	add "bpftrace: sys_enter count" "bt 'tracepoint:raw_syscalls:sys_enter /cgroup == cgroup/ { @[args->id] = count(); }'"
	add "bpftrace: empty sys_enter+sys_exit" "bt 'tracepoint:raw_syscalls:sys_enter {} tracepoint:raw_syscalls:sys_exit {}'"
else
	echo "(bpftrace rows skipped: apt-get install bpftrace)" >&2
fi
if command -v strace >/dev/null; then
	add "strace -f -c (N/50 calls)" "strace -f -c -o /dev/null $target loop $((N / 50)) -v"
else
	echo "(strace row skipped: apt-get install strace)" >&2
fi

for ((r = 0; r < R; r++)); do
	# Each round in its own random order: on a VM the row after another
	# can be systematically faster or slower by 20 ns.
	for i in $(printf '%s\n' "${!names[@]}" | shuf); do
		c=${cmds[$i]}
		if [ "${c%% *}" = BESIDE ]; then
			# A recording of something else runs during this row only;
			# it is attached once its progress line appears.
			"$sysrec" record --progress always --fs "${c#BESIDE }" -o "$tmp/bg.json" -- sleep 36000 2>"$tmp/bg.log" & bg=$!
			for _ in $(seq 300); do grep -q "recording" "$tmp/bg.log" 2>/dev/null && break; sleep 0.02; done
			c="$target loop $N -v"
		fi
		v=$(eval "$c" 2>/dev/null | ns)
		echo "$v" >>"$tmp/$i"
		if [ -n "${bg:-}" ]; then kill -INT "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=; fi
	done
done

# shellcheck source=testdata/bench/lib.sh
. "$(dirname "$0")/lib.sh"
read -r bare _ _ < <(stat "$tmp/0")
read -r floor _ _ < <(stat "$tmp/1")
printf '| getppid loop, %d rounds alternating | ns/call median (min–max) | × bare | above floor |\n' "$R"
echo "|---|---:|---:|---:|"
for i in "${!names[@]}"; do
	read -r med lo hi < <(stat "$tmp/$i")
	[ "$med" = "-" ] && { printf '| %s | failed | | |\n' "${names[$i]}"; continue; }
	x=$(awk "BEGIN{printf \"%.2f×\", $med/$bare}")
	above=$(awk "BEGIN{printf \"%+.0f ns\", $med-$floor}")
	[ "$i" -le 1 ] && above=""
	printf '| %s | %.0f (%.0f–%.0f) | %s | %s |\n' "${names[$i]}" "$med" "$lo" "$hi" "$x" "$above"
done
