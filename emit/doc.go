// Package emit compiles a profile into a seccomp-BPF program and writes
// it in the formats users load. Every format is one function
// func(*profiles.Profile, Options) ([]byte, error) in a registry
// (Formats, LookupFormat): raw sock_filter bytes (bpf: the kernel, bwrap,
// sysrec run), the canonical profile (json), OCI seccomp JSON (oci: runc,
// crun, Docker, Podman), a security-profiles-operator SeccompProfile
// (spo), an annotated disassembly (text) and a C array (c).
//
// The compiler checks the arch first, dispatches on the syscall number
// with a balanced binary search over ranges of equal outcome (so calls
// without argument rules reach RET ALLOW on a path the kernel's seccomp
// action cache recognises), and checks argument rules on the leaves,
// comparing both 32-bit halves of long arguments and only the low half of
// int ones. It lays the program out with cbpf's builder, which resolves
// labels, threads jumps and inserts trampolines for long jumps.
// profiles.(*Profile).Decide is its specification: the tests run
// compiled programs in cbpf.Exec and compare every decision, so the
// compiler keeps its own argument-rule code and never calls
// profiles.ArgRule.Match.
//
// It does not install filters (see enforce), decide what a profile
// allows (see reducer), or know classic BPF encoding and semantics (see
// cbpf).
package emit
