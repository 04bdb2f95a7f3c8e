// Package linuxabi holds the facts of the Linux ABI that sysrec needs,
// as data: per-arch syscall number tables (generated from
// golang.org/x/sys), audit arch values, the argument table (which scalar
// argument of which syscall is recorded, its kind, width and record
// mask), symbolic constants for printing them, errno names, the layout of
// struct seccomp_data, the SECCOMP_RET_* values and the Landlock access
// rights.
//
// It imports only the standard library and builds on every platform. It
// holds no judgement: which syscalls and values are risky, families and
// domains are sysrec's policy (see policy). It does not know what a
// profile is (see profiles) or how to compile a filter (see emit and
// cbpf).
package linuxabi

//go:generate go run ./internal/gentables -o zsyscalls.go
