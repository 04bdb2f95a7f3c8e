package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
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
