// Command target is sysrec's test and demo program. Each mode makes a
// known set of system calls:
//
//	target normal        print a greeting, read a file
//	target stray         normal, then one syscall normal never makes (getpriority)
//	target tree N        N threads and a child process, each calling getcwd N times
//	target args          socket/mmap/ioctl/fcntl with known argument values
//	target loop N [-v]   getppid N times; -v prints ns/call (overhead benchmark)
//	target sleep D       sleep for duration D, then normal
//
// Its runtime is made as deterministic as Go allows, so that one
// recording covers every later run of the same mode: it re-execs itself
// once with GOMAXPROCS=1 (no lock contention between Ps, which makes the
// runtime call sched_yield at timing-dependent moments) and
// GODEBUG=asyncpreemptoff=1 (no preemption signals, sent with
// getpid+tgkill), and it turns the garbage collector off.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// settle re-execs the target with a quiet runtime, once.
func settle() {
	if os.Getenv("TARGET_SETTLED") == "1" {
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	env := append(os.Environ(), "TARGET_SETTLED=1", "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
	err = syscall.Exec(self, os.Args, env)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	settle()
	debug.SetGCPercent(-1)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: target normal|stray|tree N|args|loop N|sleep D")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "normal":
		normal()
	case "stray":
		normal()
		// getpriority: never made by the Go runtime or by normal.
		prio, _, errno := syscall.Syscall(syscall.SYS_GETPRIORITY, 0, 0, 0)
		if errno != 0 {
			fmt.Fprintf(os.Stderr, "target: getpriority: %v\n", errno)
			os.Exit(3)
		}
		fmt.Printf("priority %d\n", 20-int(prio))
	case "tree":
		tree(atoi(os.Args[2]))
	case "child":
		getcwdN(atoi(os.Args[2]))
	case "args":
		args()
	case "loop":
		n := atoi(os.Args[2])
		start := time.Now()
		for range n {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		if len(os.Args) > 3 && os.Args[3] == "-v" {
			fmt.Printf("%.1f ns/call\n", float64(time.Since(start).Nanoseconds())/float64(n))
		}
	case "sleep":
		d, err := time.ParseDuration(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		time.Sleep(d)
		normal()
	default:
		fmt.Fprintf(os.Stderr, "target: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return n
}

func normal() {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("hello from %s", b)
}

func getcwdN(n int) {
	buf := make([]byte, 4096)
	for range n {
		syscall.RawSyscall(syscall.SYS_GETCWD, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
	}
}

func tree(n int) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own, kept to the end
			getcwdN(n)
		}()
	}
	wg.Wait()
	self, err := os.Executable() // not /proc/self/exe: the child's comm is then "exe"
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "child", strconv.Itoa(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// args makes calls whose recorded arguments tests check exactly.
func args() {
	must := func(what string, _ uintptr, _ uintptr, errno syscall.Errno) {
		if errno != 0 {
			fmt.Fprintf(os.Stderr, "target: %s: %v\n", what, errno)
			os.Exit(1)
		}
	}
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	must("socket inet", fd, 0, e)
	syscall.Close(int(fd))
	fd, _, e = syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	must("socket unix", fd, 0, e)
	syscall.Close(int(fd))
	addr, _, e := syscall.RawSyscall6(syscall.SYS_MMAP, 0, 4096, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS, ^uintptr(0), 0)
	must("mmap", addr, 0, e)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var n int32
	r1, r2, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(p[0]), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))) // FIONREAD
	must("ioctl", r1, r2, e)
	r1, r2, e = syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(p[0]), syscall.F_GETFL, 0)
	must("fcntl", r1, r2, e)
	fmt.Println("args done")
}
