package profiles

import (
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/policy"
)

const cloneNoNamespaces = ^uint64(0x7e020000)

func TestEntryTier(t *testing.T) {
	in := func(i int, mask uint64, vals ...uint64) ArgRule {
		return ArgRule{Index: i, Op: OpIn, Mask: mask, Values: vals}
	}
	sub := func(i int, mask uint64) ArgRule { return ArgRule{Index: i, Op: OpSubset, Mask: mask} }
	for _, tc := range []struct {
		name string
		s    Syscall
		want policy.Tier
	}{
		{"plain ordinary", Syscall{Name: "read"}, policy.Ordinary},
		{"critical syscall", Syscall{Name: "ptrace"}, policy.Critical},
		{"sensitive syscall", Syscall{Name: "setuid"}, policy.Sensitive},
		{"clone without namespaces", Syscall{Name: "clone", Args: []ArgRule{sub(0, cloneNoNamespaces)}}, policy.Ordinary},
		{"clone glibc threads", Syscall{Name: "clone", Args: []ArgRule{sub(0, 0x3d0f00)}}, policy.Ordinary},
		{"clone unconstrained", Syscall{Name: "clone"}, policy.Critical},
		{"clone with CLONE_NEWUSER", Syscall{Name: "clone", Args: []ArgRule{sub(0, 0x3d0f00|0x10000000)}}, policy.Critical},
		{"ioctl tty queries", Syscall{Name: "ioctl", Args: []ArgRule{in(1, 0, 0x5401, 0x5413)}}, policy.Ordinary},
		{"ioctl TIOCSTI", Syscall{Name: "ioctl", Args: []ArgRule{in(1, 0, 0x5401, 0x5412)}}, policy.Critical},
		{"ioctl unconstrained", Syscall{Name: "ioctl"}, policy.Critical},
		{"mmap W^X combinations", Syscall{Name: "mmap", Args: []ArgRule{in(2, 7, 0, 1, 3, 5)}}, policy.Ordinary},
		{"mmap RWX", Syscall{Name: "mmap", Args: []ArgRule{in(2, 7, 3, 7)}}, policy.Sensitive},
		{"mmap subset of RWX", Syscall{Name: "mmap", Args: []ArgRule{sub(2, 7)}}, policy.Sensitive},
		{"mprotect RW", Syscall{Name: "mprotect", Args: []ArgRule{sub(2, 3)}}, policy.Ordinary},
		{"mprotect RX", Syscall{Name: "mprotect", Args: []ArgRule{in(2, 7, 1, 5)}}, policy.Sensitive},
		{"socket inet", Syscall{Name: "socket", Args: []ArgRule{in(0, 0, 1, 2), in(1, 0xfff7f7ff, 1)}}, policy.Ordinary},
		{"socket netlink", Syscall{Name: "socket", Args: []ArgRule{in(0, 0, 1, 16), in(1, 0xfff7f7ff, 1)}}, policy.Sensitive},
		{"socket raw type", Syscall{Name: "socket", Args: []ArgRule{in(0, 0, 2), in(1, 0xfff7f7ff, 3)}}, policy.Sensitive},
		{"socket unconstrained", Syscall{Name: "socket"}, policy.Sensitive},
		// open's mode is read only when the call creates: set-ID bits
		// in an open for reading are whatever the register held.
		{"openat read, any mode", Syscall{Name: "openat", Args: []ArgRule{sub(2, 0xffbfffbc), sub(3, 0xfffffbff)}}, policy.Ordinary},
		{"openat read, mode by value", Syscall{Name: "openat", Args: []ArgRule{in(2, 0, 0, 0x80000), in(3, 0, 0x800)}}, policy.Ordinary},
		{"openat create, set-ID mode", Syscall{Name: "openat", Args: []ArgRule{sub(2, 0xffffffff), sub(3, 0xfffffbff)}}, policy.Sensitive},
		{"openat tmpfile, set-ID mode", Syscall{Name: "openat", Args: []ArgRule{in(2, 0, 0x410002), in(3, 0, 0x800)}}, policy.Sensitive},
		{"open read, set-ID mode", Syscall{Name: "open", Args: []ArgRule{sub(1, 0xffbfffbc), in(2, 0, 0x800)}}, policy.Ordinary},
		{"openat flags free, set-ID mode", Syscall{Name: "openat", Args: []ArgRule{sub(3, 0xfffffbff)}}, policy.Sensitive},
		{"futex plain", Syscall{Name: "futex", Args: []ArgRule{in(1, 0x7f, 0, 1, 9)}}, policy.Ordinary},
		{"futex PI", Syscall{Name: "futex", Args: []ArgRule{in(1, 0x7f, 0, 6)}}, policy.Sensitive},
		{"openat write", Syscall{Name: "openat", Args: []ArgRule{sub(2, 0xffffffff), sub(3, ^uint64(0o6000))}}, policy.Ordinary},
		{"openat, any mode", Syscall{Name: "openat", Args: []ArgRule{sub(2, 0xffffffff)}}, policy.Sensitive},
		{"fchmod setuid", Syscall{Name: "fchmod", Args: []ArgRule{sub(1, 0o4000|0o777)}}, policy.Sensitive},
		{"fchmod permissions", Syscall{Name: "fchmod", Args: []ArgRule{sub(1, ^uint64(0o6000))}}, policy.Ordinary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := EntryTier(tc.s)
			if got != tc.want {
				t.Errorf("%s: %s (%s), want %s", FormatCall(tc.s), got, why, tc.want)
			}
			if got != policy.Ordinary && why == "" {
				t.Errorf("%s: %s without a reason", FormatCall(tc.s), got)
			}
		})
	}
}

func TestDiffTier(t *testing.T) {
	base := func(ss ...Syscall) *Profile {
		return &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: ss}
	}
	socket := func(domains ...uint64) Syscall {
		return Syscall{Name: "socket", Args: []ArgRule{{Index: 0, Op: OpIn, Values: domains}}}
	}
	clone := func(mask uint64) Syscall {
		return Syscall{Name: "clone", Args: []ArgRule{{Index: 0, Op: OpSubset, Mask: mask}}}
	}
	prot := func(vals ...uint64) Syscall {
		return Syscall{Name: "mmap", Args: []ArgRule{{Index: 2, Op: OpIn, Mask: 7, Values: vals}}}
	}
	read := Syscall{Name: "read"}
	for _, tc := range []struct {
		name     string
		old, new *Profile
		want     string // "" when nothing widens
	}{
		{"same", base(read), base(read), ""},
		{"narrower", base(read, socket(1, 2)), base(read, socket(1)), ""},
		{"ordinary syscall added", base(read), base(read, Syscall{Name: "getpriority"}), "ordinary"},
		{"critical syscall added", base(read), base(read, Syscall{Name: "ptrace"}), "critical"},
		{"added socket reaching netlink", base(read), base(read, socket(16)), "sensitive"},
		{"ordinary family added", base(socket(1)), base(socket(1, 10)), "ordinary"},
		{"netlink added", base(socket(1)), base(socket(1, 16)), "sensitive"},
		{"packet added beside netlink", base(socket(1, 16)), base(socket(1, 16, 17)), "sensitive"},
		{"namespace bit", base(clone(0x3d0f00)), base(clone(0x3d0f00 | 0x10000000)), "critical"},
		{"thread bits", base(clone(0x3d0f00)), base(clone(0x3d0f00 | 0x4000)), "ordinary"},
		{"W^X broken", base(prot(1, 3, 5)), base(prot(1, 3, 5, 7)), "sensitive"},
		{"constraint dropped", base(clone(0x3d0f00)), base(Syscall{Name: "clone"}), "critical"},
		{"default allows", base(read), func() *Profile { p := base(read); p.DefaultAction = ActAllow; return p }(), "critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Diff(tc.old, tc.new)
			if d.Tier != tc.want || d.Widens != (tc.want != "") {
				t.Fatalf("tier %q, widens %v; want %q\n%s", d.Tier, d.Widens, tc.want, d.Text())
			}
			if tc.want == "" {
				return
			}
			want, _ := policy.ParseTier(tc.want)
			if !d.WidensAt(want) || (want < policy.Critical && d.WidensAt(want+1)) {
				t.Errorf("WidensAt disagrees with tier %s", tc.want)
			}
		})
	}
}

func TestDiffWithheld(t *testing.T) {
	old, err := Load("testdata/generalised.json")
	if err != nil {
		t.Fatal(err)
	}
	new := old.Clone()
	new.Syscalls = append(new.Syscalls, Syscall{Name: "ptrace"})
	d := Diff(old, new)
	if !d.WidensAt(policy.Critical) || d.Withheld["ptrace"] == "" {
		t.Fatalf("ptrace added: %+v", d)
	}
	if text := d.Text(); !strings.Contains(text, "+ ptrace (critical) — OLD withheld it: reachable via ptrace@libc.so.6") {
		t.Errorf("diff text does not point at the withheld entry:\n%s", text)
	}
}

func TestShowGeneralised(t *testing.T) {
	p, err := Load("testdata/generalised.json")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/generalised.golden", []byte(Format(p)))
}

// TestRunsThroughMerge: merging single-run profiles counts, per syscall,
// the runs that made it, and the Good–Turing estimate follows.
func TestRunsThroughMerge(t *testing.T) {
	run := func(names ...string) *Profile {
		p := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Recorded: &Recorded{Recordings: 1}}
		for _, n := range names {
			p.Syscalls = append(p.Syscalls, Syscall{Name: n, Count: 1})
		}
		return p
	}
	m, err := Merge(run("read", "write", "mkdir"), run("read", "write"), run("read", "fsync"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range m.Syscalls {
		got[s.Name] = s.Runs
	}
	want := map[string]int{"read": 3, "write": 2, "mkdir": 1, "fsync": 1}
	for n, k := range want {
		if got[n] != k {
			t.Errorf("%s seen in %d runs, want %d", n, got[n], k)
		}
	}
	c := m.Confidence
	if c == nil || c.Runs != 3 || c.Observed != 4 || c.SingleRun != 2 || c.Unseen != 0.667 {
		t.Fatalf("confidence %+v, want 2 of 4 in one of 3 runs, estimate 0.667", c)
	}
	// One more run: merging into the merged profile keeps counting.
	m2, err := Merge(m, run("read", "write", "mkdir"))
	if err != nil {
		t.Fatal(err)
	}
	if c := m2.Confidence; c.Runs != 4 || c.SingleRun != 1 || c.Unseen != 0.25 {
		t.Errorf("after a fourth run: %+v", c)
	}
	b, err := m2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"version": 2`) {
		t.Errorf("a profile with runs is not written as version 2:\n%s", b)
	}
	// A single run says nothing yet.
	if c := ComputeConfidence(run("read")); c.Unseen != 1 {
		t.Errorf("one run: %+v", c)
	}
}

func TestNotAllowedMerge(t *testing.T) {
	a, err := Load("testdata/generalised.json")
	if err != nil {
		t.Fatal(err)
	}
	b := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "ptrace", Count: 1}}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.NotAllowed) != 1 || m.NotAllowed[0].Name != "setsockopt" {
		t.Errorf("merged not_allowed %+v: ptrace is allowed now, setsockopt is not", m.NotAllowed)
	}
}

func TestGeneralisationNeedsVersion2(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"runs", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "runs": 2}]}`},
		{"not_allowed", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "not_allowed": [{"name": "ptrace", "tier": "critical", "reason": "x"}]}`},
	} {
		if _, err := Parse([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), "need version 2") {
			t.Errorf("%s in a version 1 profile: %v", tc.name, err)
		}
	}
	for _, tc := range []struct{ name, json, want string }{
		{"bad tier", `{"version": 2, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "not_allowed": [{"name": "ptrace", "tier": "high", "reason": "x"}]}`, `field not_allowed[0].tier: unknown tier "high"`},
		{"bad name", `{"version": 2, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "not_allowed": [{"name": "ptrac", "tier": "critical", "reason": "x"}]}`, `field not_allowed[0].name: unknown syscall "ptrac" (did you mean "ptrace"?)`},
		{"negative runs", `{"version": 2, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "runs": -1}]}`, "field syscalls[0].runs: -1 is negative"},
	} {
		if _, err := Parse([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestDiffDefaultAllows: a syscall one side allows only through an
// allowing default action is compared without entries on that side.
func TestDiffDefaultAllows(t *testing.T) {
	open := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActAllow}
	closed := profileOf(opts([]uint64{solTCP}, tcpNodelay))
	if d := Diff(open, closed); d.Widens {
		t.Errorf("open -> closed widens: %s", d.Text())
	}
	d := Diff(closed, open)
	if !d.Widens || d.Tier != policy.Critical.String() {
		t.Errorf("closed -> open: widens %v at %q, want critical: %s", d.Widens, d.Tier, d.Text())
	}
}
