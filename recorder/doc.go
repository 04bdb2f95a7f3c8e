// Package recorder runs a target in a fresh cgroup v2 (or follows an
// existing cgroup or process), counts its syscalls in kernel with the
// bpfprog program attached to the raw_syscalls tracepoints, and returns
// what it saw as a plain profiles.Recording. With file recording on, the
// same programs (bpfprog/files.bpf.c is part of them, switched on at
// load) also record the files and TCP ports the target touched, as
// Landlock rights: one program per tracepoint, since each attached
// program costs every syscall of the host a dispatch.
//
// It does not turn recordings into allowlists (see reducer) and keeps no
// state between recordings: each Record call owns its cgroup, maps and
// links and releases them before it returns.
package recorder
