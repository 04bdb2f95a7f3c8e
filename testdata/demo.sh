#!/usr/bin/env bash
# make demo: record a program, show its profile, compile it to seccomp-BPF
# and enforce it on the same program and on a variant that strays.
set -uo pipefail
BIN=${BIN:-bin}
OUT=${OUT:-demo-out}
sysrec=$BIN/sysrec
target=$(cd "$BIN" && pwd)/target
mkdir -p "$OUT"
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (eBPF, cgroups): run it as root" >&2
	exit 1
fi
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "1. record the target's normal run" "sysrec record -o $OUT/target.json -- $target normal"
$sysrec record -o "$OUT/target.json" -- "$target" normal || exit 1

step "2. the learned profile" "sysrec show $OUT/target.json"
$sysrec show "$OUT/target.json" || exit 1

step "3. compile it to seccomp-BPF" "sysrec emit --format bpf -o $OUT/target.bpf $OUT/target.json"
$sysrec emit --format bpf -o "$OUT/target.bpf" "$OUT/target.json" || exit 1
echo "$(($(stat -c %s "$OUT/target.bpf") / 8)) BPF instructions in $OUT/target.bpf"

step "4. enforce it on the same program: allowed" "sysrec run --profile $OUT/target.json -- $target normal"
$sysrec run --profile "$OUT/target.json" -- "$target" normal
rc=$?
[ $rc = 0 ] && echo "=> exit $rc: the recorded program runs under its own profile" || { echo "=> FAILED: exit $rc"; exit 1; }

step "5. enforce it on a run that makes one syscall more (getpriority): killed" "sysrec run --profile $OUT/target.json -- $target stray"
$sysrec run --profile "$OUT/target.json" -- "$target" stray
rc=$?
[ $rc = 159 ] && echo "=> exit $rc (128+SIGSYS): the kernel killed the straying program" || { echo "=> FAILED: expected 159, got $rc"; exit 1; }

step "6. the same with --default-action errno: the call fails with EPERM instead" "sysrec run --profile $OUT/target.json --default-action errno -- $target stray"
$sysrec run --profile "$OUT/target.json" --default-action errno -- "$target" stray
rc=$?
[ $rc = 3 ] && echo "=> exit $rc: getpriority got EPERM and the program gave up by itself" || { echo "=> FAILED: expected 3, got $rc"; exit 1; }

printf '\ndemo passed: record -> emit -> enforce, straying run killed by seccomp\n'
