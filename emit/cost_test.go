package emit

import (
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// countedProfile is shaped like a recorded server's: most syscalls
// argument-free, a few with argument rules and very different counts,
// spread over the number space.
func countedProfile() *profiles.Profile {
	p := &profiles.Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess}
	for _, n := range []string{"read", "write", "close", "fstat", "lseek", "brk", "munmap", "rt_sigreturn", "pread64",
		"writev", "accept4", "epoll_wait", "sendfile", "recvfrom", "getpid", "exit_group", "epoll_ctl", "newfstatat", "getrandom", "statx"} {
		p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: n, Count: 1000})
	}
	in := func(i int, v ...uint64) []profiles.ArgRule {
		return []profiles.ArgRule{{Index: i, Op: profiles.OpIn, Values: v}}
	}
	p.Syscalls = append(p.Syscalls,
		profiles.Syscall{Name: "futex", Count: 50000, Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Mask: 0x7f, Values: []uint64{0, 1, 9, 10}}}},
		profiles.Syscall{Name: "openat", Count: 4000, Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 0x80000 | 0x800 | 0x10000}}},
		profiles.Syscall{Name: "mmap", Count: 300, Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 3}}},
		profiles.Syscall{Name: "socket", Count: 5, Args: in(0, 1, 2, 10)},
		profiles.Syscall{Name: "fcntl", Count: 800, Args: in(1, 1, 2, 3, 4)},
		profiles.Syscall{Name: "setsockopt", Count: 20, Args: in(1, 1, 6)},
		profiles.Syscall{Name: "prctl", Count: 2, Args: in(0, 15)},
		profiles.Syscall{Name: "mprotect", Count: 40, Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 3}}},
	)
	return p
}

// TestProfileGuided: recorded counts move the hot argument blocks near
// the root of the search, without changing a single decision (the
// differential test covers decisions; here the cost).
func TestProfileGuided(t *testing.T) {
	p := countedProfile()
	flat := p.Clone()
	for i := range flat.Syscalls {
		flat.Syscalls[i].Count = 0
	}
	guided, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	unguided, err := compileRaw(flat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := PathCost(p, guided)
	if err != nil {
		t.Fatal(err)
	}
	u, err := PathCost(p, unguided)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("calls with argument rules: %d of %d; instructions per such call: guided %.2f, unguided %.2f, bound %.2f; per recorded call: guided %.2f",
		g.Calls, g.All, g.Expected, u.Expected, g.Bound, g.PerCall)
	if g.Expected >= u.Expected {
		t.Errorf("guided layout %.2f instructions per call, not below the unguided %.2f", g.Expected, u.Expected)
	}
	if g.Expected > 1.25*g.Bound {
		t.Errorf("guided layout %.2f instructions per call, more than 1.25× the bound %.2f", g.Expected, g.Bound)
	}
}

// TestFilterCost: the cost of an encoded filter is that of the program
// it decodes to; bytes that are no filter are an error.
func TestFilterCost(t *testing.T) {
	p := countedProfile()
	raw, err := Raw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := PathCost(p, prog)
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := FilterCost(p, raw)
	if err != nil || got != want || n != len(prog) {
		t.Errorf("FilterCost = %+v, %d, %v; want %+v, %d", got, n, err, want, len(prog))
	}
	if _, _, err := FilterCost(p, raw[:len(raw)-1]); err == nil {
		t.Error("a truncated filter decoded")
	}
}
