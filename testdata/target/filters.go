package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// rawCall makes one syscall with up to three arguments and prints its
// errno: "target syscall NR A0 A1 A2", run under a filter by a test.
// mprotect gets a page of its own to change; a socket it opened is
// closed.
func rawCall(args []string) {
	var v [4]uintptr
	for i, a := range args {
		n, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		v[i] = uintptr(n)
	}
	if v[0] == syscall.SYS_MPROTECT {
		page, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
		if e != 0 {
			fmt.Fprintln(os.Stderr, "mmap:", e)
			os.Exit(2)
		}
		v[1] = page
	}
	r, _, e := syscall.RawSyscall(v[0], v[1], v[2], v[3])
	if v[0] == syscall.SYS_SOCKET && e == 0 {
		syscall.Close(int(r))
	}
	fmt.Printf("errno=%d\n", int(e))
}

// apply starts eight threads, locks the process down with enforce.Apply
// (a profile that allows everything but getpriority, which gets EPERM),
// then has every thread call getpriority: threads that existed before
// Apply must be filtered too (TSYNC). Prints "denied N of 8".
func apply() {
	p := &profiles.Profile{Version: 1, Arch: []string{runtime.GOARCH}, DefaultAction: profiles.ActAllow,
		Syscalls: []profiles.Syscall{{Name: "getpriority", Action: profiles.ActEPERM}}}
	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	denied := 0
	ready, start := make(chan struct{}), make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own, running before Apply
			ready <- struct{}{}
			<-start
			_, _, e := syscall.RawSyscall(syscall.SYS_GETPRIORITY, 0, 0, 0)
			mu.Lock()
			if e == syscall.EPERM {
				denied++
			}
			mu.Unlock()
		}()
	}
	for range 8 {
		<-ready
	}
	if err := enforce.Apply(filter); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	close(start)
	wg.Wait()
	fmt.Printf("denied %d of 8\n", denied)
}

// servingPhase installs a profile's whole filter (every call of the arch
// allowed, socket in init only), calls socket (prints "init socket
// errno=0"), enters the serving phase with enforce.ServingPhase and
// calls socket again: the kernel kills it (SIGSYS) before it prints.
func servingPhase() {
	p := phasedProfile("socket")
	whole, err := emit.Raw(p, emit.Options{})
	if err != nil {
		die(err)
	}
	if err := enforce.Apply(whole); err != nil {
		die(err)
	}
	fmt.Printf("init socket errno=%d\n", int(doOp(opSocket, nil, nil)))
	if err := enforce.ServingPhase(p); err != nil {
		die(err)
	}
	fmt.Printf("serving socket errno=%d\n", int(doOp(opSocket, nil, nil)))
}

// phasedProfile allows every call of the native arch, those named only
// in init, except the ones run refuses phases for: io_uring (a test adds
// it to see the refusal) and bpf's program loads (its map commands stay:
// TestPhasesAttackPhaseMap uses them).
func phasedProfile(init ...string) *profiles.Profile {
	arch, err := linuxabi.Native()
	if err != nil {
		die(err)
	}
	p := &profiles.Profile{Version: 3, Arch: []string{arch.Name}, DefaultAction: profiles.ActKillProcess,
		Phases: &profiles.Phases{Transition: profiles.DefaultTransition()}}
	for _, name := range arch.Syscalls() {
		s := profiles.Syscall{Name: name}
		switch name {
		case "io_uring_setup", "io_uring_enter", "io_uring_register":
			continue
		case "bpf":
			var cmds []uint64
			for cmd := range uint64(64) {
				if cmd != unix.BPF_PROG_LOAD {
					cmds = append(cmds, cmd)
				}
			}
			s.Args = []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: cmds}}
		}
		if slices.Contains(init, name) {
			s.Phase = profiles.PhaseInit
		}
		p.Syscalls = append(p.Syscalls, s)
	}
	return p
}

// writeProfile writes phasedProfile(init...) to path: the hand-written
// phased profiles of the phase tests.
func writeProfile(path string, init []string) {
	b, err := phasedProfile(init...).Marshal()
	if err != nil {
		die(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		die(err)
	}
}

// calls makes one call per line of stdin, "NR A0 A1 A2" natively or
// "i386 NR BX CX DX" through int $0x80, and prints its result
// ("errno=N", "eax=N") after each.
func calls() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) > 0 && f[0] == "i386" {
			int80Call(f[1:])
			continue
		}
		rawCall(f)
	}
}

// alarmLoop makes n getppid calls while an interval timer signals the
// process every 20 µs: most calls a supervisor answers are interrupted
// by a signal unless its filter waits killably once notified.
func alarmLoop(n int) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGALRM)
	tick := unix.Timeval{Usec: 20}
	if _, err := unix.Setitimer(unix.ItimerReal, unix.Itimerval{Interval: tick, Value: tick}); err != nil {
		die(err)
	}
	for range n {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
}
