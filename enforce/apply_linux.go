package enforce

import (
	"fmt"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

// Apply locks the calling process down to p: no_new_privs, then the
// filter on every thread (TSYNC). Call it once initialisation is done,
// the "enable after init" pattern the original seccomp mode 2 proposal
// describes: a server that has opened its sockets and files needs far
// fewer syscalls afterwards. The profile must allow what the Go runtime
// does on its own (futex, nanosleep, mmap, madvise, rt_sigreturn, ...),
// which a recording of the program includes.
func Apply(p *profiles.Profile) error {
	raw, err := emit.Raw(p, emit.Options{})
	if err != nil {
		return fmt.Errorf("apply profile: %w", err)
	}
	if err := Install(raw, TSync); err != nil {
		return fmt.Errorf("apply profile: %w", err)
	}
	return nil
}
