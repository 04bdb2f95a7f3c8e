package main

import (
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sysrec/sysrec/internal/auditnl"
)

// audit turns the kernel's audit on or off for the rest of the script
// (Landlock logs its denials only while it is on) and restores it at the
// end.
func audit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		ts.Fatalf("usage: audit on|off")
	}
	prev, err := auditnl.SetEnabled(args[0] == "on")
	if err != nil {
		ts.Fatalf("audit %s: %v", args[0], err)
	}
	ts.Defer(func() {
		if _, err := auditnl.SetEnabled(prev); err != nil {
			ts.Logf("restore audit: %v", err)
		}
	})
}
