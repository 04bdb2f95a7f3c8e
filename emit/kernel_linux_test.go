package emit_test

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
)

func TestMain(m *testing.M) {
	enforce.HelperMain() // enforce.Command re-execs this binary as the helper
	testtarget.Main(m)
}

// call runs one syscall under p's filter in the test target ("target
// syscall NR A0 A1 A2", filtered from its execve on by enforce's helper)
// and returns its errno, or -N when the target was killed by signal N.
func call(t *testing.T, p *profiles.Profile, nr uintptr, args ...uint64) int {
	t.Helper()
	raw, err := emit.Raw(p, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	argv := []string{testtarget.Path(t), "syscall", strconv.Itoa(int(nr))}
	for i := range 3 {
		a := uint64(0)
		if i < len(args) {
			a = args[i]
		}
		argv = append(argv, strconv.FormatUint(a, 10))
	}
	cmd, err := enforce.Command(raw, argv)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ex, err := cmd.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ex.Signal != 0 {
		return -int(ex.Signal)
	}
	if ex.Status != 0 {
		t.Fatalf("target: exit %d\n%s", ex.Status, out.Bytes())
	}
	s, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "errno=")
	if !ok {
		t.Fatalf("target said %q", out.Bytes())
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("target said %q: %v", out.Bytes(), err)
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
