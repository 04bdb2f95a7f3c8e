// Package recorder runs a target in a fresh cgroup v2 (or follows an
// existing cgroup or process), counts its syscalls in kernel with the
// bpfprog program attached to the raw_syscalls tracepoints, and returns
// what it saw as a plain profiles.Recording. With file recording on, a
// second program (bpfprog/files.bpf.c, loaded by startFiles) adds the
// files and TCP ports the target touched, as Landlock rights.
//
// It does not turn recordings into allowlists (see reducer) and keeps no
// state between recordings: each Record call owns its cgroup, maps and
// links and releases them before it returns.
package recorder
