// Package profiles defines the sysrec profile: the versioned JSON document
// that lists the system calls (and scalar argument values) a program may
// use, what each rule means (Decide is the reference semantics), and how
// profiles are merged, compared and shown; plus the plain-data Recording
// that the recorder produces and the reducer consumes.
//
// It imports only the standard library and linuxabi. It does not record
// (see recorder), generalise (see reducer) or compile filters (see emit).
package profiles
