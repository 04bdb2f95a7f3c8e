package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The calls a server should lose once it serves: each makes one raw
// system call and returns its errno (exec returns only if it failed).
const (
	opSocket = 's' // socket(AF_INET, SOCK_STREAM)
	opSetuid = 'u' // setuid(geteuid()): a no-op that only a privileged call makes
	opExec   = 'e' // execve("/bin/sh", "-c", "echo pwned > DIR/pwned-PID")
	opNone   = 'n' // no call: what an ordinary request's child does
	opUnix   = 'x' // socket(AF_UNIX, SOCK_STREAM): ordinary serving work, the same syscall as opSocket
)

// zombieLeader: server's leader thread exits first (server DIR zombie-leader).
var zombieLeader bool

var opNames = map[string]byte{"socket": opSocket, "setuid": opSetuid, "exec": opExec, "none": opNone, "unix": opUnix}

// execArgs are execve's arguments for opExec, built before any fork (a
// raw-forked child may make raw system calls only).
type execArgs struct {
	path *byte
	argv []*byte
	envp []*byte
}

func newExecArgs(dir string) *execArgs {
	ptr := func(s string) *byte {
		p, err := syscall.BytePtrFromString(s)
		if err != nil {
			die(err)
		}
		return p
	}
	script := "echo pwned > " + filepath.Join(dir, "pwned-$$")
	return &execArgs{path: ptr("/bin/sh"), argv: []*byte{ptr("sh"), ptr("-c"), ptr(script), nil}, envp: []*byte{nil}}
}

// doOp makes op's call and returns its errno.
//
//go:nosplit
func doOp(op byte, ex *execArgs, missing *byte) syscall.Errno {
	var e syscall.Errno
	switch op {
	case opSocket:
		var fd uintptr
		fd, _, e = syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if e == 0 {
			syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		}
	case opUnix:
		var fd uintptr
		fd, _, e = syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if e == 0 {
			syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
		}
	case opSetuid:
		uid, _, _ := syscall.RawSyscall(syscall.SYS_GETEUID, 0, 0, 0)
		_, _, e = syscall.RawSyscall(syscall.SYS_SETUID, uid, 0, 0)
	case opExec:
		path := ex.path
		if missing != nil {
			path = missing
		}
		_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&ex.argv[0])), uintptr(unsafe.Pointer(&ex.envp[0])))
	}
	return e
}

// server is an ordinary server, as phases see one: it initialises (with
// init, it makes socket, setuid and an exec of a path that does not
// exist, printing "init socket errno=0" and so on), listens on a port of
// its own on 127.0.0.1 (written to DIR/port), forks an early child,
// then waits for work in epoll_wait and answers one request per
// connection:
//
//	socket, setuid, exec   the call, answered "errno=N" (none: no call)
//	unix                   socket(AF_UNIX), answered "errno=N"
//	notif-socket           socket(AF_INET) under a user_notif filter of its own, answered "errno=N"
//	threads                16 more threads at once, as a runtime starts them under load: "ok"
//	leader-state           the leader thread's State in /proc ("Z (zombie)" once it exited)
//	reset-phase-socket     set its own state to init in the phase map, then socket(AF_INET): "maps=N errno=E"
//	fork-OP                the same from a child it forks now
//	newpid-OP              the same from a child it forks now as pid 1 of a new pid namespace
//	early-OP               the same from the child forked before it served
//	thread-exec            a thread other than the leader execs this target as
//	                       "after-exec DIR": it calls socket and writes DIR/after-exec
//	quit                   exit 0
//
// A child's answer is "errno=N", "exited N" (its exec ran) or "killed by
// signal N". With thread, a thread other than the leader serves (and
// so starts serving), as in a threaded server; with zombie-leader too,
// the leader thread exits first and the server's own thread exits the
// process after quit.
func server(dir string, init, thread bool) {
	runtime.LockOSThread() // the main goroutine stays on the leader thread
	if thread {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // not the leader: main holds it
			server(dir, init, false)
			if zombieLeader {
				os.Exit(0) // main is gone with the leader
			}
			close(done)
		}()
		if zombieLeader {
			// The leader thread ends alone (exit, not exit_group): the
			// process lives on in its other threads, its leader a zombie.
			// Through Syscall, not RawSyscall: the runtime then knows
			// this goroutine (and its thread) are in a call for good,
			// so a garbage collection does not wait for them.
			syscall.Syscall(syscall.SYS_EXIT, 0, 0, 0)
		}
		<-done
		return
	}
	ex := newExecArgs(dir)
	if init {
		missing, _ := syscall.BytePtrFromString(filepath.Join(dir, "no-such-program"))
		for _, name := range []string{"socket", "setuid", "exec"} {
			fmt.Printf("init %s errno=%d\n", name, int(doOp(opNames[name], ex, missing)))
		}
	}
	ln, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	if err := syscall.Bind(ln, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		die(err)
	}
	if err := syscall.Listen(ln, 16); err != nil {
		die(err)
	}
	sa, err := syscall.Getsockname(ln)
	if err != nil {
		die(err)
	}
	early := forkEarly(ex)
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		die(err)
	}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, ln, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(ln)}); err != nil {
		die(err)
	}
	if zombieLeader {
		// Listening only once the leader is a zombie: the tests ask
		// for its state first.
		for deadline := time.Now().Add(10 * time.Second); leaderState() != "Z (zombie)"; runtime.Gosched() {
			if time.Now().After(deadline) {
				die(errors.New("the leader thread did not exit"))
			}
		}
	}
	// Written (atomically) once everything above is done: the next call
	// that may block starts serving.
	tmp := filepath.Join(dir, "port.tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d\n", sa.(*syscall.SockaddrInet4).Port), 0o644); err != nil {
		die(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "port")); err != nil {
		die(err)
	}
	events := make([]syscall.EpollEvent, 1)
	for {
		n, err := syscall.EpollWait(ep, events, -1)
		if errors.Is(err, syscall.EINTR) || n == 0 {
			continue
		}
		if err != nil {
			die(err)
		}
		c, _, err := syscall.Accept4(ln, syscall.SOCK_CLOEXEC)
		if err != nil {
			die(err)
		}
		f := os.NewFile(uintptr(c), "conn")
		req, _ := bufio.NewReader(f).ReadString('\n')
		req = strings.TrimSpace(req)
		if req == "quit" {
			f.Close()
			return
		}
		fmt.Fprintln(f, answer(req, dir, ex, early))
		f.Close()
	}
}

// answer runs request req.
func answer(req, dir string, ex *execArgs, early *earlyChild) string {
	how, name, _ := strings.Cut(req, "-")
	if name == "" {
		how, name = "", how
	}
	if req == "thread-exec" {
		threadExec(dir)
	}
	switch req {
	case "notif-socket":
		return notifSocket()
	case "threads":
		return threads()
	case "leader-state":
		return leaderState()
	case "reset-phase-socket":
		return resetPhase()
	}
	op, ok := opNames[name]
	if !ok {
		return fmt.Sprintf("unknown request %q", req)
	}
	switch how {
	case "":
		return fmt.Sprintf("errno=%d", int(doOp(op, ex, nil)))
	case "fork", "newpid":
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			die(err)
		}
		flags := uintptr(syscall.SIGCHLD)
		if how == "newpid" {
			flags |= syscall.CLONE_NEWPID
		}
		pid := rawClone(flags)
		if pid == 0 {
			e := doOp(op, ex, nil)
			b := [1]byte{byte(e)}
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(p[1]), uintptr(unsafe.Pointer(&b[0])), 1)
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		syscall.Close(p[1])
		ans := childAnswer(p[0], pid)
		if strings.HasPrefix(ans, "errno=") {
			// It answered and exits: reaped, as a server reaps its
			// children (one that ended otherwise was reaped already).
			syscall.Close(p[0])
			wait4(pid)
		}
		return ans
	case "early":
		return early.do(op)
	}
	return fmt.Sprintf("unknown request %q", req)
}

// earlyChild is a process forked before its parent served: it waits on
// a pipe for an op, makes it and writes back its errno.
type earlyChild struct {
	pid     int
	ops     int // write end
	results int // read end
}

func forkEarly(ex *execArgs) *earlyChild {
	var ops, res [2]int
	if err := syscall.Pipe2(ops[:], syscall.O_CLOEXEC); err != nil {
		die(err)
	}
	if err := syscall.Pipe2(res[:], syscall.O_CLOEXEC); err != nil {
		die(err)
	}
	pid := rawFork()
	if pid == 0 {
		// Only the parent writes ops: EOF once it is gone.
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(ops[1]), 0, 0)
		syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(res[0]), 0, 0)
		earlyLoop(ops[0], res[1], ex)
	}
	syscall.Close(ops[0])
	syscall.Close(res[1])
	return &earlyChild{pid: pid, ops: ops[1], results: res[0]}
}

//go:nosplit
func earlyLoop(ops, results int, ex *execArgs) {
	var b [1]byte
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(ops), uintptr(unsafe.Pointer(&b[0])), 1)
		if e != 0 || n != 1 {
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		b[0] = byte(doOp(b[0], ex, nil))
		syscall.RawSyscall(syscall.SYS_WRITE, uintptr(results), uintptr(unsafe.Pointer(&b[0])), 1)
	}
}

func (c *earlyChild) do(op byte) string {
	if _, err := syscall.Write(c.ops, []byte{op}); err != nil {
		return "early child gone: " + err.Error()
	}
	return childAnswer(c.results, c.pid)
}

// childAnswer reads a child's errno from fd, or reaps it when it ended
// without one (its exec ran, or it was killed).
func childAnswer(fd, pid int) string {
	var b [1]byte
	if n, _ := syscall.Read(fd, b[:]); n == 1 {
		return fmt.Sprintf("errno=%d", b[0])
	}
	syscall.Close(fd)
	ws, err := wait4(pid)
	if err != nil {
		return "wait: " + err.Error()
	}
	if ws.Signaled() {
		return fmt.Sprintf("killed by signal %d", int(ws.Signal()))
	}
	return fmt.Sprintf("exited %d", ws.ExitStatus())
}

// threadExec has a thread other than the leader exec this target as
// "after-exec DIR"; it does not return.
func threadExec(dir string) {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() == syscall.Getpid() {
			done <- errors.New("thread-exec: on the leader thread")
			return
		}
		self, err := os.Executable()
		if err != nil {
			done <- err
			return
		}
		done <- syscall.Exec(self, []string{"target", "after-exec", dir}, os.Environ())
	}()
	die(<-done)
}

// afterExec runs in the image a non-leader thread exec'd: socket, its
// errno written to DIR/after-exec.
func afterExec(dir string) {
	e := doOp(opSocket, nil, nil)
	if err := os.WriteFile(filepath.Join(dir, "after-exec"), fmt.Appendf(nil, "errno=%d\n", int(e)), 0o644); err != nil {
		die(err)
	}
}

// ask sends request req to the server whose port is in DIR/port and
// prints its answer ("closed" when it closed the connection unanswered).
// Raw sockets, not package net: net would link the C resolver, and the
// target must stay a static Go binary.
func ask(dir, req string) {
	b, err := os.ReadFile(filepath.Join(dir, "port"))
	if err != nil {
		die(err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		die(err)
	}
	c, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	if err := syscall.Connect(c, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		die(err)
	}
	f := os.NewFile(uintptr(c), "conn")
	defer f.Close()
	fmt.Fprintln(f, req)
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		fmt.Println("closed")
		return
	}
	fmt.Print(line)
}

// threads has 16 goroutines hold a thread each at once, so the runtime
// starts threads (clone with CLONE_THREAD) while the server serves; each
// ends with its goroutine (locked when it returns).
func threads() string {
	var locked sync.WaitGroup
	release := make(chan struct{})
	for range 16 {
		locked.Add(1)
		go func() {
			runtime.LockOSThread()
			locked.Done()
			<-release
		}()
	}
	locked.Wait()
	close(release)
	return "ok"
}

// leaderState returns the State line of the process's leader thread.
func leaderState() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", syscall.Getpid()))
	if err != nil {
		return err.Error()
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "State:\t"); ok {
			return v
		}
	}
	return "no State line"
}
