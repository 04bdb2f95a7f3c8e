// Package linuxabi holds the facts of the Linux ABI that sysrec needs,
// as data: per-arch syscall number tables (generated from
// golang.org/x/sys), audit arch values, the argument table (which scalar
// argument of which syscall is recorded, its kind, width and record
// mask, and whether its values differ in risk), risk tiers (TierOf,
// ArgSpec.Tiers), families and domains of ordinary syscalls, symbolic
// constants for printing them, errno names, the layout of struct
// seccomp_data and the SECCOMP_RET_* values.
//
// It imports only the standard library and builds on every platform. It
// does not know what a profile is (see profiles) or how to compile a
// filter (see emit and cbpf).
package linuxabi

//go:generate go run ./internal/gentables -o zsyscalls.go
