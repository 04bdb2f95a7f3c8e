package emit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// ociLoadScript loads OCI seccomp JSON files into libseccomp
// (python3-seccomp) the way runc 1.1 does (libcontainer/seccomp): the
// default action from defaultAction/defaultErrnoRet, errnoRet also for
// trace (EPERM/1 when missing), SCMP_ACT_KILL as kill_thread, entries
// whose action is the default skipped, names libseccomp does not know
// skipped, and an entry with two comparisons of one argument split into
// one rule per comparison. Arguments: pairs of IN.json OUT.bpf.
const ociLoadScript = `
import json, sys, seccomp
ops = {"SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_LT": seccomp.LT, "SCMP_CMP_LE": seccomp.LE,
       "SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_GE": seccomp.GE, "SCMP_CMP_GT": seccomp.GT,
       "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
arches = {"SCMP_ARCH_X86_64": seccomp.Arch.X86_64, "SCMP_ARCH_X86": seccomp.Arch.X86,
          "SCMP_ARCH_AARCH64": seccomp.Arch.AARCH64, "SCMP_ARCH_ARM": seccomp.Arch.ARM}
def action(name, ret):
    if name == "SCMP_ACT_ALLOW": return seccomp.ALLOW
    if name == "SCMP_ACT_KILL_PROCESS": return seccomp.KILL_PROCESS
    if name in ("SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"): return seccomp.KILL
    if name == "SCMP_ACT_TRAP": return seccomp.TRAP
    if name == "SCMP_ACT_LOG": return seccomp.LOG
    if name == "SCMP_ACT_NOTIFY": return seccomp.NOTIFY
    if name == "SCMP_ACT_ERRNO": return seccomp.ERRNO(1 if ret is None else ret)
    if name == "SCMP_ACT_TRACE": return seccomp.TRACE(1 if ret is None else ret)
    raise ValueError(name)
args = sys.argv[1:]
for i in range(0, len(args), 2):
    o = json.load(open(args[i]))
    default = action(o["defaultAction"], o.get("defaultErrnoRet"))
    f = seccomp.SyscallFilter(default)
    for a in o["architectures"]:
        if not f.exist_arch(arches[a]):
            f.add_arch(arches[a])
    for s in o["syscalls"]:
        act = action(s["action"], s.get("errnoRet"))
        if act == default:
            continue
        conds = [seccomp.Arg(c["index"], ops[c["op"]], c["value"], c.get("valueTwo", 0)) for c in s.get("args", [])]
        idx = [c["index"] for c in s.get("args", [])]
        rules = [[c] for c in conds] if len(set(idx)) < len(idx) else [conds]
        for name in s["names"]:
            try:
                nr = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
            except Exception:
                nr = -1
            if nr < 0:
                print("unknown", name)
                continue
            for r in rules:
                try:
                    f.add_rule(act, name, *r)
                except Exception as e:
                    raise Exception("%s: %s %s %s: %s" % (args[i], name, s["action"], s.get("args"), e))
    with open(args[i+1], "wb") as out:
        f.export_bpf(out)
`

// loadOCI compiles OCI JSON documents with libseccomp as runc does, and
// returns the syscall names this libseccomp does not know (runc skips
// them: the default action answers them).
func loadOCI(t *testing.T, docs [][]byte) ([][]bpf.RawInstruction, map[string]bool) {
	t.Helper()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import seccomp").Run(); err != nil {
		testenv.RequireTool(t, "python3-seccomp (apt-get install python3-seccomp)")
	}
	dir := t.TempDir()
	var args []string
	for i, d := range docs {
		in, out := filepath.Join(dir, fmt.Sprintf("%d.json", i)), filepath.Join(dir, fmt.Sprintf("%d.bpf", i))
		if err := os.WriteFile(in, d, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, in, out)
	}
	b, err := exec.Command(python, append([]string{"-c", ociLoadScript}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("libseccomp: %v\n%s", err, b)
	}
	unknown := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "unknown "); ok {
			unknown[name] = true
		}
	}
	var progs [][]bpf.RawInstruction
	for i := 1; i < len(args); i += 2 {
		b, err := os.ReadFile(args[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(b)/8 > linuxabi.MaxFilterInstructions {
			progs = append(progs, nil) // the kernel would refuse it: runc fails
			continue
		}
		prog, err := cbpf.Decode(b)
		if err != nil {
			t.Fatalf("libseccomp's filter: %v", err)
		}
		progs = append(progs, prog)
	}
	return progs, unknown
}

// ociRandomProfile is a random profile OCI can express: x86_64, the
// default bad-arch and unknown actions, no trap data.
func ociRandomProfile(r *rand.Rand) *profiles.Profile {
	p := randomProfile(r)
	p.Arch = []string{"x86_64"}
	p.Syscalls = p.Syscalls[:min(len(p.Syscalls), 20)]
	p.BadArchAction, p.UnknownAction = profiles.Action{}, profiles.Action{}
	names := x86.Syscalls()
	fix := func(a *profiles.Action) {
		if a.Kind == profiles.Trap {
			a.Data = 0
		}
	}
	fix(&p.DefaultAction)
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		if _, ok := x86.Number(s.Name); !ok {
			s.Name = names[r.IntN(len(names))]
		}
		fix(&s.Action)
		s.Count = 0
		for j := range s.Args {
			if r.IntN(10) > 0 {
				s.Args[j] = ociRandomRule(r)
			}
		}
	}
	// Several entries for one syscall, of different actions, in an
	// order that matters (first match wins).
	for range r.IntN(6) {
		if len(p.Syscalls) == 0 {
			break
		}
		s := p.Syscalls[r.IntN(len(p.Syscalls))]
		s.Args = nil
		for range r.IntN(3) {
			s.Args = append(s.Args, ociRandomRule(r))
		}
		s.Action = []profiles.Action{profiles.ActAllow, profiles.ActEPERM, p.DefaultAction, profiles.ActLog}[r.IntN(4)]
		p.Syscalls = append(p.Syscalls, s)
	}
	return p
}

// ociRandomRule is a rule of the shapes recorded profiles have (small
// value sets, flag masks, short ranges), with both widths.
func ociRandomRule(r *rand.Rand) profiles.ArgRule {
	rule := profiles.ArgRule{Index: r.IntN(6), Width: []int{0, 32, 64}[r.IntN(3)]}
	small := func() uint64 {
		if r.IntN(4) == 0 {
			return randomValue(r)
		}
		return uint64(r.IntN(64))
	}
	switch r.IntN(3) {
	case 0:
		rule.Op = profiles.OpIn
		if r.IntN(2) == 0 {
			rule.Mask = uint64(r.Uint32()) | 0xff
		}
		for range 1 + r.IntN(5) {
			rule.Values = append(rule.Values, small())
		}
	case 1:
		rule.Op = profiles.OpSubset
		rule.Mask = uint64(r.Uint32()) >> r.IntN(32)
	case 2:
		rule.Op = profiles.OpRange
		rule.Min = small()
		rule.Max = rule.Min + uint64(r.IntN(5000))
	}
	return rule
}

// TestOCIFirstMatch: a profile that answers socket(AF_PACKET) with EPERM
// and allows every other socket call, and allows mprotect only without
// PROT_EXEC, loads through libseccomp with the same decisions, though
// OCI entries are not ordered.
func TestOCIFirstMatch(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActKillProcess,
		profiles.Syscall{Name: "socket", Action: profiles.ActEPERM, Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{17}}}},
		profiles.Syscall{Name: "socket"},
		profiles.Syscall{Name: "mprotect", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 3}}},
		profiles.Syscall{Name: "mprotect", Action: profiles.ActEPERM})
	doc, err := OCI(p, Options{ContainerSetup: ContainerSetupNone})
	if err != nil {
		t.Fatal(err)
	}
	progs, _ := loadOCI(t, [][]byte{doc})
	for _, c := range []struct {
		name string
		arg  uint64
		want profiles.Action
	}{
		{"socket", 17, profiles.ActEPERM}, {"socket", 0xffffffff00000011, profiles.ActEPERM}, {"socket", 2, profiles.ActAllow}, {"socket", 1 << 32, profiles.ActAllow},
		{"mprotect", 3, profiles.ActAllow}, {"mprotect", 7, profiles.ActEPERM}, {"mprotect", 4, profiles.ActEPERM},
	} {
		d := linuxabi.SeccompData{Nr: nr(x86, c.name), Arch: x86.Audit}
		d.Args[0], d.Args[2] = c.arg, c.arg
		if got := decide(t, progs[0], d); got != c.want.Ret() {
			t.Errorf("%s(%#x): libseccomp from the OCI JSON %#x, want %s\n%s", c.name, c.arg, got, c.want, doc)
		}
	}
}

// TestOCIMeansTheProfile: OCI JSON loaded by libseccomp as runc loads it
// decides every x86_64 call as sysrec's own filter for the profile
// (cbpf.Exec of Raw) does, over random profiles with several entries of
// different actions per syscall, ANDed rules on several arguments, in,
// subset and range rules of both widths, and inputs near the rules'
// values. Calls from another arch, and x32 numbers, get kill_thread from
// libseccomp where the profile says kill_process: that is checked too,
// as the one difference OCI cannot avoid. SYSREC_OCI_PROFILES raises the
// number of profiles (default 300, 1000 inputs each).
func TestOCIMeansTheProfile(t *testing.T) {
	n := 300
	if s := os.Getenv("SYSREC_OCI_PROFILES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("SYSREC_OCI_PROFILES=%q: %v", s, err)
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	var ps []*profiles.Profile
	var docs [][]byte
	refused := 0
	for len(ps) < n {
		p := ociRandomProfile(r)
		doc, err := OCI(p, Options{ContainerSetup: ContainerSetupNone})
		if err != nil {
			refused++ // too many entries for one syscall: said, not guessed
			if refused <= 3 {
				t.Logf("refused: %v", err)
			}
			continue
		}
		var o ociSeccomp
		if err := json.Unmarshal(doc, &o); err != nil {
			t.Fatal(err)
		}
		for _, e := range o.Syscalls {
			seen := map[uint]bool{}
			for _, a := range e.Args {
				if seen[a.Index] {
					t.Fatalf("%v compares argument %d twice in one entry: runc and crun OR such comparisons", e.Names, a.Index)
				}
				seen[a.Index] = true
			}
		}
		ps, docs = append(ps, p), append(docs, doc)
	}
	progs, unknown := loadOCI(t, docs)
	inputs, mismatches, foreign, outside, skipped := 0, 0, 0, 0, 0
	tooLarge := 0
	for i, p := range ps {
		if progs[i] == nil {
			tooLarge++
			continue
		}
		ours := mustCompileRaw(t, p)
		for range 1000 {
			d := randomInput(r, p)
			if r.IntN(4) > 0 {
				d.Arch = x86.Audit
			}
			if d.Arch == x86.Audit && unknown[x86.SyscallName(int(d.Nr))] {
				skipped++ // newer than this libseccomp: runc cannot name it
				continue
			}
			want := decide(t, ours, d)
			got := decide(t, progs[i], d)
			inputs++
			switch {
			case d.Arch != x86.Audit:
				// OCI has no bad-arch action: libseccomp's is kill_thread.
				foreign++
				if want != linuxabi.RetKillProcess || got != linuxabi.RetKillThread {
					t.Errorf("profile %d, arch %#x: sysrec %#x, libseccomp %#x; want kill_process and libseccomp's kill_thread", i, d.Arch, want, got)
				}
				continue
			case x86.SyscallName(int(d.Nr)) == "":
				// Numbers no table names: the profile kills x32 numbers
				// and gives the rest unknown_action; libseccomp gives
				// 0x40000000 and up (but -1) kill_thread, the rest the
				// default.
				if got != want {
					outside++
				}
				continue
			}
			if got != want {
				mismatches++
				if mismatches <= 3 {
					b, _ := p.Marshal()
					t.Errorf("profile %d, nr %d (%s) args %#x: sysrec %#x, libseccomp from the OCI JSON %#x\nprofile:\n%s\noci:\n%s",
						i, d.Nr, x86.SyscallName(int(d.Nr)), d.Args, want, got, b, docs[i])
				}
			}
		}
	}
	t.Logf("%d profiles (%d refused as too large by OCI, %d whose libseccomp filter exceeds 4096 instructions), %d inputs, %d mismatches; %d foreign-arch inputs got libseccomp's kill_thread for the profile's kill_process, %d of the numbers no table names were decided otherwise; %d inputs skipped: syscalls this libseccomp does not know (%d names)",
		len(ps), refused, tooLarge, inputs, mismatches, foreign, outside, skipped, len(unknown))
}
