//go:build !sysrec_cgo

package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// int80 makes i386 call nr with its six argument registers (int $0x80,
// which a 64-bit process may use). Where the i386 call has fewer
// arguments, di and si are free for whatever the caller wants a
// recorder that mistakes the call for a native one to read as the
// x86_64 arguments. Returns eax.
func int80(nr, bx, cx, dx, si, di, bp uintptr) int32

// i386 makes four calls through the i386 ABI, the first three chosen so
// that read as x86_64 calls with the x86_64 argument registers they
// would poison a profile: i386 dup(-1) is nr 41, x86_64 socket, here
// with rdi=AF_PACKET rsi=SOCK_RAW; i386 fadvise64_64(-1) is nr 272,
// x86_64 unshare, here with rdi=CLONE_NEWUSER|CLONE_NEWNET; i386
// getrlimit (it succeeds) is nr 76, x86_64 truncate, here with
// rdi=path; then an i386 mmap2 of a read-write page. Prints the results
// (negative errnos). Then, by then: "stray" makes an i386 call a
// profile of these lacks: old_mmap (nr 90) of an RWX page, whose
// registers read as x86_64 mmap look harmless; "exec" the same mmap2
// with PROT_EXEC added; "native" makes the x86_64 call with i386 dup's
// number, socket(AF_PACKET, SOCK_RAW).
func i386(path, then string) {
	// getrlimit's result must lie below 4 GiB: an i386 pointer.
	low, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_32BIT)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mmap:", err)
		os.Exit(1)
	}
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	const afPacket, sockRaw = 17, 3
	const rw, anon = syscall.PROT_READ | syscall.PROT_WRITE, syscall.MAP_PRIVATE | syscall.MAP_ANON
	dup := int80(41, ^uintptr(0), 0, 0, sockRaw, afPacket, 0)
	fadvise := int80(272, ^uintptr(0), 0, 0, 0, syscall.CLONE_NEWUSER|syscall.CLONE_NEWNET, 0)
	getrlimit := int80(76, syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&low[0])), 0, 0, uintptr(unsafe.Pointer(p)), 0)
	mmap2 := func(prot uintptr) uint32 { return uint32(int80(192, 0, 4096, prot, anon, ^uintptr(0), 0)) }
	fmt.Printf("i386 dup=%d fadvise64_64=%d getrlimit=%d mmap2=%t\n", dup, fadvise, getrlimit, mmap2(rw) < 0xfffff000)
	switch then {
	case "stray":
		// old_mmap reads its six arguments from the struct bx points
		// at: here an RWX mapping, while dx and si, which a filter
		// reading the call as x86_64 mmap would take for prot and
		// flags, say PROT_NONE and MAP_PRIVATE|MAP_ANONYMOUS.
		args := (*[6]uint32)(unsafe.Pointer(&low[64]))
		*args = [6]uint32{0, 4096, rw | syscall.PROT_EXEC, anon, ^uint32(0), 0}
		fmt.Printf("i386 old_mmap=%#x\n", uint32(int80(90, uintptr(unsafe.Pointer(args)), 0, 0, anon, 0, 0)))
	case "exec":
		fmt.Printf("i386 mmap2 rwx=%#x\n", mmap2(rw|syscall.PROT_EXEC))
	case "native":
		fd, _, errno := syscall.RawSyscall(syscall.SYS_SOCKET, afPacket, sockRaw, 0)
		fmt.Printf("x86_64 socket=%d errno=%d\n", int(fd), errno)
	case "":
	default:
		fmt.Fprintln(os.Stderr, "target: i386: then stray, exec or native, not", then)
		os.Exit(2)
	}
}

// int80Call makes i386 call "NR BX CX DX" and prints eax.
func int80Call(args []string) {
	var v [4]uintptr
	for i, a := range args {
		n, err := strconv.ParseInt(a, 0, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		v[i] = uintptr(n)
	}
	fmt.Printf("eax=%d\n", int80(v[0], v[1], v[2], v[3], 0, 0, 0))
}
