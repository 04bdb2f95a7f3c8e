// Package profiles defines the sysrec profile: the versioned JSON document
// that lists the system calls (and scalar argument values) a program may
// use, together with the tables needed to read and write it: per-arch
// syscall number tables, the argument-semantics table that says which
// argument of which syscall is worth recording and how wide it is, and the
// plain-data Recording that the recorder produces and the reducer consumes.
//
// It imports only the standard library. It does not record (see recorder),
// generalise (see reducer) or compile filters (see emit).
package profiles

//go:generate go run ./internal/gentables -o zsyscalls.go
