package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// repoint makes calls whose path strings pass symlinks, then repoints
// the links, in DIR (made by the caller: W/, V/x, H/bin/, S/s, the
// script W/s, and links L -> W, K -> W, M -> H). A recorder that
// resolves the strings after the target exited learns rights on the
// places the links name by then:
//   - mkdir L/x (W/x), repoint L -> V, unlink L/x (V/x): make_dir where
//     only a remove was made;
//   - rename M/bin to M/bin2 and back, repoint M -> DIR/H/bin: make and
//     remove rights inside H/bin, which was only renamed;
//   - exec the script K/s (W/s), repoint K -> S: read and execute on S/s.
func repoint(dir string) {
	step := func(err error) {
		if err != nil {
			die(err)
		}
	}
	relink := func(link, to string) {
		step(syscall.Unlink(link))
		step(syscall.Symlink(to, link))
	}
	step(syscall.Chdir(dir))
	step(syscall.Mkdir("L/x", 0o755))
	relink("L", "V")
	step(syscall.Unlink("L/x"))

	step(syscall.Rename("M/bin", "M/bin2"))
	step(syscall.Rename("M/bin2", "M/bin"))
	relink("M", dir+"/H/bin")

	pid, err := syscall.ForkExec("K/s", []string{"K/s"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	step(err)
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
		die(fmt.Errorf("script: %v (status %d)", err, ws.ExitStatus()))
	}
	relink("K", "S")
	fmt.Println("repointed")
}

// openat2Flip opens FILE read-only with openat2 n times while another
// thread flips the flags in its struct open_how between O_RDONLY and
// O_RDONLY|flags. The kernel copies the struct at the call's entry; a
// recorder that reads it again at the exit can read flags the kernel
// never saw. flags is chosen so that the kernel fails the open when it
// does see them (__O_TMPFILE without O_DIRECTORY: EINVAL; O_TRUNC on
// the running executable: ETXTBSY): every open that succeeds was a
// plain read. Prints "opened M of N".
func openat2Flip(file string, flags uint64, n int) {
	runtime.GOMAXPROCS(2) // the flipper runs beside the caller
	how := &struct{ flags, mode, resolve uint64 }{}
	path := append([]byte(file), 0)
	var done atomic.Bool
	go func() {
		runtime.LockOSThread()
		for !done.Load() {
			// Each value held for about an open's time: the entry
			// copy and the exit read then often see different ones.
			setFlags(&how.flags, flags)
			spin(100)
			setFlags(&how.flags, 0)
			spin(100)
		}
	}()
	const sysOpenat2 = 437 // the same on every arch (asm-generic numbering)
	opened := 0
	for range n {
		fd, _, e := syscall.Syscall6(sysOpenat2, uintptr(AT_FDCWD), uintptr(unsafe.Pointer(&path[0])),
			uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
		if e == 0 {
			opened++
			syscall.Close(int(fd))
		}
	}
	done.Store(true)
	fmt.Printf("opened %d of %d\n", opened, n)
	if opened == 0 {
		fmt.Fprintln(os.Stderr, "target: no openat2 succeeded")
		os.Exit(1)
	}
}

// spin busy-waits n rounds.
//
//go:noinline
func spin(n int) {
	var x atomic.Int64
	for range n {
		x.Add(1)
	}
}

// setFlags stores v at p; a call, so that the compiler keeps each store.
//
//go:noinline
func setFlags(p *uint64, v uint64) { atomic.StoreUint64(p, v) }

// signalOwnGroup starts a session of its own and probes it with
// kill(0, 0): a probe that reaches only the target itself.
func signalOwnGroup() {
	if _, err := syscall.Setsid(); err != nil {
		die(err)
	}
	if err := syscall.Kill(0, 0); err != nil {
		die(err)
	}
	fmt.Println("probed")
}

// unixOwn reaches an abstract unix socket of its own, @name: stream
// listens on it and connects to it, dgram binds it and sends to it.
func unixOwn(how, name string) {
	sa := &syscall.SockaddrUnix{Name: "@" + name}
	typ := map[string]int{"stream": syscall.SOCK_STREAM, "dgram": syscall.SOCK_DGRAM}[how]
	if typ == 0 {
		fmt.Fprintf(os.Stderr, "target: unix-own %q: want stream or dgram\n", how)
		os.Exit(2)
	}
	own, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	if err := syscall.Bind(own, sa); err != nil {
		die(err)
	}
	c, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	if typ == syscall.SOCK_DGRAM {
		err = syscall.Sendto(c, []byte("hello\n"), 0, sa)
	} else if err = syscall.Listen(own, 1); err == nil {
		err = syscall.Connect(c, sa)
	}
	if err != nil {
		die(err)
	}
	fmt.Println("reached itself")
}

// cloneInto starts "target stray" born in the cgroup at dir (clone3
// with CLONE_INTO_CGROUP, which os/exec uses for a cgroup fd): a child
// that runs outside the recorded cgroup from its first instruction.
func cloneInto(dir string) {
	fd, err := syscall.Open(dir, syscall.O_DIRECTORY|syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	self, err := os.Executable()
	if err != nil {
		die(err)
	}
	cmd := exec.Command(self, "stray")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Run(); err != nil {
		die(err)
	}
}

// mkdirFreshPage calls mkdir on DIR/x with the path in a page of a
// file mapping it has not touched yet (as a string literal is on first
// use): sys_enter cannot read it (reads there do not fault pages in),
// the kernel's own copy can.
func mkdirFreshPage(dir string) {
	name := dir + "/pathname"
	if err := os.WriteFile(name, append([]byte(dir+"/x"), 0), 0o600); err != nil {
		die(err)
	}
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		die(err)
	}
	page, err := syscall.Mmap(fd, 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		die(err)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MKDIRAT, uintptr(AT_FDCWD), uintptr(unsafe.Pointer(&page[0])), 0o755); e != 0 {
		die(e)
	}
	fmt.Println("made", dir+"/x")
}
