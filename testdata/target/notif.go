package main

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// notifSocket makes socket(AF_INET, SOCK_STREAM) on a thread that has
// installed a filter of its own on top of the one it runs under: socket
// goes to user space (SECCOMP_RET_USER_NOTIF) on a listener this process
// holds, and another thread of it lets the call continue. Of filters
// whose actions tie, the kernel takes the newest: a listener of the
// process's own outranks its supervisor's. It returns "errno=N" as the
// server's other requests do.
func notifSocket() string {
	type result struct {
		s        string
		listener int
	}
	installed := make(chan result)
	called := make(chan string)
	go func() {
		// The thread keeps the filter: it ends with the goroutine, never
		// serving another.
		runtime.LockOSThread()
		prog := []unix.SockFilter{
			{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // nr
			{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_SOCKET, Jt: 0, Jf: 1},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF},
			{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		l, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&fprog)))
		if e != 0 {
			installed <- result{s: fmt.Sprintf("errno=%d (seccomp)", int(e))}
			return
		}
		installed <- result{listener: int(l)}
		called <- fmt.Sprintf("errno=%d", int(doOp(opSocket, nil, nil)))
	}()
	r := <-installed
	if r.s != "" {
		return r.s
	}
	defer syscall.Close(r.listener)
	var n struct {
		id         uint64
		pid, flags uint32
		nr         int32
		arch       uint32
		ip         uint64
		args       [6]uint64
	}
	if _, _, e := syscall.Syscall(unix.SYS_IOCTL, uintptr(r.listener), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n))); e != 0 {
		return fmt.Sprintf("errno=%d (receive)", int(e))
	}
	resp := struct {
		id    uint64
		val   int64
		error int32
		flags uint32
	}{id: n.id, flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	if _, _, e := syscall.Syscall(unix.SYS_IOCTL, uintptr(r.listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp))); e != 0 {
		return fmt.Sprintf("errno=%d (respond)", int(e))
	}
	return <-called
}
