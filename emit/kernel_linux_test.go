package emit_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestMain doubles as the child that installs a filter and makes one
// call: SYSREC_EMIT_CHILD=<hex filter> <syscall nr> <arg0> <arg1> <arg2>.
func TestMain(m *testing.M) {
	if f := os.Getenv("SYSREC_EMIT_CHILD"); f != "" {
		os.Exit(child(f, os.Args[len(os.Args)-4:]))
	}
	os.Exit(m.Run())
}

func child(filter string, args []string) int {
	raw, err := hex.DecodeString(filter)
	if err != nil {
		fmt.Println(err)
		return 2
	}
	var v [4]uintptr
	for i, a := range args {
		n, err := strconv.ParseUint(a, 0, 64)
		if err != nil {
			fmt.Println(err)
			return 2
		}
		v[i] = uintptr(n)
	}
	runtime.LockOSThread()
	// The profiles of this test allow by default, so the Go runtime's
	// other threads may keep running under the filter: TSYNC.
	if err := enforce.Install(raw, enforce.TSync); err != nil {
		fmt.Println(err)
		return 2
	}
	if v[0] == unix.SYS_MPROTECT {
		// mprotect needs a mapping of our own to change.
		page, _, e := unix.RawSyscall6(unix.SYS_MMAP, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
		if e != 0 {
			fmt.Println("mmap", e)
			return 2
		}
		v[1] = page
	}
	r, _, e := unix.RawSyscall(v[0], v[1], v[2], v[3])
	if v[0] == unix.SYS_SOCKET && e == 0 {
		if err := unix.Close(int(r)); err != nil {
			fmt.Println("close", err)
			return 2
		}
	}
	fmt.Printf("errno=%d\n", int(e))
	return 0
}

// call runs one syscall in a child under p's filter and returns its
// errno, or -N when the child was killed by signal N.
func call(t *testing.T, p *profiles.Profile, nr uintptr, args ...uint64) int {
	t.Helper()
	raw, err := emit.Raw(p, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{"-test.run=^$", strconv.Itoa(int(nr))}
	for i := range 3 {
		a := uint64(0)
		if i < len(args) {
			a = args[i]
		}
		argv = append(argv, strconv.FormatUint(a, 10))
	}
	cmd := exec.Command(os.Args[0], argv...)
	cmd.Env = append(os.Environ(), "SYSREC_EMIT_CHILD="+hex.EncodeToString(raw))
	out, err := cmd.Output()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -int(ws.Signal())
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "errno=")
	if !ok {
		t.Fatalf("child said %q", out)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	return n
}

// TestKernel installs compiled filters with argument rules in real
// processes: allowed calls pass, the others get the profile's action.
func TestKernel(t *testing.T) {
	testenv.RequireRoot(t)
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("kernel test written for amd64 and arm64")
	}
	p := &profiles.Profile{Version: 1, Arch: []string{runtime.GOARCH}, DefaultAction: profiles.ActAllow, Syscalls: []profiles.Syscall{
		{Name: "socket", Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{unix.AF_UNIX, unix.AF_INET}}}},
		{Name: "socket", Action: profiles.Action{Kind: profiles.Errno, Data: uint16(unix.EAFNOSUPPORT)}},
		{Name: "mprotect", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: unix.PROT_READ | unix.PROT_WRITE}}},
		{Name: "mprotect", Action: profiles.Action{Kind: profiles.Errno, Data: uint16(unix.EACCES)}},
		{Name: "getpriority", Action: profiles.ActKillProcess},
	}}
	p.Arch[0] = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	for _, tc := range []struct {
		name string
		nr   uintptr
		args []uint64
		want int
	}{
		{"socket AF_INET allowed", unix.SYS_SOCKET, []uint64{unix.AF_INET, unix.SOCK_STREAM}, 0},
		{"socket AF_UNIX allowed", unix.SYS_SOCKET, []uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, 0},
		{"socket AF_INET6 denied", unix.SYS_SOCKET, []uint64{unix.AF_INET6, unix.SOCK_STREAM}, int(unix.EAFNOSUPPORT)},
		{"socket AF_INET with high garbage (int arg)", unix.SYS_SOCKET, []uint64{0xffffffff00000000 | unix.AF_INET, unix.SOCK_STREAM}, 0},
		{"mprotect PROT_READ allowed", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_READ}, 0},
		{"mprotect PROT_READ|PROT_WRITE allowed", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE}, 0},
		{"mprotect PROT_EXEC denied", unix.SYS_MPROTECT, []uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, int(unix.EACCES)},
		{"getpriority killed", unix.SYS_GETPRIORITY, nil, -int(unix.SIGSYS)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, p, tc.nr, tc.args...); got != tc.want {
				t.Errorf("got %d, want %d (negative: killed by that signal)", got, tc.want)
			}
		})
	}
}
