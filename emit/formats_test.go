package emit

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// golden compares got with testdata/name (-update rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	p, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	text, err := Text(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.text.golden", []byte(text))
	c, err := C(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.c.golden", []byte(c))
	oci, err := OCI(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.oci.golden", oci)
	spo, err := SPO(p)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.spo.golden", spo)
	raw, err := Raw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sample.bpf.golden", raw)
}

// TestOCIShape checks the OCI rules mean what the profile means: one
// entry per value of an "in" rule (OCI ORs entries, ANDs args), masked
// comparisons for masks and subsets.
func TestOCIShape(t *testing.T) {
	p, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := OCI(p)
	if err != nil {
		t.Fatal(err)
	}
	var o ociSeccomp
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.DefaultAction != "SCMP_ACT_KILL_PROCESS" || len(o.Architectures) != 1 || o.Architectures[0] != "SCMP_ARCH_X86_64" {
		t.Errorf("header: %+v", o)
	}
	var socket, mprotect []ociSyscall
	for _, s := range o.Syscalls {
		switch s.Names[0] {
		case "socket":
			socket = append(socket, s)
		case "mprotect":
			mprotect = append(mprotect, s)
		}
	}
	if len(socket) != 2 {
		t.Fatalf("socket(domain in {1,2}) gave %d entries, want 2", len(socket))
	}
	// domain is an int: compared on its low word, as MASKED_EQ(0xffffffff).
	for i, s := range socket {
		if len(s.Args) != 2 || s.Args[0] != (ociArg{Index: 0, Value: 0xffffffff, ValueTwo: uint64(i + 1), Op: "SCMP_CMP_MASKED_EQ"}) ||
			s.Args[1] != (ociArg{Index: 1, Value: 4294440959, ValueTwo: 1, Op: "SCMP_CMP_MASKED_EQ"}) {
			t.Errorf("socket entry %d: %+v", i, s.Args)
		}
	}
	if len(mprotect) != 1 || mprotect[0].Args[0].Op != "SCMP_CMP_MASKED_EQ" || mprotect[0].Args[0].Value != ^uint64(3) || mprotect[0].Args[0].ValueTwo != 0 {
		t.Errorf("mprotect subset: %+v", mprotect)
	}
}

func BenchmarkCompileDocker(b *testing.B) {
	p := dockerProfile(b)
	for b.Loop() {
		if _, err := Raw(p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
