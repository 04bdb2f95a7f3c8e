package main

import "github.com/sysrec/sysrec/enforce"

// explainKill says which call a seccomp kill was for.
func explainKill(v *enforce.Violation) string {
	if v == nil {
		return "the kernel log has no seccomp record of it within 3s (rate-limited, read by auditd, or kill_process not in /proc/sys/kernel/seccomp/actions_logged)"
	}
	return "syscall " + v.Syscall() + " is not allowed by the profile"
}
