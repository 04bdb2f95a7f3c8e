package profiles

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
)

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"version", `{"version": 4, "arch": ["x86_64"], "default_action": "allow", "syscalls": []}`, "field version: unsupported version 4"},
		{"typo", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "opnat"}]}`, `field syscalls[0].name: unknown syscall "opnat" (did you mean "openat"?)`},
		{"entry arch not listed", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "dup", "arch": "i386"}]}`, `field syscalls[0].arch (dup): arch "i386" is not in the profile's arch list`},
		{"name not on entry arch", `{"version": 1, "arch": ["x86_64", "i386"], "default_action": "allow", "syscalls": [{"name": "socketcall", "arch": "x86_64"}]}`, `field syscalls[0].name: unknown syscall "socketcall"`},
		{"rules on old_mmap", `{"version": 1, "arch": ["x86_64", "i386"], "default_action": "allow", "syscalls": [{"name": "mmap", "args": [{"index": 2, "op": "subset", "mask": 3}]}]}`, `field syscalls[0].args (mmap): i386 mmap takes other arguments`},
		{"unknown field", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscals": []}`, `unknown field "syscals"`},
		{"bad op", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "args": [{"index": 0, "op": "eq"}]}]}`, `field syscalls[0].args[0] (read): unknown op "eq"`},
		{"bad index", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "args": [{"index": 6, "op": "in", "values": [1]}]}]}`, "index 6 out of range"},
		{"empty in", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "args": [{"index": 0, "op": "in"}]}]}`, `op "in" needs at least one value`},
		{"bad arch", `{"version": 1, "arch": ["vax"], "default_action": "allow", "syscalls": []}`, `field arch[0]: unknown arch "vax"`},
		{"no arch", `{"version": 1, "default_action": "allow", "syscalls": []}`, "field arch: no architecture listed"},
		{"no default", `{"version": 1, "arch": ["x86_64"], "syscalls": []}`, "field default_action: missing"},
		{"bad action", `{"version": 1, "arch": ["x86_64"], "default_action": "maybe", "syscalls": []}`, `unknown action "maybe"`},
		{"bad errno", `{"version": 1, "arch": ["x86_64"], "default_action": "errno:EFOO", "syscalls": []}`, `errno "EFOO"`},
		{"wrong type", `{"version": "1", "arch": ["x86_64"], "default_action": "allow", "syscalls": []}`, "line 1, column 13: field version: string is not int"},
		{"wrong type in list", "{\"version\": 1, \"arch\": [\"x86_64\"], \"default_action\": \"allow\",\n\"syscalls\": [{\"name\": \"read\"}, {\"name\": \"write\", \"count\": \"many\"}]}", "line 2, column 59: field syscalls[1].count: string is not uint64"},
		{"syntax", "{\"version\": 1,\n \"arch\": x}", "line 2, column 10: invalid character 'x'"},
		{"empty", "", "empty file"},
		{"blank", " \n", "empty file"},
		{"truncated", "{\"version\": 1,\n \"arch\": [", "line 2, column 11: unexpected end of file"},
		{"array", `[{"version": 1}]`, "the profile is a JSON array, want an object"},
		{"bad action in list", "{\"version\": 1, \"arch\": [\"x86_64\"], \"default_action\": \"allow\",\n\"syscalls\": [{\"name\": \"read\"}, {\"name\": \"write\", \"action\": \"explode\"}]}", `line 2, column 60: field syscalls[1].action: unknown action "explode"`},
		{"bad errno in list", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "write", "action": "errno:EFOO"}]}`, `field syscalls[0].action: errno "EFOO"`},
		{"trailing", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": []} {}`, "trailing data"},
		{"range", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [{"name": "read", "args": [{"index": 0, "op": "range", "min": 5, "max": 1}]}]}`, "range min 5 > max 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Action
		out  string
	}{
		{"allow", ActAllow, "allow"},
		{"kill", ActKillProcess, "kill_process"},
		{"errno", ActEPERM, "errno"},
		{"deny", ActEPERM, "errno"},
		{"errno:ENOSYS", ActENOSYS, "errno:ENOSYS"},
		{"errno:38", ActENOSYS, "errno:ENOSYS"},
		{"errno:4000", Action{Kind: Errno, Data: 4000}, "errno:4000"},
		{"trace:7", Action{Kind: Trace, Data: 7}, "trace:7"},
		{"user_notif", Action{Kind: UserNotif}, "user_notif"},
	} {
		got, err := ParseAction(tc.in)
		if err != nil || got != tc.want || got.String() != tc.out {
			t.Errorf("ParseAction(%q) = %v (%q), %v; want %v (%q)", tc.in, got, got.String(), err, tc.want, tc.out)
		}
	}
}

// TestCanonical: Marshal is stable and order-independent.
func TestCanonical(t *testing.T) {
	a := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{
		{Name: "write"}, {Name: "read", Count: 3}, {Name: "socket", Args: []ArgRule{{Index: 1, Op: OpIn, Values: []uint64{2, 1, 2}}, {Index: 0, Op: OpIn, Values: []uint64{10, 2}}}},
	}}
	b := a.Clone()
	b.Syscalls[0], b.Syscalls[1] = b.Syscalls[1], b.Syscalls[0]
	ja, _ := a.Marshal()
	jb, _ := b.Marshal()
	if !bytes.Equal(ja, jb) {
		t.Errorf("order changed the bytes:\n%s\n%s", ja, jb)
	}
	testenv.Golden(t, "testdata/canonical.json", ja)
	p, err := Parse(ja)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := p.Marshal()
	if !bytes.Equal(ja, again) {
		t.Error("Parse(Marshal(p)) does not round-trip")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"canonical.json", "show.json"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"version":1,"arch":["x86_64","i386"],"default_action":"errno:ENOSYS","syscalls":[{"name":"read","args":[{"index":0,"op":"range","min":1,"max":2}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, out)
		}
		again, _ := q.Marshal()
		if !bytes.Equal(out, again) {
			t.Fatalf("not a fixed point:\n%s\n%s", out, again)
		}
		p.Decide(linuxabi.SeccompData{Nr: 0, Arch: 0xc000003e}, PhaseServing)
		Format(p)
	})
}

func TestSymbolize(t *testing.T) {
	for _, tc := range []struct {
		set   string
		v     uint64
		flags bool
		want  string
	}{
		{"af", 10, false, "AF_INET6"},
		{"af", 99, false, "99"},
		{"prot", 3, true, "PROT_READ|PROT_WRITE"},
		{"prot", 0, true, "PROT_NONE"},
		{"open", 0x241, true, "O_CREAT|O_TRUNC|O_WRONLY"},
		{"open", 0, true, "O_RDONLY"},
		{"clone", 0x11 | 0x1000000, true, "CLONE_CHILD_SETTID|SIGCHLD"},
		{"prot", 1 << 40, true, "0x10000000000"},
	} {
		if got := linuxabi.Symbolize(tc.set, tc.v, tc.flags); got != tc.want {
			t.Errorf("linuxabi.Symbolize(%s, %#x) = %q, want %q", tc.set, tc.v, got, tc.want)
		}
	}
}

func TestShowGolden(t *testing.T) {
	p, err := Load("testdata/show.json")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/show.golden", []byte(Format(p)))
}

func TestDiff(t *testing.T) {
	old, err := Load("testdata/show.json")
	if err != nil {
		t.Fatal(err)
	}
	same := Diff(old, old.Clone())
	if same.Widens || len(same.Added)+len(same.Removed)+len(same.Changed) != 0 {
		t.Errorf("diff of a profile with itself: %+v", same)
	}
	new := old.Clone()
	new.Syscalls = append(new.Syscalls, Syscall{Name: "getpriority"})
	for i := range new.Syscalls {
		if new.Syscalls[i].Name == "socket" {
			new.Syscalls[i].Args[0].Values = append(new.Syscalls[i].Args[0].Values, 10)
		}
	}
	new.Syscalls = new.Syscalls[1:] // drop one
	d := Diff(old, new)
	if !d.Widens {
		t.Error("adding getpriority and AF_INET6 does not widen")
	}
	testenv.Golden(t, "testdata/diff.golden", []byte(d.Text()))
	narrower := Diff(new, old)
	if len(narrower.Removed) != 1 || narrower.Removed[0] != "getpriority" {
		t.Errorf("reverse diff: %+v", narrower)
	}
	if !narrower.Widens { // old has the syscall new dropped
		t.Error("reverse diff adds a syscall but does not widen")
	}
}

// TestDiffPerArch: a profile that gains i386 entries differs from its
// x86_64-only predecessor by i386 and those entries, not by its native
// entries now naming x86_64; an i386 entry is not its x86_64 namesake.
func TestDiffPerArch(t *testing.T) {
	old := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Syscalls: []Syscall{{Name: "read"}, {Name: "dup"}}}
	new := &Profile{Version: 1, Arch: []string{"i386", "x86_64"}, DefaultAction: ActKillProcess,
		Syscalls: []Syscall{{Name: "read", Arch: "x86_64"}, {Name: "dup", Arch: "i386"}, {Name: "getpid"}}}
	d := Diff(old, new)
	want := "arch +i386\n+ i386:dup (ordinary)\n+ i386:getpid (ordinary)\n+ x86_64:getpid (ordinary)\n- x86_64:dup\n"
	if got := d.Text(); got != want || !d.Widens {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if d := Diff(old, old.Clone()); len(d.Added)+len(d.Removed)+len(d.Changed) != 0 {
		t.Errorf("one arch: %+v", d)
	}
}

// TestMergeNeverNarrower: for random profiles and inputs, anything A or
// B allows, Merge(A, B) allows.
func TestMergeNeverNarrower(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x86, _ := linuxabi.LookupArch("x86_64")
	names := []string{"read", "write", "socket", "mmap", "openat", "clone", "ioctl", "futex", "kill"}
	rule := func(name string) ArgRule {
		specs := linuxabi.RecordedArgs(name)
		idx := r.IntN(3)
		if len(specs) > 0 {
			idx = specs[r.IntN(len(specs))].Index
		}
		switch r.IntN(3) {
		case 0:
			// Mask 0 is every bit; others make joins of different masks.
			return ArgRule{Index: idx, Op: OpIn, Mask: uint64(r.IntN(8)), Values: []uint64{uint64(r.IntN(6)), uint64(r.IntN(6))}}
		case 1:
			return ArgRule{Index: idx, Op: OpSubset, Mask: uint64(r.IntN(16))}
		}
		lo := uint64(r.IntN(6))
		return ArgRule{Index: idx, Op: OpRange, Min: lo, Max: lo + uint64(r.IntN(4))}
	}
	random := func() *Profile {
		acts := []Action{ActAllow, ActEPERM, ActKillProcess, ActLog}
		p := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: acts[r.IntN(3)+1]}
		for range 1 + r.IntN(6) {
			s := Syscall{Name: names[r.IntN(len(names))]}
			if r.IntN(4) == 0 {
				s.Action = acts[r.IntN(len(acts))]
			}
			for range r.IntN(3) {
				s.Args = append(s.Args, rule(s.Name))
			}
			p.Syscalls = append(p.Syscalls, s)
		}
		if r.IntN(2) == 0 {
			// Phases: some allowing entries for init only.
			p.Version, p.Phases = 3, &Phases{Transition: DefaultTransition()}
			for i := range p.Syscalls {
				if p.Syscalls[i].EffectiveAction().Kind == Allow && r.IntN(2) == 0 {
					p.Syscalls[i].Phase = PhaseInit
				}
			}
		}
		return p
	}
	for range 2000 {
		a, b := random(), random()
		m, err := Merge(a, b)
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			n, _ := x86.Number(names[r.IntN(len(names))])
			d := linuxabi.SeccompData{Nr: int32(n), Arch: x86.Audit}
			for i := range d.Args {
				d.Args[i] = uint64(r.IntN(8))
			}
			for _, ph := range []Phase{PhaseInit, PhaseServing} {
				if (allows(a.Decide(d, ph)) || allows(b.Decide(d, ph))) && !allows(m.Decide(d, ph)) {
					ja, _ := a.Marshal()
					jb, _ := b.Marshal()
					jm, _ := m.Marshal()
					t.Fatalf("input %+v in %s allowed by A or B, not by the merge\nA %s\nB %s\nM %s", d, ph, ja, jb, jm)
				}
			}
		}
	}
}

// TestCovers: when a rule says it covers another, every value the other
// allows it allows too (random rules, every small value).
func TestCovers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rule := func() ArgRule {
		switch r.IntN(3) {
		case 0:
			return ArgRule{Op: OpIn, Mask: uint64(r.IntN(16)), Values: []uint64{uint64(r.IntN(16)), uint64(r.IntN(16))}}
		case 1:
			return ArgRule{Op: OpSubset, Mask: uint64(r.IntN(16)) | ^uint64(15)}
		}
		lo := uint64(r.IntN(16))
		return ArgRule{Op: OpRange, Min: lo, Max: lo + uint64(r.IntN(8))}
	}
	covered := 0
	for range 20000 {
		a, b := rule(), rule()
		if !a.Covers(b, 64) {
			continue
		}
		covered++
		for v := range uint64(64) {
			if b.Match(v, 64) && !a.Match(v, 64) {
				t.Fatalf("%+v covers %+v but refuses %d, which the other allows", a, b, v)
			}
		}
	}
	if covered < 1000 {
		t.Errorf("only %d pairs covered: the test says little", covered)
	}
}

// TestMergeKeepsNotes: a merge keeps why a rule was dropped and why an
// entry is there.
func TestMergeKeepsNotes(t *testing.T) {
	a := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "rt_sigaction", Note: "sig not constrained"}}}
	b := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "rt_sigaction", Reason: "baseline"}}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Syscalls[0]; s.Note != "sig not constrained" || s.Reason != "baseline" {
		t.Errorf("merged entry %+v lost its note or reason", s)
	}
}

func TestMergeArches(t *testing.T) {
	a := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "read"}}}
	b := &Profile{Version: 1, Arch: []string{"aarch64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "write"}}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Arch, ",") != "aarch64,x86_64" || len(m.Syscalls) != 2 || m.Syscalls[0].Arch != "x86_64" || m.Syscalls[1].Arch != "aarch64" {
		t.Errorf("merge of two arches: %+v", m)
	}
	// Each input's entries keep to its arch: x86_64 socket (nr 41) must
	// not become an i386 socket entry, nor i386 dup an x86_64 dup.
	c := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "socket"}}}
	d := &Profile{Version: 1, Arch: []string{"i386", "x86_64"}, DefaultAction: ActKillProcess,
		Syscalls: []Syscall{{Name: "dup", Arch: "i386"}, {Name: "getpid"}}}
	m, err = Merge(c, d)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range m.Syscalls {
		keys = append(keys, s.Key())
	}
	if got := strings.Join(keys, " "); got != "i386:dup getpid x86_64:socket" {
		t.Errorf("merged entries %s, want i386:dup getpid x86_64:socket", got)
	}
}

func TestShellJoin(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"sh", "-c", "echo hi | sort"}, `sh -c 'echo hi | sort'`},
		{[]string{"nginx", "-g", "daemon off;"}, `nginx -g 'daemon off;'`},
		{[]string{"echo", "it's", ""}, `echo 'it'\''s' ''`},
		{[]string{"/usr/bin/ls", "-la", "a=b"}, `/usr/bin/ls -la a=b`},
	} {
		if got := ShellJoin(tc.argv); got != tc.want {
			t.Errorf("ShellJoin(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

// TestFormatRows: off a terminal no row is padded to the widest rule:
// a long rule stays on its own line, the other rows as short as their
// cells.
func TestFormatRows(t *testing.T) {
	p, err := Load("testdata/show.json")
	if err != nil {
		t.Fatal(err)
	}
	long := Syscall{Name: "ioctl", Args: []ArgRule{{Index: 1, Op: OpIn}}}
	for v := range 80 {
		long.Args[0].Values = append(long.Args[0].Values, uint64(0x5400+v))
	}
	p.Syscalls = append(p.Syscalls, long)
	aligned, rows := Format(p), FormatRows(p)
	widest := func(s string) (n int, lines []string) {
		for _, l := range strings.Split(s, "\n") {
			n = max(n, utf8.RuneCountInString(l))
			lines = append(lines, l)
		}
		return n, lines
	}
	wa, _ := widest(aligned)
	_, lines := widest(rows)
	if wa < 500 {
		t.Fatalf("aligned rows are %d wide: the long rule does not widen them", wa)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "read") && utf8.RuneCountInString(l) > 200 {
			t.Errorf("a short row is padded to %d columns: %q", utf8.RuneCountInString(l), l)
		}
		if strings.HasSuffix(l, " ") || strings.Contains(l, "\t") {
			t.Errorf("row with trailing space or tab: %q", l)
		}
	}
	if !strings.Contains(rows, "ioctl(request ∈ {") || strings.Contains(rows, "…") {
		t.Error("the long rule is not printed whole")
	}
}

func TestPhaseErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"old version", `{"version": 2, "arch": ["x86_64"], "default_action": "kill_process", "phases": {"transition": {"after": ["epoll_wait"]}}, "syscalls": [{"name": "socket", "phase": "init"}]}`, "field syscalls[0].phase: phases need version 3"},
		{"no section", `{"version": 3, "arch": ["x86_64"], "default_action": "kill_process", "syscalls": [{"name": "socket", "phase": "init"}]}`, "field syscalls[0].phase: an init entry needs the phases section"},
		{"unknown phase", `{"version": 3, "arch": ["x86_64"], "default_action": "kill_process", "syscalls": [{"name": "socket", "phase": "later"}]}`, `field syscalls[0].phase: unknown phase "later"`},
		{"not allow", `{"version": 3, "arch": ["x86_64"], "default_action": "kill_process", "phases": {"transition": {"after": ["epoll_wait"]}}, "syscalls": [{"name": "socket", "phase": "init", "action": "errno"}]}`, "an init entry must allow"},
		{"no after", `{"version": 3, "arch": ["x86_64"], "default_action": "kill_process", "phases": {"transition": {"after": []}}, "syscalls": []}`, "field phases.transition.after: no syscall listed"},
		{"gate", `{"version": 3, "arch": ["x86_64"], "default_action": "kill_process", "phases": {"transition": {"after": ["poll"], "gate": "bind"}}, "syscalls": []}`, `field phases.transition.gate: unknown gate "bind"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestPhaseViews(t *testing.T) {
	p := &Profile{Version: 3, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Phases:   &Phases{Transition: DefaultTransition()},
		Syscalls: []Syscall{{Name: "bind", Phase: PhaseInit}, {Name: "read"}, {Name: "socket", Phase: PhaseInit}, {Name: "write"}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	names := func(ss []Syscall) (out []string) {
		for _, s := range ss {
			out = append(out, s.Name+"/"+string(s.Phase)+"/"+s.EffectiveAction().String())
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  *Profile
		want []string
	}{
		{"serving", p.ServingOnly(), []string{"read//allow", "write//allow"}},
		{"union", p.Union(), []string{"read//allow", "write//allow", "bind//allow", "socket//allow"}},
		{"supervised", p.Supervised(), []string{"read//allow", "write//allow", "bind//user_notif", "socket//user_notif"}},
	} {
		if got := names(tc.got.Syscalls); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(b)
	if err != nil || !q.HasPhases() || q.Version != 3 || !q.Phases.Transition.Equal(DefaultTransition()) {
		t.Fatalf("round trip: %v %+v", err, q)
	}
	if u, err := p.Union().Marshal(); err != nil || !strings.Contains(string(u), `"version": 1`) {
		t.Fatalf("union is not version 1: %v\n%s", err, u)
	}
}

// TestTransitionNumbers: a transition lowered to an arch's numbers
// leaves out the names the arch lacks, and none left is an error.
func TestTransitionNumbers(t *testing.T) {
	for _, tc := range []struct {
		arch  string
		after []string
		want  []int
		err   bool
	}{
		{"x86_64", []string{"epoll_wait", "accept4"}, []int{232, 288}, false},
		{"aarch64", []string{"epoll_wait", "epoll_pwait"}, []int{22}, false},
		{"aarch64", []string{"poll", "select"}, nil, true},
	} {
		arch, err := linuxabi.LookupArch(tc.arch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Transition{After: tc.after}.Numbers(arch)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: %v, %v; want %v (error %v)", tc.arch, tc.after, got, err, tc.want, tc.err)
		}
	}
}
