package enforce

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/sysrec/sysrec/linuxabi"
	"golang.org/x/sys/unix"
)

// Flags for Install.
const (
	// TSync puts every thread of the process under the filter, not only
	// the calling one (SECCOMP_FILTER_FLAG_TSYNC).
	TSync = unix.SECCOMP_FILTER_FLAG_TSYNC
)

// decode turns raw little-endian struct sock_filter bytes into the
// kernel's instruction array.
func decode(raw []byte) ([]unix.SockFilter, error) {
	if len(raw) == 0 || len(raw)%8 != 0 {
		return nil, fmt.Errorf("decode filter: %d bytes is not a whole number of 8-byte instructions", len(raw))
	}
	if len(raw)/8 > 4096 {
		return nil, fmt.Errorf("decode filter: %d instructions exceed the kernel's limit of 4096", len(raw)/8)
	}
	prog := make([]unix.SockFilter, len(raw)/8)
	for i := range prog {
		b := raw[8*i:]
		prog[i] = unix.SockFilter{
			Code: binary.LittleEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.LittleEndian.Uint32(b[4:]),
		}
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
