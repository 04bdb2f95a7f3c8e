package enforce

import "fmt"

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
	if err := Install(filter, TSync); err != nil {
		return fmt.Errorf("apply filter: %w", err)
	}
	return nil
}
