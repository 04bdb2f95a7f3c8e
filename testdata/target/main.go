// Command target is sysrec's test and demo program. Each mode makes a
// known set of system calls:
//
//	target normal        print a greeting, read a file
//	target stray         normal, then one syscall normal never makes (getpriority)
//	target tree N        N threads and a child process, each calling getcwd N times
//	target args          socket/mmap/ioctl/fcntl with known argument values
//	target loop N [-v]   getppid N times; -v prints ns/call (overhead benchmark)
//	target alarm-loop N  getppid N times under a SIGALRM every 20 µs (a handler
//	                     with SA_RESTART, as the Go runtime's preemption signal has)
//	target sleep D       sleep for duration D, then normal
//	target storm F T O C  a waiter process (comm "exe"), T short-lived threads,
//	                     F short-lived forked processes and O orphans (their
//	                     parent exits before they run), each calling getppid
//	                     C times; prints the calls it knows were made
//	target phases N...   print "ready"; per N: wait for a line on stdin,
//	                     call getppid N times, print "done N"
//	target block         print "ready", block until a signal ends it
//	target ignore-term   ignore SIGTERM, print "ready", block until killed
//	target syscall NR A0 A1 A2  one raw syscall, prints errno=N (run under a filter)
//	target apply         lock itself down with enforce.Apply, then call the denied getpriority from 8 threads
//	target thread        start a thread of its own, print "thread done"
//	target fork          thread, then fork by clone(SIGCHLD): the child exits at once
//	target tcp PORT HOW  send HOW to 127.0.0.1:PORT: connect then send (connect), sendto with
//	                     MSG_FASTOPEN (fastopen), TCP_FASTOPEN_CONNECT then connect and send
//	                     (fastopen-connect); or listen on it (listen: a server on the port its
//	                     command line names; listen-next also binds PORT+1); connect-env
//	                     connects to $TARGET_PORT instead, a port the command line does not name
//	target i386 FILE [stray|exec|native]  three i386 calls (int $0x80) that read as x86_64 would be
//	                     socket, unshare and truncate(FILE), and an i386 mmap2 of a read-write page;
//	                     then with stray an i386 old_mmap (nr 90) of an RWX page, with exec an i386
//	                     mmap2 of an RWX page, with native an x86_64 socket(AF_PACKET, SOCK_RAW), nr 41
//	                     as i386 dup
//	target unix connect|sendto ADDR  reach the unix socket at ADDR (a path, or @ and an abstract name)
//	target mkdir-race DIR N  mkdir DIR/a/x N times while another thread flips its a to b and back (DIR/b/x exists)
//	target repoint DIR   calls through symlinks in DIR, then repoints the links (see repoint)
//	target openat2-flip FILE FLAGS N  openat2 FILE read-only N times while another thread flips the flags to FLAGS
//	target signal-own-group  setsid, then kill(0, 0)
//	target unix-own stream|dgram NAME  listen on the abstract socket @NAME and connect to it, or bind it and send to it
//	target serve         a server's transition into serving, each step marked by a call of its own (see serve)
//	target serve-race    a call in flight (recvfrom) while another thread starts serving; it fails after (see serveRace)
//	target clone-pid PID  a child of pid PID (clone3 set_tid) that waits until stdin closes
//	target clone-into CGROUP  run "target stray" born in the cgroup directory CGROUP
//	target mkdir-fresh-page DIR  mkdir DIR/x, its path in a mapped page not touched yet
//	target server DIR [init] [thread]  a server that waits in epoll_wait and on request makes the calls
//	                     a serving process should not (see server); init makes them before
//	target ask DIR REQ   send REQ to the server whose port is in DIR/port, print its answer
//	target serving-phase  socket, enforce.ServingPhase of a profile with socket init-only, socket
//	target calls         per stdin line "NR A0 A1 A2" (or "i386 NR BX CX DX") one raw call, printing its result
//	target phased-profile FILE NAME...  write a profile allowing every call, NAMEs in init only
//
// Its runtime is made as deterministic as Go allows, so that one
// recording covers every later run of the same mode: it re-execs itself
// once with GOMAXPROCS=1 (no lock contention between Ps, which makes the
// runtime call sched_yield at timing-dependent moments) and
// GODEBUG=asyncpreemptoff=1 (no preemption signals, sent with
// getpid+tgkill), and it turns the garbage collector off.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
		fmt.Fprintln(os.Stderr, "usage: target normal|stray|tree N|args|loop N|sleep D|storm F T O C|block|ignore-term")
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
	case "alarm-loop":
		alarmLoop(atoi(os.Args[2]))
	case "storm":
		storm(atoi(os.Args[2]), atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]))
	case "phases":
		phases(os.Args[2:])
	case "waiter":
		waiter(atoi(os.Args[2]))
	case "block", "ignore-term":
		if os.Args[1] == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		fmt.Println("ready")
		for {
			time.Sleep(time.Hour)
		}
	case "syscall":
		rawCall(os.Args[2:])
	case "apply":
		apply()
	case "tcp":
		tcp(atoi(os.Args[2]), os.Args[3])
	case "thread", "fork":
		thread()
		if os.Args[1] == "fork" {
			runtime.LockOSThread()
			pid := rawFork()
			if pid == 0 {
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
			}
			fmt.Printf("forked %d\n", pid)
		}
	case "i386":
		then := ""
		if len(os.Args) > 3 {
			then = os.Args[3]
		}
		i386(os.Args[2], then)
	case "unix":
		unixClient(os.Args[2], os.Args[3])
	case "mkdir-race":
		mkdirRace(os.Args[2], atoi(os.Args[3]))
	case "repoint":
		repoint(os.Args[2])
	case "openat2-flip":
		openat2Flip(os.Args[2], uint64(atoi(os.Args[3])), atoi(os.Args[4]))
	case "signal-own-group":
		signalOwnGroup()
	case "unix-own":
		unixOwn(os.Args[2], os.Args[3])
	case "serve":
		serve()
	case "serve-exec":
		serveExec()
	case "serve-race":
		serveRace()
	case "clone-pid":
		clonePid(atoi(os.Args[2]))
	case "clone-into":
		cloneInto(os.Args[2])
	case "mkdir-fresh-page":
		mkdirFreshPage(os.Args[2])
	case "server":
		zombieLeader = slices.Contains(os.Args[3:], "zombie-leader")
		server(os.Args[2], slices.Contains(os.Args[3:], "init"), zombieLeader || slices.Contains(os.Args[3:], "thread"))
	case "after-exec":
		afterExec(os.Args[2])
	case "ask":
		ask(os.Args[2], os.Args[3])
	case "serving-phase":
		servingPhase()
	case "calls":
		calls()
	case "phased-profile":
		writeProfile(os.Args[2], os.Args[3:])
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

// thread runs a goroutine on a thread of its own until it is done.
func thread() {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // ends with the goroutine: the thread exits
		getcwdN(1)
		close(done)
	}()
	<-done
	fmt.Println("thread done")
}

// tcp sends how to a TCP port on the loopback, the way how names, with
// the calls of that way alone, or listens on it.
func tcp(port int, how string) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if how == "connect-env" {
		// A port the command line does not name.
		port = atoi(os.Getenv("TARGET_PORT"))
	}
	to := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	msg := []byte(how)
	switch how {
	case "connect", "connect-env":
		if err = syscall.Connect(fd, to); err == nil {
			err = syscall.Sendto(fd, msg, 0, nil)
		}
	case "fastopen":
		err = syscall.Sendto(fd, msg, syscall.MSG_FASTOPEN, to)
	case "fastopen-connect":
		const tcpFastOpenConnect = 30 // TCP_FASTOPEN_CONNECT: the SYN waits for the first send
		if err = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, tcpFastOpenConnect, 1); err == nil {
			if err = syscall.Connect(fd, to); err == nil {
				err = syscall.Sendto(fd, msg, 0, nil)
			}
		}
	case "listen", "listen-next":
		// A server on the port its command line names; listen-next
		// then also binds the next port, which it was not given.
		if err = syscall.Bind(fd, to); err == nil {
			err = syscall.Listen(fd, 1)
		}
		if err == nil && how == "listen-next" {
			fd2, serr := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
			if err = serr; err == nil {
				err = syscall.Bind(fd2, &syscall.SockaddrInet4{Port: port + 1, Addr: to.Addr})
			}
		}
		msg = nil
	default:
		err = fmt.Errorf("unknown way %q", how)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "target: tcp %s: %v\n", how, err)
		os.Exit(1)
	}
	syscall.Close(fd)
	if msg == nil {
		fmt.Printf("listened on %d\n", port)
		return
	}
	fmt.Printf("sent %s\n", how)
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

// storm makes the calls of many short-lived threads and processes, so
// that a recorder keeping per-process state sees thousands of processes
// come and go: t threads, f forked processes and o orphans each call
// getppid c times. A waiter exec'd as /proc/self/exe (comm "exe") sleeps
// through the storm and then calls getppid c times: a recorder that
// forgot which executable it is charges its calls to its parent.
// It prints "storm target=N exe=M": the getppid calls made under each
// name.
func storm(f, t, o, c int) {
	cmd := exec.Command("/proc/self/exe", "waiter", strconv.Itoa(c))
	in, err := cmd.StdinPipe()
	if err != nil {
		die(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		die(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		die(err)
	}
	ready := make([]byte, 6)
	if _, err := io.ReadFull(out, ready); err != nil || string(ready) != "ready\n" {
		die(fmt.Errorf("waiter: %q %v", ready, err))
	}

	var calls atomic.Int64
	// Threads, four at a time: each locks its goroutine to a fresh OS
	// thread and returns locked, so the thread exits.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for range t {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runtime.LockOSThread()
			getppidN(c)
			calls.Add(int64(c))
		}()
	}
	wg.Wait()

	runtime.LockOSThread()
	for range f {
		pid := rawFork()
		if pid == 0 {
			childCalls(c)
		}
		reap(pid)
		calls.Add(int64(c))
	}
	// Orphans: a child forks a grandchild and exits at once; the
	// grandchild makes no syscall until its parent has been reaped, so
	// its first call comes from a process whose parent is gone.
	flags, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
	if err != nil {
		die(err)
	}
	reaped := (*uint32)(unsafe.Pointer(&flags[0])) // how many parents of orphans were reaped
	for i := range uint32(o) {
		pid := rawFork()
		if pid == 0 {
			switch rawForkChild(uintptr(syscall.SIGCHLD)) {
			case 0:
				for j := 0; atomic.LoadUint32(reaped) <= i && j < 1<<34; j++ {
				}
				childCalls(c)
			case -1:
				syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 1, 0, 0)
			}
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
		reap(pid)
		atomic.StoreUint32(reaped, i+1)
		calls.Add(int64(c))
	}
	runtime.UnlockOSThread()

	in.Close() // wakes the waiter
	n, err := io.ReadAll(out)
	if err != nil {
		die(err)
	}
	if err := cmd.Wait(); err != nil {
		die(fmt.Errorf("waiter: %v", err))
	}
	var waited int
	if _, err := fmt.Sscanf(string(n), "waited %d", &waited); err != nil {
		die(fmt.Errorf("waiter said %q", n))
	}
	fmt.Printf("storm target=%d exe=%d\n", calls.Load(), waited)
}

// waiter says it is ready, waits for stdin to close, then calls getppid
// c times.
func waiter(c int) {
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	getppidN(c)
	fmt.Printf("waited %d\n", c)
}

// phases says "ready", then for each count waits for a line on stdin,
// makes that many getppid calls and says "done COUNT".
func phases(counts []string) {
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	for _, c := range counts {
		if _, err := in.ReadString('\n'); err != nil {
			die(err)
		}
		getppidN(atoi(c))
		fmt.Printf("done %s\n", c)
	}
}

func getppidN(n int) {
	for range n {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "target:", err)
	os.Exit(1)
}

// rawFork forks the calling thread with every signal blocked in the child
// (the Go runtime must never run there). The caller is locked to its
// thread. It returns 0 in the child.
func rawFork() int { return rawClone(uintptr(syscall.SIGCHLD)) }

// rawClone is rawFork with clone flags of the caller's.
func rawClone(flags uintptr) int {
	var all, old [2]uint32 // sigset_t as the kernel sees it: 64 bits
	all[0], all[1] = ^uint32(0), ^uint32(0)
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		die(fmt.Errorf("rt_sigprocmask: %v", e))
	}
	pid := rawForkChild(flags)
	if pid == 0 {
		return 0
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
	if pid < 0 {
		die(errors.New("fork failed"))
	}
	return pid
}

// rawForkChild is fork(2) without the Go runtime's bookkeeping: only
// raw system calls may run in the child. It returns -1 if fork failed.
//
//go:nosplit
func rawForkChild(flags uintptr) int {
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, flags, 0, 0, 0, 0, 0)
	if e != 0 {
		return -1
	}
	return int(pid)
}

// childCalls runs in a raw-forked child: it calls getppid c times and
// exits.
//
//go:nosplit
func childCalls(c int) {
	for range c {
		syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
}

// wait4 waits for child pid to end.
func wait4(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws, err
		}
	}
}

// reap waits for the raw-forked child pid and checks it exited with 0.
func reap(pid int) {
	ws, err := wait4(pid)
	if err != nil {
		die(fmt.Errorf("wait4 %d: %v", pid, err))
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		die(fmt.Errorf("child %d: status %#x", pid, ws))
	}
}
