//go:build !linux

package main

import "github.com/rogpeppe/go-internal/testscript"

// waitFile: the scripts that use it need Linux.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("waitfile needs Linux (inotify)")
}
