//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// audit: the scripts that use it need Linux.
func audit(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("audit needs Linux")
}
