package linuxabi

import (
	"os"
	"syscall"
	"testing"
)

// TestTableMatchesKernel calls a few syscalls by the numbers the
// generated x86_64 table gives and checks the running kernel agrees.
func TestTableMatchesKernel(t *testing.T) {
	a, err := LookupArch("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	number := func(name string) uintptr {
		n, ok := a.Number(name)
		if !ok {
			t.Fatalf("%s not in the table", name)
		}
		return uintptr(n)
	}
	if pid, _, _ := syscall.RawSyscall(number("getpid"), 0, 0, 0); int(pid) != os.Getpid() {
		t.Errorf("getpid by table number = %d, want %d", pid, os.Getpid())
	}
	if ppid, _, _ := syscall.RawSyscall(number("getppid"), 0, 0, 0); int(ppid) != os.Getppid() {
		t.Errorf("getppid by table number = %d, want %d", ppid, os.Getppid())
	}
	if uid, _, _ := syscall.RawSyscall(number("getuid"), 0, 0, 0); int(uid) != os.Getuid() {
		t.Errorf("getuid by table number = %d, want %d", uid, os.Getuid())
	}
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		t.Fatal(err)
	}
	if number("uname") != syscall.SYS_UNAME || number("openat") != syscall.SYS_OPENAT {
		t.Error("table disagrees with the syscall package")
	}
	// Past the end of the table: the kernel knows nothing there either.
	if _, _, e := syscall.RawSyscall(uintptr(a.MaxNumber()+1), 0, 0, 0); e != syscall.ENOSYS {
		t.Errorf("syscall %d: %v, want ENOSYS", a.MaxNumber()+1, e)
	}
	if n := len(a.Syscalls()); n < 350 {
		t.Errorf("x86_64 table has %d syscalls", n)
	}
}
