// Command phaseserver is the phase attack's Go server (cmd/sysrec
// TestPhaseAttack), the same server as ../c/server.c: an ordinary line
// server that, on request, does what an attacker who took it over would
// do.
//
//	phaseserver PORT init|plain
//
// With "init" it makes the attack's calls during its start-up, before it
// listens (a child it forks runs /bin/sh, a socket(AF_INET), setuid).
// Then it listens on 127.0.0.1:PORT, says "listening" on stderr, and
// answers one request line per connection: ping (pong), fork (a child
// that exits 7), attack CALL (makes CALL itself; execve runs
// sh -c 'exit 42'), child CALL (a child it forks makes CALL), CALL being
// execve, socket or setuid. SIGTERM ends it with status 0.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unsafe"
)

// The calls, numbered before a fork: a forked child of a Go program has
// one thread and runs raw system calls only, no runtime code.
const (
	callExit = iota
	callExecve
	callSocket
	callSetuid
)

var calls = map[string]int{"execve": callExecve, "socket": callSocket, "setuid": callSetuid}

// uid is the server's own user, read at start-up: the attack's setuid
// is the one call it makes in serving.
var uid = uintptr(os.Getuid())

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: phaseserver PORT init|plain")
		os.Exit(2)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() {
		<-stop
		os.Exit(0)
	}()
	if os.Args[2] == "init" {
		if out := inChild(callExecve); out != "child exited 0" || !call(callSocket) || !call(callSetuid) {
			fmt.Fprintf(os.Stderr, "init calls failed: %s\n", out)
			os.Exit(1)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "listening")
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		req, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprintln(c, answer(strings.TrimSuffix(req, "\n")))
		c.Close()
	}
}

func answer(req string) string {
	if req == "ping" {
		return "pong"
	}
	if req == "fork" {
		return inChild(callExit)
	}
	if name, ok := strings.CutPrefix(req, "attack "); ok {
		if c, ok := calls[name]; ok && call(c) {
			return name + " ok"
		}
		return name + " failed"
	}
	if name, ok := strings.CutPrefix(req, "child "); ok {
		if c, ok := calls[name]; ok {
			return inChild(c)
		}
	}
	return "unknown request"
}

// call makes c in this process; execve does not return when it works.
func call(c int) bool {
	switch c {
	case callExecve:
		syscall.Exec("/bin/sh", []string{"sh", "-c", "exit 42"}, nil)
		return false
	case callSocket:
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			return false
		}
		syscall.Close(fd)
		return true
	case callSetuid:
		_, _, e := syscall.RawSyscall(syscall.SYS_SETUID, uid, 0, 0)
		return e == 0
	}
	return false
}

// inChild forks a child that makes c (for callExit, exits 7; for
// execve, runs sh -c 'exit 0') and describes how it ended. Everything
// the child uses is made before the fork.
func inChild(c int) string {
	sh, _ := syscall.BytePtrFromString("/bin/sh")
	argv, _ := syscall.SlicePtrFromStrings([]string{"sh", "-c", "exit 0"})
	envv := []*byte{nil}
	syscall.ForkLock.Lock()
	pid, _, errno := syscall.RawSyscall(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0)
	if errno == 0 && pid == 0 {
		status := uintptr(1)
		switch c {
		case callExit:
			status = 7
		case callExecve:
			syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(sh)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
		case callSocket:
			if fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, syscall.AF_INET, syscall.SOCK_STREAM, 0); e == 0 {
				syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
				status = 0
			}
		case callSetuid:
			if _, _, e := syscall.RawSyscall(syscall.SYS_SETUID, uid, 0, 0); e == 0 {
				status = 0
			}
		}
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, status, 0, 0)
	}
	syscall.ForkLock.Unlock()
	if errno != 0 {
		return "fork failed: " + errno.Error()
	}
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(int(pid), &ws, 0, nil); err != nil {
		return "wait failed: " + err.Error()
	}
	if ws.Signaled() {
		return fmt.Sprintf("child killed by signal %d", int(ws.Signal()))
	}
	return fmt.Sprintf("child exited %d", ws.ExitStatus())
}
