package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// serve behaves as a server does around its transition into serving
// (profiles.Transition), each step marked by a call nothing else in the
// target makes, all raw (the Go runtime must not wait on its own):
//
//	a wait that may block (epoll_pwait, timeout -1, on a pipe made
//	ready), before any listen; getsid; dup(-1) (EBADF); getppid;
//	socket, bind, listen; a wait that cannot block (timeout 0); getpgid;
//	a child forked (it waits in read for a byte, then getgid); the
//	wait that may block again; getpriority; dup(-1); the byte to the
//	first child; a second child (getuid); both reaped; then a thread
//	other than the leader execs it as serve-exec, which calls getegid.
//
// It prints "serve PID CHILD1 CHILD2" and "exec by thread TID of PID"
// before the exec.
func serve() {
	runtime.LockOSThread()
	raw := func(what string, nr uintptr, a ...uintptr) uintptr {
		var args [6]uintptr
		copy(args[:], a)
		r, _, e := syscall.RawSyscall6(nr, args[0], args[1], args[2], args[3], args[4], args[5])
		if e != 0 && what != "" {
			die(fmt.Errorf("%s: %v", what, e))
		}
		return r
	}
	ep := raw("epoll_create1", syscall.SYS_EPOLL_CREATE1, syscall.EPOLL_CLOEXEC)
	var ready [2]int32
	raw("pipe2", syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&ready)), syscall.O_CLOEXEC)
	one := []byte{'x'}
	raw("write", syscall.SYS_WRITE, uintptr(ready[1]), uintptr(unsafe.Pointer(&one[0])), 1)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: ready[0]}
	raw("epoll_ctl", syscall.SYS_EPOLL_CTL, ep, syscall.EPOLL_CTL_ADD, uintptr(ready[0]), uintptr(unsafe.Pointer(&ev)))
	wait := func(timeout int) {
		var out [1]syscall.EpollEvent
		raw("epoll_pwait", syscall.SYS_EPOLL_PWAIT, ep, uintptr(unsafe.Pointer(&out[0])), 1, uintptr(timeout), 0, 8)
	}

	wait(-1)
	raw("getsid", syscall.SYS_GETSID, 0)
	raw("", syscall.SYS_DUP, ^uintptr(0))
	raw("getppid", syscall.SYS_GETPPID)
	fd := raw("socket", syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	sa := [16]byte{syscall.AF_INET, 0, 0, 0, 127, 0, 0, 1} // sockaddr_in 127.0.0.1, any port
	raw("bind", syscall.SYS_BIND, fd, uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	raw("listen", syscall.SYS_LISTEN, fd, 1)
	wait(0)
	raw("getpgid", syscall.SYS_GETPGID, 0)
	var release [2]int32
	raw("pipe2", syscall.SYS_PIPE2, uintptr(unsafe.Pointer(&release)), 0)
	early := rawFork()
	if early == 0 {
		waitByte(release[0])
		syscall.RawSyscall(syscall.SYS_GETGID, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	wait(-1)
	raw("getpriority", syscall.SYS_GETPRIORITY, 0, 0)
	raw("", syscall.SYS_DUP, ^uintptr(0))
	raw("write", syscall.SYS_WRITE, uintptr(release[1]), uintptr(unsafe.Pointer(&one[0])), 1)
	late := rawFork()
	if late == 0 {
		syscall.RawSyscall(syscall.SYS_GETUID, 0, 0, 0)
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	reap(early)
	reap(late)
	fmt.Printf("serve %d %d %d\n", os.Getpid(), early, late)
	self, err := os.Executable()
	if err != nil {
		die(err)
	}
	// By a thread other than the leader (the kernel makes it the leader;
	// what the process kept on the old leader is gone): this one, or a
	// new one when this is the leader (it stays locked to it).
	exec := func() {
		fmt.Printf("exec by thread %d of %d\n", syscall.Gettid(), os.Getpid())
		die(syscall.Exec(self, []string{self, "serve-exec"}, os.Environ()))
	}
	if syscall.Gettid() != os.Getpid() {
		exec()
	}
	go func() {
		runtime.LockOSThread()
		exec()
	}()
	select {}
}

// waitByte reads one byte from fd, in a raw-forked child.
//
//go:nosplit
func waitByte(fd int32) {
	var b [1]byte
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 1)
		if e != syscall.EINTR {
			if e != 0 || n != 1 {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 1, 0, 0)
			}
			return
		}
	}
}

// waitEOF reads fd until its end, then exits: in a raw-forked child.
//
//go:nosplit
func waitEOF(fd int32) {
	var b [1]byte
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 1)
		if e != syscall.EINTR && n != 1 {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
	}
}

// serveExec is what serve execs: getegid, then exit.
func serveExec() {
	syscall.RawSyscall(syscall.SYS_GETEGID, 0, 0, 0)
	fmt.Println("served")
}

// clonePid forks a child with pid want (clone3 with set_tid: root in
// the pid namespace may choose), which waits until stdin closes and
// exits. Prints "cloned PID" once the child runs; exits 3 when the pid
// is taken.
func clonePid(want int) {
	runtime.LockOSThread()
	// struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1).
	args := struct {
		flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls, setTid, setTidSize uint64
	}{exitSignal: uint64(syscall.SIGCHLD), setTidSize: 1}
	tid := int32(want)
	args.setTid = uint64(uintptr(unsafe.Pointer(&tid)))
	var all, old [2]uint32
	all[0], all[1] = ^uint32(0), ^uint32(0)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pid := rawClone3(uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
	if pid == 0 {
		waitEOF(0)
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	if pid == -int(syscall.EEXIST) {
		fmt.Fprintf(os.Stderr, "target: pid %d is taken\n", want)
		os.Exit(3)
	}
	if pid < 0 {
		die(fmt.Errorf("clone3: %v", syscall.Errno(-pid)))
	}
	fmt.Printf("cloned %d\n", pid)
	reap(pid)
}

// rawClone3 is clone3(2) without the Go runtime's bookkeeping: only raw
// system calls may run in the child. It returns the negative errno if
// it failed.
//
//go:nosplit
func rawClone3(args, size uintptr) int {
	const sysClone3 = 435 // the same on every arch
	pid, _, e := syscall.RawSyscall(sysClone3, args, size, 0)
	if e != 0 {
		return -int(e)
	}
	return int(pid)
}

// serveRace has a call in flight while its process starts serving: a
// thread blocks in recvfrom on a unix socket (entered in init), the main
// thread listens and starts serving (epoll_pwait, timeout -1, on a pipe
// made ready), then closes the peer with a byte unread, and the
// thread's recvfrom fails with ECONNRESET, after the start. Prints
// "recvfrom errno=N".
func serveRace() {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	if _, err := syscall.Write(fds[0], []byte{'x'}); err != nil { // unread in fds[1]
		die(err)
	}
	tid := make(chan int)
	done := make(chan syscall.Errno)
	go func() {
		runtime.LockOSThread()
		tid <- syscall.Gettid()
		var b [1]byte
		// Syscall, not RawSyscall: the runtime hands the P over while it
		// blocks, so the main goroutine runs.
		_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fds[0]), uintptr(unsafe.Pointer(&b[0])), 1, 0, 0, 0)
		done <- e
	}()
	// Until the thread is blocked in recvfrom: /proc shows the call.
	path := fmt.Sprintf("/proc/self/task/%d/syscall", <-tid)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			die(err)
		}
		if f := strings.Fields(string(b)); len(f) > 0 && f[0] == strconv.Itoa(syscall.SYS_RECVFROM) {
			break
		}
		runtime.Gosched()
	}
	runtime.LockOSThread()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err == nil {
		if err = syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err == nil {
			err = syscall.Listen(fd, 1)
		}
	}
	if err != nil {
		die(err)
	}
	var ready [2]int
	if err := syscall.Pipe2(ready[:], syscall.O_CLOEXEC); err != nil {
		die(err)
	}
	syscall.Write(ready[1], []byte{'x'})
	fdsPoll := [1]struct {
		fd             int32
		events, revent int16
	}{{int32(ready[0]), 1 /* POLLIN */, 0}}
	// ppoll: in every arch's table; no timeout (NULL): it may block.
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fdsPoll[0])), 1, 0, 0, 0, 0); e != 0 {
		die(fmt.Errorf("ppoll: %v", e))
	}
	syscall.Close(fds[1])
	fmt.Printf("recvfrom errno=%d\n", <-done)
}
