#!/usr/bin/env bash
# make bench: per-syscall cost of a tight getppid loop, bare and under
# each recorder, in one run on this machine. Prints a markdown table.
set -uo pipefail
BIN=${BIN:-bin}
N=${N:-5000000}
target=$BIN/target
ns() { "$@" 2>/dev/null | sed -n 's/ ns\/call//p' | tail -1; }
best() { # best of 3: the least disturbed run
	local b=""
	for _ in 1 2 3; do
		v=$(ns "$@")
		[ -z "$v" ] && continue
		if [ -z "$b" ] || awk "BEGIN{exit !($v < $b)}"; then b=$v; fi
	done
	echo "$b"
}
bare=$(best "$target" loop "$N" -v)
rec=$(best "$BIN/sysrec" record --progress never -o /dev/null -- "$target" loop "$N" -v)
row() { printf '| %-34s | %10s | %8s |\n' "$1" "$2" "$(awk "BEGIN{printf \"%.2fx\", $2/$bare}")"; }
echo "| getppid loop ($N calls)            |    ns/call | vs bare  |"
echo "|------------------------------------|-----------:|---------:|"
row "bare" "$bare"
row "sysrec record" "$rec"
if command -v strace >/dev/null; then
	s=$(best strace -f -c -o /dev/null "$target" loop $((N / 50)) -v)
	row "strace -f -c" "$s"
fi
if command -v bpftrace >/dev/null; then
	# bpftrace needs tracefs for tracepoint:raw_syscalls; mount it in a
	# private mount namespace where the host has none.
	bt() {
		unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec "$@"' sh \
			bpftrace -q -e 'tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @[args->id] = count(); }' -c "$target loop $N -v"
	}
	b=$(best bt)
	[ -n "$b" ] && row "bpftrace syscount (per-pid map)" "$b"
fi
