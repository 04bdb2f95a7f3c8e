package enforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"unsafe"

	"github.com/sysrec/sysrec/linuxabi"
	"golang.org/x/sys/unix"
)

// helperArg0 marks the re-exec'd helper: argv[0] rather than an
// environment variable, so nothing leaks into the target's environment.
const helperArg0 = "sysrec-enforce-helper"

// Helper modes (argv[1]).
const (
	modeExec   = "exec"   // install, exec
	modeNotify = "notify" // install with a listener, hand it over, exec
)

// The helper's extra files (fd 3 onwards, in this order).
const (
	planFD    = 3 // the plan: filter and Landlock ruleset, as JSON
	reportFD  = 4 // the helper writes why it failed before its filter went on
	wakePipe  = 5 // notify: a byte arrives once the supervisor holds the listener
	readyPipe = 6 // notify: the helper writes the listener's fd number
)

// In notify mode the helper moves its pipes to fixed high descriptors
// before installing the filter, and the filter is prefixed with an allow
// for exactly write(readyFD) and read(wakeFD) carrying the plan's nonce
// in two argument registers the kernel ignores (see exemptHelper), so the
// helper can hand over the listener with no notification that nobody
// could yet receive. Close-on-exec: the target never sees them, and
// without the nonce, which only the helper's memory held, a target that
// makes its own descriptor 1000 gets no exemption.
const (
	readyFD = 1000
	wakeFD  = 1001
)

// plan is what the parent hands the helper.
type plan struct {
	Filter       []byte
	Landlock     *linuxabi.LandlockRuleset
	LandlockMode LandlockMode
	// Guard are Landlock scopes sysrec needs for itself (check: the
	// signal scope, so the target cannot kill its supervisor).
	Guard uint64
	// Nonce keys the notify helper's exemption (see exemptHelper).
	Nonce [2]uint64
}

// HelperMain runs the enforcement helper when this process is one (it
// was started by a Cmd) and does not return; otherwise it returns at
// once. Call it first thing in main, and in TestMain of tests that run
// commands under filters. A helper that fails exits 126, the shell's
// "found but could not be executed"; what failed before its filter went
// on (a bad plan, a Landlock rule it refuses) it also tells the parent,
// which returns it as Run's error.
func HelperMain() {
	if len(os.Args) < 4 || os.Args[0] != helperArg0 {
		return
	}
	// Go's ExtraFiles arrive without close-on-exec.
	unix.CloseOnExec(reportFD)
	path, argv := os.Args[2], os.Args[3:]
	if err := setupHelper(os.Args[1]); err != nil {
		unix.Write(reportFD, []byte(err.Error()))
		os.Exit(126)
	}
	err := syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "sysrec: exec %s: %v\n", path, err)
	os.Exit(126)
}

// setupHelper applies the plan passed by the parent to the calling
// thread: Landlock, then the seccomp filter. An error means no filter is
// on. It returns with the thread locked, ready to exec the target.
//
// The filter goes on the calling thread only, not with TSYNC: execve
// keeps the calling thread's filter and ends every other thread, so the
// target runs fully filtered, while the Go runtime's other threads (which
// may call futex or nanosleep, absent from the target's profile) never
// run under a filter learned from a different program. Between install
// and execve this thread makes no syscall but execve (and rt_sigreturn
// should a signal arrive; in notify mode also the exempted write and
// read, raw so the runtime adds none), so the profile must allow execve.
func setupHelper(mode string) error {
	f := os.NewFile(planFD, "plan")
	var pl plan
	err := json.NewDecoder(f).Decode(&pl)
	f.Close()
	if err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	runtime.LockOSThread()
	// Landlock first: its own syscalls then need no place in the seccomp
	// filter. Both stay on this thread and pass through execve.
	if pl.Landlock != nil || pl.Guard != 0 {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
		warnings, err := restrictLandlock(pl.Landlock, pl.LandlockMode, pl.Guard)
		if err != nil {
			return err
		}
		for _, w := range warnings {
			fmt.Fprintf(os.Stderr, "sysrec: %s\n", w)
		}
	}
	switch mode {
	case modeExec:
		return Install(pl.Filter, 0)
	case modeNotify:
		// The listener is close-on-exec; the supervisor takes its own copy
		// with pidfd_getfd once told its number, and then wakes us.
		for from, to := range map[int]int{readyPipe: readyFD, wakePipe: wakeFD} {
			if err := unix.Dup3(from, to, unix.O_CLOEXEC); err != nil {
				return fmt.Errorf("move helper pipe: %w", err)
			}
			unix.Close(from)
		}
		prog, err := decode(pl.Filter)
		if err != nil {
			return err
		}
		arch, err := linuxabi.Native()
		if err != nil {
			return err
		}
		exempt := exemptHelper(prog, arch, pl.Nonce)
		// Until the supervisor holds the listener, a call this thread
		// makes that the filter sends to it waits for nobody: if the Go
		// runtime parked this locked thread (futex) in that window, the
		// run would hang. So nothing in it may allocate or be preempted:
		// the buffers are made now, no garbage collection (whose
		// stop-the-world preempts every thread) may start, and a fresh
		// time slice keeps sysmon (which preempts after 10 ms) away.
		b := make([]byte, 0, 20)
		w := make([]byte, 1)
		debug.SetGCPercent(-1)
		runtime.Gosched()
		// Once the supervisor has read a notification, only a fatal
		// signal ends the caller's wait (5.19): the Go runtime's
		// preemption signals (SIGURG) and a program's timers would
		// otherwise interrupt the call, which restarts and is notified
		// again. Older kernels refuse the flag (EINVAL, and nothing is
		// installed): the filter goes on without it.
		listener, err := installProg(exempt, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
		if errors.Is(err, unix.EINVAL) {
			listener, err = installProg(exempt, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER)
		}
		if err != nil {
			return err
		}
		// Under the filter from here: only the exempted calls, and no
		// report (a write the filter may not allow): a failure means the
		// parent is gone or gave up on us.
		b = strconv.AppendInt(b, int64(listener), 10)
		if _, _, errno := unix.RawSyscall6(unix.SYS_WRITE, readyFD, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(pl.Nonce[0]), uintptr(pl.Nonce[1]), 0); errno != 0 {
			os.Exit(126)
		}
		if n, _, errno := unix.RawSyscall6(unix.SYS_READ, wakeFD, uintptr(unsafe.Pointer(&w[0])), 1, uintptr(pl.Nonce[0]), uintptr(pl.Nonce[1]), 0); errno != 0 || n != 1 {
			os.Exit(126)
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}
