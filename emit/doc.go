// Package emit compiles a profile into a seccomp-BPF program and writes
// it in the formats users load: raw sock_filter bytes (the kernel, bwrap,
// sysrec run), OCI seccomp JSON (runc, crun, Docker, Podman), a
// security-profiles-operator SeccompProfile, an annotated disassembly and
// a C array.
//
// The compiler checks the arch first, dispatches on the syscall number
// with a balanced binary search over ranges of equal outcome (so calls
// without argument rules reach RET ALLOW on a path the kernel's seccomp
// action cache recognises), and checks argument rules on the leaves,
// comparing both 32-bit halves of long arguments and only the low half of
// int ones. profiles.(*Profile).Decide is its specification: the tests run
// compiled programs in an interpreter and compare every decision.
//
// It does not install filters (see enforce) or decide what a profile
// allows (see reducer).
package emit
