package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// mkdirRace races a path-taking call against a change of its path: one
// thread calls mkdir on DIR/a/x (DIR/a exists) n times, removing it after
// each success, while another flips one byte of the path buffer between
// a and b (DIR/b/x exists: a mkdir the kernel sees there fails). A
// recorder that reads the path from the caller's memory after the call
// may see DIR/b/x for a mkdir the kernel made in DIR/a. Prints "made M
// of N".
func mkdirRace(dir string, n int) {
	runtime.GOMAXPROCS(2) // the flipper runs beside the caller
	path := filepath.Join(dir, "a", "x")
	buf := append([]byte(path), 0)
	flip := &buf[len(dir)+1] // the a of DIR/a/x
	var done atomic.Bool
	go func() {
		runtime.LockOSThread()
		for !done.Load() {
			setByte(flip, 'b')
			setByte(flip, 'a')
		}
	}()
	rm := append([]byte(path), 0)
	made := 0
	for range n {
		_, _, e := syscall.RawSyscall(syscall.SYS_MKDIRAT, uintptr(AT_FDCWD), uintptr(unsafe.Pointer(&buf[0])), 0o755)
		if e == 0 {
			made++
			if _, _, e := syscall.RawSyscall(syscall.SYS_UNLINKAT, uintptr(AT_FDCWD), uintptr(unsafe.Pointer(&rm[0])), AT_REMOVEDIR); e != 0 {
				die(e)
			}
		}
	}
	done.Store(true)
	fmt.Printf("made %d of %d\n", made, n)
	if made == 0 {
		fmt.Fprintln(os.Stderr, "target: no mkdir succeeded")
		os.Exit(1)
	}
}

const (
	AT_FDCWD     = -100 & (1<<64 - 1) // as the syscall takes it
	AT_REMOVEDIR = 0x200
)

// setByte stores v at p; a call, so that the compiler keeps each store.
//
//go:noinline
func setByte(p *byte, v byte) { *p = v }
