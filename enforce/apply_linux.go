package enforce

import (
	"fmt"
	"runtime"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

// Apply locks the calling process down to filter (raw struct sock_filter
// bytes, e.g. from emit.Raw): no_new_privs, then the filter on every
// thread (TSYNC). Call it once initialisation is done: a server that has
// opened its sockets and files needs far fewer syscalls afterwards. The
// filter must allow what the Go runtime does on its own (futex,
// nanosleep, mmap, madvise, rt_sigreturn, ...), which a recording of the
// program includes.
//
//	p, err := profiles.Load("/etc/myserver/seccomp.json")
//	...
//	filter, err := emit.Raw(p, emit.Options{})
//	...
//	if err := enforce.Apply(filter); err != nil { ... }
func Apply(filter []byte) error {
	// no_new_privs is a thread's: the same thread must set it and
	// install (TSYNC then gives both to every other thread).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := Install(filter, TSync); err != nil {
		return fmt.Errorf("apply filter: %w", err)
	}
	return nil
}

// ServingPhase locks the calling process down to what p allows a
// serving process (p.ServingOnly(): the init entries gone), on every
// thread: the library form of what `sysrec run` enforces on unmodified
// programs, for a Go program that can be changed. Call it where the
// program starts serving, after its whole filter (emit.Raw(p)) is on,
// or alone; filters stack, and the stricter answer wins.
//
//	if err := enforce.ServingPhase(p); err != nil { ... }
//	http.Serve(ln, h)
func ServingPhase(p *profiles.Profile) error {
	filter, err := emit.Raw(p.ServingOnly(), emit.Options{})
	if err != nil {
		return fmt.Errorf("enter serving phase: %w", err)
	}
	return Apply(filter)
}
