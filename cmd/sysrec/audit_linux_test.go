package main

import (
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sysrec/sysrec/internal/auditnl"
	"github.com/sysrec/sysrec/internal/testenv"
)

// audit turns the kernel's audit on or off for the rest of the script
// (Landlock logs its denials only while it is on) and restores it at the
// end.
func audit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || (args[0] != "on" && args[0] != "off") {
		ts.Fatalf("usage: audit on|off")
	}
	// The first switch of a script takes the host-wide audit lock until
	// the script ends (testenv.AuditLock): scripts and other packages'
	// tests run at once, and audit is one switch for the host.
	if ts.Getenv(auditHeld) == "" {
		unlock, err := testenv.AuditLock()
		if err != nil {
			ts.Fatalf("%v", err)
		}
		ts.Setenv(auditHeld, "1")
		prev, err := auditnl.Enabled()
		if err != nil {
			unlock()
			ts.Fatalf("audit %s: %v", args[0], err)
		}
		ts.Defer(func() {
			if _, err := auditnl.SetEnabled(prev); err != nil {
				ts.Logf("restore audit: %v", err)
			}
			unlock()
		})
	}
	if _, err := auditnl.SetEnabled(args[0] == "on"); err != nil {
		ts.Fatalf("audit %s: %v", args[0], err)
	}
}

// auditHeld marks a script that holds the audit lock.
const auditHeld = "SYSREC_TEST_AUDIT_HELD"
