package main

import (
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sysrec/sysrec/internal/testenv"
)

// waitFile waits until a file exists: a background target says it has
// started by creating one. It fails after 30 s.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	if err := testenv.WaitFile(ts.MkAbs(args[0]), 30*time.Second); err != nil {
		ts.Fatalf("%v", err)
	}
}
