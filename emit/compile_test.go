package emit

import (
	"bytes"
	"errors"
	"math/bits"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

var (
	x86     = mustArch("x86_64")
	i386    = mustArch("i386")
	aarch64 = mustArch("aarch64")
)

func mustArch(name string) *linuxabi.Arch {
	a, err := linuxabi.LookupArch(name)
	if err != nil {
		panic(err)
	}
	return a
}

func nr(a *linuxabi.Arch, name string) int32 {
	n, ok := a.Number(name)
	if !ok {
		panic(name)
	}
	return int32(n)
}

// check compiles p and compares the filter's decision with Decide for
// every input.
func check(t *testing.T, p *profiles.Profile, inputs []linuxabi.SeccompData) {
	t.Helper()
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	for _, d := range inputs {
		got, _, err := cbpf.Exec(prog, d)
		if err != nil {
			t.Fatalf("run %+v: %v", d, err)
		}
		if want := p.Decide(d, profiles.PhaseServing).Ret(); got != want {
			t.Fatalf("input nr=%d arch=%#x args=%#x: filter returns %#x, profile decides %#x (%s)", d.Nr, d.Arch, d.Args, got, want, p.Decide(d, profiles.PhaseServing))
		}
	}
}

// compileRaw compiles p to the instructions Raw encodes.
func compileRaw(p *profiles.Profile, opts Options) ([]bpf.RawInstruction, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return nil, err
	}
	return prog.Raw(), nil
}

func mustCompileRaw(t testing.TB, p *profiles.Profile) []bpf.RawInstruction {
	t.Helper()
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return prog
}

// decide runs prog on d; the interpreter refusing the program fails t.
func decide(t testing.TB, prog []bpf.RawInstruction, d linuxabi.SeccompData) uint32 {
	t.Helper()
	ret, _, err := cbpf.Exec(prog, d)
	if err != nil {
		t.Fatalf("nr=%d arch=%#x args=%#x: %v", d.Nr, d.Arch, d.Args, err)
	}
	return ret
}

func profile(arches []string, def profiles.Action, calls ...profiles.Syscall) *profiles.Profile {
	return &profiles.Profile{Version: 1, Arch: arches, DefaultAction: def, Syscalls: calls}
}

// Pitfall 1: the arch is checked first; a foreign arch never falls
// through to a number test.
func TestArchFirst(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActEPERM, profiles.Syscall{Name: "read"})
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if prog[0].Op != 0x20 || prog[0].K != linuxabi.OffArch {
		t.Fatalf("first instruction %+v does not load the arch", prog[0])
	}
	// read is 0 on x86_64 and 3 on i386: an i386 call numbered 0 must
	// not be allowed as x86_64's read.
	for _, arch := range []uint32{i386.Audit, aarch64.Audit, 0, 0xffffffff} {
		got := decide(t, prog, linuxabi.SeccompData{Nr: 0, Arch: arch})
		if got != profiles.ActKillProcess.Ret() {
			t.Errorf("arch %#x: %#x, want kill_process", arch, got)
		}
	}
	p.BadArchAction = profiles.Action{Kind: profiles.Trap}
	check(t, p, []linuxabi.SeccompData{{Nr: 0, Arch: i386.Audit}, {Nr: 0, Arch: x86.Audit}})
}

// Pitfall 2: x32 numbers (bit 30) are denied on x86_64, though the low
// bits name an allowed syscall.
func TestX32Denied(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActEPERM, profiles.Syscall{Name: "read"}, profiles.Syscall{Name: "write"})
	prog := mustCompileRaw(t, p)
	for _, n := range []uint32{0x40000000, 0x40000001, 0x40000000 | 512, 0xc0000000, 0xffffffff} {
		got := decide(t, prog, linuxabi.SeccompData{Nr: int32(n), Arch: x86.Audit})
		if got != profiles.ActKillProcess.Ret() {
			t.Errorf("nr %#x: %#x, want kill_process (bad arch)", n, got)
		}
	}
	check(t, p, []linuxabi.SeccompData{{Nr: 0x40000000, Arch: x86.Audit}, {Nr: int32(-0x80000000), Arch: x86.Audit}})
}

// Pitfall 3: 64-bit arguments compare both halves, and the checks of one
// syscall never leave A holding an argument when the next syscall's
// number is tested (each argument block ends in a return).
func TestArg64BothHalves(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActEPERM,
		profiles.Syscall{Name: "clone", Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{0x100000011}}}},
		profiles.Syscall{Name: "mmap", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpSubset, Mask: 3}}},
		profiles.Syscall{Name: "mprotect", Args: []profiles.ArgRule{{Index: 2, Op: profiles.OpRange, Min: 0x1_0000_0000, Max: 0x2_0000_0005}}},
		profiles.Syscall{Name: "read"})
	var in []linuxabi.SeccompData
	for _, v := range []uint64{0x100000011, 0x11, 0x200000011, 0xffffffff00000011, 1, 3, 4, 0x100000000, 0x100000003, 0x200000005, 0x200000006, 0x1ffffffff, 0xffffffff} {
		for _, name := range []string{"clone", "mmap", "mprotect", "read"} {
			d := linuxabi.SeccompData{Nr: nr(x86, name), Arch: x86.Audit}
			d.Args[0], d.Args[2] = v, v
			in = append(in, d)
		}
	}
	check(t, p, in)
	prog := mustCompileRaw(t, p)
	if got := decide(t, prog, linuxabi.SeccompData{Nr: nr(x86, "clone"), Arch: x86.Audit, Args: [6]uint64{0x11}}); got == profiles.ActAllow.Ret() {
		t.Error("clone with the low word right and the high word 0 was allowed")
	}
	if got := decide(t, prog, linuxabi.SeccompData{Nr: nr(x86, "mmap"), Arch: x86.Audit, Args: [6]uint64{2: 1 << 32}}); got == profiles.ActAllow.Ret() {
		t.Error("mmap prot with a high bit set was allowed by a 64-bit subset rule")
	}
}

// Pitfall 4: int arguments compare the low word only: AT_FDCWD (-100)
// arrives sign-extended from some callers and zero-extended from others.
func TestIntArgLowWord(t *testing.T) {
	atFDCWD := uint64(0xffffff9c)
	p := profile([]string{"x86_64"}, profiles.ActEPERM,
		profiles.Syscall{Name: "openat", Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{atFDCWD}, Width: 32}}},
		profiles.Syscall{Name: "kill", Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: []uint64{15}}}})
	prog := mustCompileRaw(t, p)
	for _, v := range []uint64{atFDCWD, 0xffffffffffffff9c} {
		got := decide(t, prog, linuxabi.SeccompData{Nr: nr(x86, "openat"), Arch: x86.Audit, Args: [6]uint64{v}})
		if got != profiles.ActAllow.Ret() {
			t.Errorf("openat(%#x): %#x, want allow", v, got)
		}
	}
	// kill's sig is an int in the table: garbage in the high word is ignored.
	got := decide(t, prog, linuxabi.SeccompData{Nr: nr(x86, "kill"), Arch: x86.Audit, Args: [6]uint64{1: 0xdead00000000000f}})
	if got != profiles.ActAllow.Ret() {
		t.Errorf("kill(sig with high garbage): %#x, want allow", got)
	}
	check(t, p, []linuxabi.SeccompData{{Nr: nr(x86, "openat"), Arch: x86.Audit, Args: [6]uint64{0x9c}}})
}

// Pitfall 5: -1 (ptrace skip), holes and numbers above the table get the
// unknown action when the profile sets one, the default otherwise.
func TestUnknownNumbers(t *testing.T) {
	for _, unknown := range []profiles.Action{{}, profiles.ActENOSYS} {
		for _, arch := range []*linuxabi.Arch{x86, aarch64} {
			p := profile([]string{arch.Name}, profiles.ActKillProcess, profiles.Syscall{Name: "read"})
			p.UnknownAction = unknown
			var in []linuxabi.SeccompData
			for _, n := range []int64{-1, int64(arch.MaxNumber()) + 1, 1000, 0x3fffffff, 0x7fffffff, 0x80000000, 0xbfffffff} {
				in = append(in, linuxabi.SeccompData{Nr: int32(n), Arch: arch.Audit})
			}
			for n := 0; n <= arch.MaxNumber(); n++ {
				if arch.SyscallName(n) == "" {
					in = append(in, linuxabi.SeccompData{Nr: int32(n), Arch: arch.Audit}) // a hole
				}
			}
			check(t, p, in)
		}
	}
}

// Pitfall 7: a profile too large for the kernel is an error naming its
// size, not a filter the kernel refuses.
func TestTooLarge(t *testing.T) {
	p := profile([]string{"x86_64"}, profiles.ActEPERM)
	var vals []uint64
	for v := range uint64(3000) {
		vals = append(vals, v)
	}
	p.Syscalls = []profiles.Syscall{{Name: "ioctl", Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: vals}}}}
	_, err := BPF(p, Options{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("BPF of a 3000-value rule: %v, want ErrTooLarge", err)
	}
	t.Log(err)
	if _, err := BPF(p, Options{MaxInstructions: 100}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("with MaxInstructions 100: %v", err)
	}
}

// Pitfall 7 (jumps): a rule list longer than 255 instructions needs JA
// trampolines; decisions stay exact.
func TestTrampolines(t *testing.T) {
	var vals []uint64
	for v := range uint64(400) {
		vals = append(vals, v*7)
	}
	p := profile([]string{"x86_64"}, profiles.ActEPERM,
		profiles.Syscall{Name: "ioctl", Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: vals}}},
		profiles.Syscall{Name: "read"}, profiles.Syscall{Name: "write"})
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ja := 0
	for _, in := range prog {
		if in.Op == 0x05 {
			ja++
		}
	}
	if ja == 0 {
		t.Fatal("no JA trampoline in a filter with jumps over 255 instructions")
	}
	var in []linuxabi.SeccompData
	for v := range uint64(3000) {
		in = append(in, linuxabi.SeccompData{Nr: nr(x86, "ioctl"), Arch: x86.Audit, Args: [6]uint64{1: v}})
	}
	in = append(in, linuxabi.SeccompData{Nr: nr(x86, "read"), Arch: x86.Audit}, linuxabi.SeccompData{Nr: nr(x86, "close"), Arch: x86.Audit})
	check(t, p, in)
}

// Pitfall 8: every allowed syscall without argument rules is one the
// kernel's action cache can mark always-allowed: emulating the filter
// with only nr and arch known (seccomp_is_const_allow) reaches RET ALLOW.
func TestCacheable(t *testing.T) {
	p := dockerProfile(t)
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, archName := range p.Arch {
		arch := mustArch(archName)
		for _, s := range p.Syscalls {
			n, ok := arch.Number(s.Name)
			if !ok || len(s.Args) != 0 || s.EffectiveAction() != profiles.ActAllow {
				continue
			}
			if !constAllow(prog, arch.Audit, uint32(n)) {
				t.Errorf("%s/%s: not cacheable", archName, s.Name)
			}
		}
	}
}

// constAllow mirrors kernel/seccomp.c seccomp_is_const_allow: only loads
// of nr and arch, JEQ/JGE/JGT/JSET K, AND K and JA; anything else (an
// argument load) means "not constant".
func constAllow(prog []bpf.RawInstruction, arch, nr uint32) bool {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Op {
		case 0x20: // ld [k]
			switch in.K {
			case linuxabi.OffNr:
				a = nr
			case linuxabi.OffArch:
				a = arch
			default:
				return false
			}
		case 0x06: // ret #k
			return in.K == profiles.ActAllow.Ret()
		case 0x05: // ja
			pc += int(in.K)
		case 0x15, 0x35, 0x25, 0x45: // jeq, jge, jgt, jset #k
			var c bool
			switch in.Op {
			case 0x15:
				c = a == in.K
			case 0x35:
				c = a >= in.K
			case 0x25:
				c = a > in.K
			case 0x45:
				c = a&in.K != 0
			}
			if c {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case 0x54: // and #k
			a &= in.K
		default:
			return false
		}
	}
	return false
}

// Pitfall 9: dispatch is a balanced search: no number-only path is
// longer than ceil(log2(ranges+1)) + 4 (arch load and test, nr load, ret).
func TestBalancedDispatch(t *testing.T) {
	p := dockerProfile(t)
	prog, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	arch := mustArch(p.Arch[0])
	nRanges := len(ranges(p, arch))
	limit := bits.Len(uint(nRanges)) + 4
	maxPath, sum, count := 0, 0, 0
	for n := 0; n <= arch.MaxNumber(); n++ {
		_, steps, err := cbpf.Exec(prog, linuxabi.SeccompData{Nr: int32(n), Arch: arch.Audit})
		if err != nil {
			t.Fatal(err)
		}
		if hasArgs(p, arch.SyscallName(n)) {
			continue
		}
		maxPath = max(maxPath, steps)
		sum += steps
		count++
	}
	t.Logf("docker profile: %d instructions, %d ranges, number-only paths: mean %.2f, max %d (limit %d)", len(prog), nRanges, float64(sum)/float64(count), maxPath, limit)
	if maxPath > limit {
		t.Errorf("max number-only path %d > %d", maxPath, limit)
	}
}

func hasArgs(p *profiles.Profile, name string) bool {
	for _, s := range p.Syscalls {
		if s.Name == name && len(s.Args) > 0 {
			return true
		}
	}
	return false
}

// TestJumpThreading: no jump lands on a JA that merely forwards it, and
// every instruction is reachable.
func TestJumpThreading(t *testing.T) {
	for _, path := range []string{"testdata/sample.json", "testdata/docker-default.json"} {
		p, err := profiles.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := compileRaw(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		reached := make([]bool, len(prog))
		reached[0] = true
		for pc, in := range prog {
			if !reached[pc] {
				t.Errorf("%s: instruction %d is unreachable", path, pc)
			}
			if in.Op&0x07 != 0x05 && in.Op&0x07 != 0x06 && pc+1 < len(prog) {
				reached[pc+1] = true // falls through
			}
			var targets []int
			switch {
			case in.Op == 0x05:
				targets = []int{pc + 1 + int(in.K)}
			case in.Op&0x07 == 0x05:
				targets = []int{pc + 1 + int(in.Jt), pc + 1 + int(in.Jf)}
			}
			for _, to := range targets {
				reached[to] = true
				if prog[to].Op == 0x05 {
					t.Errorf("%s: jump at %d lands on the JA at %d", path, pc, to)
				}
			}
		}
	}
}

// Pitfall 10: the same profile gives the same bytes, whatever the map
// iteration order inside the compiler.
// TestPerArchEntries: an entry of one arch applies to that arch's
// dispatch only. i386 dup is x86_64 socket's number (41) and i386 mmap
// is old_mmap, whose first argument points at the others: an x86_64
// mmap rule without PROT_EXEC applied to it would check a register the
// call does not read.
func TestPerArchEntries(t *testing.T) {
	noExec := profiles.ArgRule{Index: 2, Op: profiles.OpSubset, Mask: 3}
	p := profile([]string{"i386", "x86_64"}, profiles.ActKillProcess,
		profiles.Syscall{Name: "dup", Arch: "i386"},
		profiles.Syscall{Name: "mmap", Arch: "x86_64", Args: []profiles.ArgRule{noExec}},
		profiles.Syscall{Name: "mmap2", Arch: "i386", Args: []profiles.ArgRule{noExec}},
		profiles.Syscall{Name: "getpid"},
	)
	data := func(a *linuxabi.Arch, name string, args ...uint64) linuxabi.SeccompData {
		d := linuxabi.SeccompData{Arch: a.Audit, Nr: nr(a, name)}
		copy(d.Args[:], args)
		return d
	}
	const exec = 7
	for _, c := range []struct {
		d    linuxabi.SeccompData
		want profiles.Action
	}{
		{data(i386, "dup"), profiles.ActAllow},
		{data(x86, "socket", 17, 3), profiles.ActKillProcess}, // x86_64 nr 41
		{data(x86, "dup"), profiles.ActKillProcess},
		{data(x86, "mmap", 0, 4096, 3), profiles.ActAllow},
		{data(x86, "mmap", 0, 4096, exec), profiles.ActKillProcess},
		{data(i386, "mmap", 0, 4096, 3), profiles.ActKillProcess}, // old_mmap: not listed for i386
		{data(i386, "mmap2", 0, 4096, exec), profiles.ActKillProcess},
		{data(i386, "mmap2", 0, 4096, 3|0xffffffff00000000), profiles.ActAllow}, // the kernel reads the low half
		{data(i386, "getpid"), profiles.ActAllow},
		{data(x86, "getpid"), profiles.ActAllow},
	} {
		if got := p.Decide(c.d, profiles.PhaseServing); got != c.want {
			t.Errorf("arch %#x nr %d args %#x: model decides %s, want %s", c.d.Arch, c.d.Nr, c.d.Args[:3], got, c.want)
		}
	}
	var inputs []linuxabi.SeccompData
	for _, a := range []*linuxabi.Arch{x86, i386} {
		for n := range a.MaxNumber() + 2 {
			inputs = append(inputs, linuxabi.SeccompData{Arch: a.Audit, Nr: int32(n), Args: [6]uint64{0, 4096, exec}},
				linuxabi.SeccompData{Arch: a.Audit, Nr: int32(n), Args: [6]uint64{0, 4096, 3 | 0xffffffff00000000}})
		}
	}
	check(t, p, inputs)

	// A rule of the argument table on an i386 call that takes other
	// arguments is refused, not compiled.
	bad := profile([]string{"i386", "x86_64"}, profiles.ActKillProcess, profiles.Syscall{Name: "mmap", Args: []profiles.ArgRule{noExec}})
	if _, err := compileRaw(bad, Options{}); err == nil {
		t.Error("an untagged mmap rule in an i386 profile compiled")
	}
	if _, err := OCI(p, Options{ContainerSetup: "none"}); err == nil || !strings.Contains(err.Error(), "i386:dup applies to i386 only") {
		t.Errorf("oci of per-arch entries: %v, want a refusal naming i386:dup", err)
	}
}

func TestDeterministic(t *testing.T) {
	p := dockerProfile(t)
	first, err := Raw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		again, err := Raw(p.Clone(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("run %d: different bytes", i)
		}
	}
}

// randomProfile makes a profile of every rule shape the compiler knows.
func randomProfile(r *rand.Rand) *profiles.Profile {
	actions := []profiles.Action{profiles.ActAllow, profiles.ActEPERM, profiles.ActENOSYS, profiles.ActKillProcess,
		{Kind: profiles.KillThread}, {Kind: profiles.Trap, Data: 3}, profiles.ActLog, {Kind: profiles.UserNotif}, {Kind: profiles.Trace, Data: 9}}
	arches := [][]string{{"x86_64"}, {"aarch64"}, {"x86_64", "i386"}, {"riscv64", "arm"}}
	p := profile(arches[r.IntN(len(arches))], actions[r.IntN(len(actions))])
	if r.IntN(2) == 0 {
		p.UnknownAction = actions[r.IntN(len(actions))]
	}
	if r.IntN(3) == 0 {
		p.BadArchAction = actions[r.IntN(len(actions))]
	}
	withCounts := r.IntN(2) == 0
	for range 1 + r.IntN(60) {
		arch := mustArch(p.Arch[0])
		s := profiles.Syscall{}
		if len(p.Arch) > 1 && r.IntN(2) == 0 {
			// An entry of one arch: the other's dispatch must not see it.
			s.Arch = p.Arch[r.IntN(len(p.Arch))]
			arch = mustArch(s.Arch)
		}
		names := arch.Syscalls()
		s.Name = names[r.IntN(len(names))]
		if n := len(p.Syscalls); n > 0 && r.IntN(4) == 0 {
			// Another entry of a name already there: entries of one
			// syscall are an ordered OR (keyed arguments, denies).
			s.Name, s.Arch = p.Syscalls[n-1].Name, p.Syscalls[n-1].Arch
		}
		if r.IntN(3) == 0 {
			s.Action = actions[r.IntN(len(actions))]
		}
		for range r.IntN(3) {
			s.Args = append(s.Args, randomRule(r))
		}
		for _, a := range p.Arch {
			if s.AppliesTo(mustArch(a)) && mustArch(a).ArgsDiffer(s.Name) {
				s.Args = nil // Validate refuses rules there
			}
		}
		if withCounts {
			s.Count = uint64(r.IntN(1000)) // profile-guided layout
		}
		p.Syscalls = append(p.Syscalls, s)
	}
	return p
}

func randomValue(r *rand.Rand) uint64 {
	switch r.IntN(5) {
	case 0:
		return uint64(r.IntN(8))
	case 1:
		return uint64(r.Uint32())
	case 2:
		return 0xffffffff00000000 | uint64(r.Uint32())
	case 3:
		return uint64(r.IntN(4))<<32 | uint64(r.IntN(4))
	}
	return r.Uint64()
}

func randomRule(r *rand.Rand) profiles.ArgRule {
	rule := profiles.ArgRule{Index: r.IntN(6)}
	if r.IntN(2) == 0 {
		rule.Width = []int{32, 64}[r.IntN(2)]
	}
	switch r.IntN(3) {
	case 0:
		rule.Op = profiles.OpIn
		if r.IntN(2) == 0 {
			rule.Mask = randomValue(r)
		}
		for range 1 + r.IntN(4) {
			v := randomValue(r)
			if rule.Mask != 0 && r.IntN(2) == 0 {
				v &= rule.Mask
			}
			rule.Values = append(rule.Values, v)
		}
	case 1:
		rule.Op = profiles.OpSubset
		rule.Mask = randomValue(r)
	case 2:
		rule.Op = profiles.OpRange
		a, b := randomValue(r), randomValue(r)
		rule.Min, rule.Max = min(a, b), max(a, b)
	}
	return rule
}

// randomInput draws nr and args near the profile's interesting values.
func randomInput(r *rand.Rand, p *profiles.Profile) linuxabi.SeccompData {
	var d linuxabi.SeccompData
	archs := append([]string{}, p.Arch...)
	archs = append(archs, "aarch64", "i386")
	arch := mustArch(archs[r.IntN(len(archs))])
	d.Arch = arch.Audit
	if r.IntN(20) == 0 {
		d.Arch = r.Uint32()
	}
	switch r.IntN(6) {
	case 0:
		d.Nr = []int32{-1, 0x40000000, 0x40000001, int32(-0x80000000), 0x7fffffff, int32(arch.MaxNumber() + 1)}[r.IntN(6)]
	case 1:
		d.Nr = int32(r.Uint32())
	default:
		if len(p.Syscalls) > 0 && r.IntN(3) > 0 {
			s := p.Syscalls[r.IntN(len(p.Syscalls))]
			if n, ok := arch.Number(s.Name); ok {
				d.Nr = int32(n)
			}
		} else {
			d.Nr = int32(r.IntN(arch.MaxNumber() + 2))
		}
	}
	for i := range d.Args {
		d.Args[i] = randomValue(r)
	}
	// Values equal or adjacent to the rules' own.
	for _, s := range p.Syscalls {
		for _, rule := range s.Args {
			if r.IntN(3) != 0 {
				continue
			}
			var v uint64
			switch rule.Op {
			case profiles.OpIn:
				v = rule.Values[r.IntN(len(rule.Values))]
			case profiles.OpSubset:
				v = rule.Mask & randomValue(r)
			case profiles.OpRange:
				v = []uint64{rule.Min, rule.Max, rule.Min - 1, rule.Max + 1}[r.IntN(4)]
			}
			switch r.IntN(4) {
			case 0:
				v++
			case 1:
				v ^= 0xffffffff00000000 // the other sign extension
			}
			d.Args[rule.Index] = v
		}
	}
	return d
}

// TestDifferential compares compiled filters with the profile model on
// random profiles and inputs. SYSREC_DIFF_INPUTS raises the count (make
// bench runs 10^7).
func TestDifferential(t *testing.T) {
	total := 500_000
	if s := os.Getenv("SYSREC_DIFF_INPUTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("SYSREC_DIFF_INPUTS=%q: %v", s, err)
		}
		total = n
	}
	r := rand.New(rand.NewPCG(1, 2))
	perProfile := 500
	mismatches := 0
	for done := 0; done < total; done += perProfile {
		p := randomProfile(r)
		prog, err := compileRaw(p, Options{})
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		for range perProfile {
			d := randomInput(r, p)
			got, _, err := cbpf.Exec(prog, d)
			if err != nil {
				t.Fatal(err)
			}
			if want := p.Decide(d, profiles.PhaseServing).Ret(); got != want {
				mismatches++
				if mismatches < 5 {
					b, err := p.Marshal()
					if err != nil {
						t.Fatal(err)
					}
					t.Errorf("mismatch: nr=%d arch=%#x args=%#x: filter %#x, model %#x\n%s", d.Nr, d.Arch, d.Args, got, want, b)
				}
			}
		}
	}
	t.Logf("%d inputs, %d mismatches", total, mismatches)
}

// FuzzBPF: any profile the fuzzer builds compiles to a filter that
// decides like the model.
func FuzzBPF(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(42), uint64(7))
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		r := rand.New(rand.NewPCG(s1, s2))
		p := randomProfile(r)
		prog, err := compileRaw(p, Options{})
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatal(err)
		}
		for range 200 {
			d := randomInput(r, p)
			got, _, err := cbpf.Exec(prog, d)
			if err != nil {
				t.Fatal(err)
			}
			if want := p.Decide(d, profiles.PhaseServing).Ret(); got != want {
				t.Fatalf("nr=%d arch=%#x args=%#x: filter %#x, model %#x", d.Nr, d.Arch, d.Args, got, want)
			}
		}
	})
}

// dockerProfile is Docker's default seccomp profile (moby
// profiles/seccomp/default.json) for x86_64 without added capabilities:
// its unconditional allow list, socket(domain != AF_VSOCK) as two
// ranges, its personality values, clone without namespace flags and
// clone3 answered ENOSYS.
func dockerProfile(t testing.TB) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load("testdata/docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
