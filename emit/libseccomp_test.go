package emit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// libseccompScript compiles a profile's argument-free allow list with
// libseccomp (Debian python3-seccomp) and exports the raw filter.
const libseccompScript = `
import json, sys, seccomp
p = json.load(open(sys.argv[1]))
f = seccomp.SyscallFilter(seccomp.ERRNO(1))
for s in p["syscalls"]:
    if "args" in s or "action" in s:
        continue
    f.add_rule(seccomp.ALLOW, s["name"])
with open(sys.argv[2], "wb") as out:
    f.export_bpf(out)
`

// libseccompArgsScript compiles in and subset rules with libseccomp: an
// "in" rule becomes one rule per value (OR), a subset rule
// MASKED_EQ(~allowed, 0). An optional third argument picks libseccomp's
// layout: "tree" (binary tree, SCMP_FLTATR_CTL_OPTIMIZE=2) or "prio"
// (syscall priorities from the recorded counts, libseccomp's own
// profile-guided layout).
const libseccompArgsScript = `
import json, sys, seccomp
p = json.load(open(sys.argv[1]))
mode = sys.argv[3] if len(sys.argv) > 3 else "default"
f = seccomp.SyscallFilter(seccomp.ERRNO(1))
if mode == "tree":
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
if mode == "prio":
    hot = sorted({s["name"]: s.get("count", 0) for s in p["syscalls"]}.items(), key=lambda kv: -kv[1])
    for rank, (name, count) in enumerate(hot):
        f.syscall_priority(name, max(0, 255 - rank))
for s in p["syscalls"]:
    alts = [[]]
    for r in s.get("args", []):
        if r["op"] == "in":
            m = r.get("mask", 0)
            choices = [seccomp.Arg(r["index"], seccomp.MASKED_EQ, m, v) if m else seccomp.Arg(r["index"], seccomp.EQ, v) for v in r["values"]]
        else:
            choices = [seccomp.Arg(r["index"], seccomp.MASKED_EQ, ~r["mask"] & 0xffffffffffffffff, 0)]
        alts = [a + [c] for a in alts for c in choices]
    for args in alts:
        f.add_rule(seccomp.ALLOW, s["name"], *args)
with open(sys.argv[2], "wb") as out:
    f.export_bpf(out)
`

// libseccomp compiles a profile with script (and its extra arguments)
// and returns its filter.
func libseccomp(t *testing.T, script string, p *profiles.Profile, extra ...string) []bpf.RawInstruction {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import seccomp").Run(); err != nil {
		testenv.RequireTool(t, "python3-seccomp (apt-get install python3-seccomp)")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "p.json"), filepath.Join(dir, "p.bpf")
	if err := p.Save(in); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(python, append([]string{"-c", script, in, out}, extra...)...).CombinedOutput(); err != nil {
		t.Fatalf("libseccomp: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := cbpf.Decode(b)
	if err != nil {
		t.Fatalf("libseccomp's filter: %v", err)
	}
	return prog
}

// TestLibseccompArgs: the same argument rules compiled by sysrec and by
// libseccomp decide identically on a table of argument values, 64-bit
// rules (libseccomp compares all 64 bits on 64-bit arches).
func TestLibseccompArgs(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActEPERM,
		profiles.Syscall{Name: "socket", Args: []profiles.ArgRule{
			{Index: 0, Op: profiles.OpIn, Values: []uint64{1, 2}, Width: 64},
			{Index: 1, Op: profiles.OpIn, Mask: 0xfff7f7ff, Values: []uint64{1, 2}, Width: 64}}},
		profiles.Syscall{Name: "mmap", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 3, Width: 64}}},
		profiles.Syscall{Name: "ioctl", Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: []uint64{0x5401, 0x541b, 0x1_0000_5401}, Width: 64}}},
		profiles.Syscall{Name: "read"})
	theirs := libseccomp(t, libseccompArgsScript, p)
	ours, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	values := []uint64{0, 1, 2, 3, 4, 7, 10, 0x801, 0x80001, 0x80002, 0x5401, 0x541b, 0x1_0000_5401, 0x2_0000_5401, 1 << 32, 1<<32 | 1, 0xffffffff, 0xffffffff00000001}
	n := 0
	for _, name := range []string{"socket", "mmap", "ioctl", "read", "write"} {
		for _, a := range values {
			for _, b := range values {
				d := linuxabi.SeccompData{Nr: nr(x86, name), Arch: x86.Audit, Args: [6]uint64{a, b, b, 0, 0, 0}}
				got := decide(t, ours, d)
				want := decide(t, theirs, d)
				if got != want {
					t.Errorf("%s(%#x, %#x): sysrec %#x, libseccomp %#x", name, a, b, got, want)
				}
				n++
			}
		}
	}
	t.Logf("%d decisions agree; sysrec %d instructions, libseccomp %d", n, len(ours), len(theirs))
}

// TestLibseccomp compiles Docker's allow list with libseccomp and with
// sysrec: both must decide alike for every syscall number, and the log
// shows their sizes and path lengths side by side.
func TestLibseccomp(t *testing.T) {
	p := dockerProfile(t)
	// Argument-free entries only: the part both compile the same way.
	var plain []profiles.Syscall
	for _, s := range p.Syscalls {
		if len(s.Args) == 0 && s.Action.IsZero() {
			plain = append(plain, s)
		}
	}
	p.Syscalls = plain
	theirs := libseccomp(t, libseccompScript, p)
	ours, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats := func(prog []bpf.RawInstruction) (mean float64, maxPath int) {
		sum := 0
		for n := 0; n <= x86.MaxNumber(); n++ {
			_, steps, err := cbpf.Exec(prog, linuxabi.SeccompData{Nr: int32(n), Arch: x86.Audit})
			if err != nil {
				t.Fatal(err)
			}
			sum += steps
			maxPath = max(maxPath, steps)
		}
		return float64(sum) / float64(x86.MaxNumber()+1), maxPath
	}
	for n := 0; n <= x86.MaxNumber(); n++ {
		d := linuxabi.SeccompData{Nr: int32(n), Arch: x86.Audit}
		a := decide(t, ours, d)
		b := decide(t, theirs, d)
		if a != b {
			t.Errorf("nr %d (%s): sysrec %#x, libseccomp %#x", n, x86.SyscallName(n), a, b)
		}
	}
	om, ox := stats(ours)
	lm, lx := stats(theirs)
	t.Logf("Docker allow list (%d syscalls, x86_64): sysrec %d instructions, path mean %.1f max %d; libseccomp %d instructions, path mean %.1f max %d",
		len(plain), len(ours), om, ox, len(theirs), lm, lx)
}

// TestLibseccompCost: on a recorded-shaped profile, the calls that run
// the filter (argument rules) execute at most half the instructions of
// libseccomp's layouts that know no counts (default, binary tree), fewer
// than libseccomp given priorities from the same counts, and at most
// 1.25× the lower bound. (Half of the priority layout is below the
// bound here, so no compiler could reach it.)
func TestLibseccompCost(t *testing.T) {
	p := countedProfile()
	ours, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := PathCost(p, ours)
	if err != nil {
		t.Fatal(err)
	}
	costs := map[string]float64{}
	for _, mode := range []string{"default", "tree", "prio"} {
		prog := libseccomp(t, libseccompArgsScript, p, mode)
		lc, err := PathCost(p, prog)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("libseccomp %-7s: %3d instructions, %.2f per call with argument rules", mode, len(prog), lc.Expected)
		costs[mode] = lc.Expected
	}
	t.Logf("sysrec            : %3d instructions, %.2f per call with argument rules (bound %.2f)", len(ours), c.Expected, c.Bound)
	if best := min(costs["default"], costs["tree"]); c.Expected > best/2 {
		t.Errorf("sysrec %.2f instructions per call, more than half of libseccomp's best count-free layout %.2f", c.Expected, best)
	}
	if c.Expected >= costs["prio"] {
		t.Errorf("sysrec %.2f instructions per call, not below libseccomp with priorities %.2f", c.Expected, costs["prio"])
	}
	if c.Expected > 1.25*c.Bound {
		t.Errorf("sysrec %.2f instructions per call, more than 1.25× the bound %.2f", c.Expected, c.Bound)
	}
}
