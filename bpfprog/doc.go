// Package bpfprog holds sysrec's eBPF program (sysrec.bpf.c) and the Go
// bindings bpf2go generates from it. The generated sysrec_bpfel.go and
// sysrec_bpfel.o are committed so that building sysrec needs no clang;
// `make generate` rebuilds them and TestObjectCurrent checks they match
// the source.
//
// The program counts, in kernel, the syscalls of the tasks of the cgroup
// v2 subtrees being recorded (one loaded object serves every recording
// of the host: each registers its cgroup and its own maps, by recording
// id) keyed by (syscall, masked scalar arguments, exe) — in an
// array by (exe slot, number) for calls without recorded arguments, in
// a hash map for the rest — and the errnos of the calls that failed. It does not decide what to record
// (the argument masks come from profiles through the recorder) and has no
// loader logic of its own (see recorder).
//
// files.bpf.c, included by sysrec.bpf.c and run for recordings of
// files, records the files and TCP ports the same subtrees touch
// as Landlock rights: paths rebuilt by walking dentries and mounts from
// the fd a call returned (or its directory fd plus the path string it
// was given), aggregated in kernel per (path, rights), every unresolved
// access counted. It is one object, so each tracepoint has one program.
package bpfprog
