package emit

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/internal/testenv"
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

// TestLibseccomp compiles Docker's allow list with libseccomp and with
// sysrec: both must decide alike for every syscall number, and the log
// shows their sizes and path lengths side by side.
func TestLibseccomp(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import seccomp").Run(); err != nil {
		testenv.RequireTool(t, "python3-seccomp (apt-get install python3-seccomp)")
	}
	p := dockerProfile(t)
	// Argument-free entries only: the part both compile the same way.
	var plain []profiles.Syscall
	for _, s := range p.Syscalls {
		if len(s.Args) == 0 && s.Action.IsZero() {
			plain = append(plain, s)
		}
	}
	p.Syscalls = plain
	dir := t.TempDir()
	in, out := filepath.Join(dir, "p.json"), filepath.Join(dir, "p.bpf")
	if err := p.Save(in); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(python, "-c", libseccompScript, in, out).CombinedOutput(); err != nil {
		t.Fatalf("libseccomp: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	theirs := make([]bpf.RawInstruction, len(b)/8)
	for i := range theirs {
		theirs[i] = bpf.RawInstruction{Op: binary.LittleEndian.Uint16(b[8*i:]), Jt: b[8*i+2], Jf: b[8*i+3], K: binary.LittleEndian.Uint32(b[8*i+4:])}
	}
	ours, err := compileRaw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats := func(prog []bpf.RawInstruction) (mean float64, maxPath int) {
		sum := 0
		for n := 0; n <= x86.MaxNumber(); n++ {
			_, steps, err := run(prog, profiles.Data{Nr: int32(n), Arch: x86.Audit})
			if err != nil {
				t.Fatal(err)
			}
			sum += steps
			maxPath = max(maxPath, steps)
		}
		return float64(sum) / float64(x86.MaxNumber()+1), maxPath
	}
	for n := 0; n <= x86.MaxNumber(); n++ {
		d := profiles.Data{Nr: int32(n), Arch: x86.Audit}
		a, _, _ := run(ours, d)
		b, _, _ := run(theirs, d)
		if a != b {
			t.Errorf("nr %d (%s): sysrec %#x, libseccomp %#x", n, x86.SyscallName(n), a, b)
		}
	}
	om, ox := stats(ours)
	lm, lx := stats(theirs)
	t.Logf("Docker allow list (%d syscalls, x86_64): sysrec %d instructions, path mean %.1f max %d; libseccomp %d instructions, path mean %.1f max %d",
		len(plain), len(ours), om, ox, len(theirs), lm, lx)
}
