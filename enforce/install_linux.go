package enforce

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/linuxabi"
)

// Flags for Install.
const (
	// TSync puts every thread of the process under the filter, not only
	// the calling one (SECCOMP_FILTER_FLAG_TSYNC).
	TSync = unix.SECCOMP_FILTER_FLAG_TSYNC
)

// decode turns raw struct sock_filter bytes into the kernel's
// instruction array (cbpf.Decode checks them).
func decode(raw []byte) ([]unix.SockFilter, error) {
	insns, err := cbpf.Decode(raw)
	if err != nil {
		return nil, err
	}
	prog := make([]unix.SockFilter, len(insns))
	for i, in := range insns {
		prog[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return prog, nil
}

// Install sets no_new_privs and installs the raw filter on the calling
// thread (and with TSync on all threads). The caller must hold
// runtime.LockOSThread when it installs without TSync, or the filter
// lands on whichever thread the goroutine happens to run on.
func Install(raw []byte, flags uint) error {
	_, err := install(raw, flags)
	return err
}

// install returns what seccomp(2) returned: the listener fd with
// SECCOMP_FILTER_FLAG_NEW_LISTENER.
func install(raw []byte, flags uint) (int, error) {
	prog, err := decode(raw)
	if err != nil {
		return -1, err
	}
	return installProg(prog, flags)
}

func installProg(prog []unix.SockFilter, flags uint) (int, error) {
	if len(prog) > linuxabi.MaxFilterInstructions {
		return -1, fmt.Errorf("install seccomp filter: %d instructions exceed the kernel's limit of %d", len(prog), linuxabi.MaxFilterInstructions)
	}
	// Without no_new_privs an unprivileged process may not install a
	// filter, and a privileged one could regain rights through setuid
	// binaries the filter was not written for.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, fmt.Errorf("install seccomp filter: %w", errno)
	}
	if flags&TSync != 0 && r != 0 {
		// TSYNC returns the id of a thread that could not be synchronised.
		return -1, fmt.Errorf("install seccomp filter: thread %d could not be synchronised", r)
	}
	return int(r), nil
}
