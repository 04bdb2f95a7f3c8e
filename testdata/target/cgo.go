//go:build sysrec_cgo

// The cgo build of the target (testtarget.PathCgo): with cgo the Go
// runtime starts its threads with glibc's pthread_create, which makes
// them with clone3, as a cgo Go server's are (the corpus's httpd). Go
// assembly is not allowed beside cgo: this build has no int80
// (int80_other.go).

package main

import "C"
