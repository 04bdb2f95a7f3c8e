package emit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestGolden writes the sample profile in every registered format; each
// format has its golden file testdata/sample.NAME.golden.
func TestGolden(t *testing.T) {
	p, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats() {
		t.Run(f.Name, func(t *testing.T) {
			out, err := f.Emit(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, "testdata/sample."+f.Name+".golden", out)
		})
	}
}

// TestFormatWrappers: the exported per-format functions write what the
// registry does.
func TestFormatWrappers(t *testing.T) {
	p, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	text, err := Text(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := C(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	oci, err := OCI(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spo, err := SPO(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	spoV1Beta1, err := SPOV1Beta1(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Raw(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"text": []byte(text), "c": []byte(c), "oci": oci, "spo": spo, "spo-v1beta1": spoV1Beta1, "bpf": raw} {
		f, err := LookupFormat(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Emit(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("format %s: registry and wrapper differ", name)
		}
	}
}

func TestFormats(t *testing.T) {
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
		if f.Summary == "" || f.Emit == nil {
			t.Errorf("format %s: no summary or no Emit", f.Name)
		}
		if f.Binary != (f.Name == "bpf") {
			t.Errorf("format %s: Binary %v", f.Name, f.Binary)
		}
	}
	if got, want := strings.Join(names, " "), "bpf json oci spo spo-v1beta1 text c landrun systemd"; got != want {
		t.Errorf("Formats() = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{"bpf", ""},
		{"c", ""},
		{"yaml", `unknown format "yaml" (known: bpf, json, oci, spo, spo-v1beta1, text, c, landrun, systemd)`},
		{"", `unknown format "" (known: bpf, json, oci, spo, spo-v1beta1, text, c, landrun, systemd)`},
		{"BPF", `unknown format "BPF" (known: bpf, json, oci, spo, spo-v1beta1, text, c, landrun, systemd)`},
	} {
		f, err := LookupFormat(tc.name)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("LookupFormat(%q): %v", tc.name, err)
		case tc.wantErr == "" && f.Name != tc.name:
			t.Errorf("LookupFormat(%q) = %s", tc.name, f.Name)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrUnknownFormat)):
			t.Errorf("LookupFormat(%q): error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestFormatErrors: every format refuses an invalid profile, and the
// OCI-based ones a profile OCI cannot express.
func TestFormatErrors(t *testing.T) {
	invalid := profile([]string{"x86_64"}, profiles.ActAllow, profiles.Syscall{Name: "opnat"})
	badArch := profile([]string{"x86_64"}, profiles.ActAllow, profiles.Syscall{Name: "read"})
	badArch.BadArchAction = profiles.ActLog
	for _, f := range Formats() {
		t.Run(f.Name, func(t *testing.T) {
			if _, err := f.Emit(invalid, Options{}); err == nil {
				t.Error("invalid profile accepted")
			}
			_, err := f.Emit(badArch, Options{})
			if oci := f.Name == "oci" || strings.HasPrefix(f.Name, "spo"); oci != (err != nil) {
				t.Errorf("bad_arch_action log: error %v", err)
			}
		})
	}
}

// TestOCIShape checks the OCI rules mean what the profile means: one
// entry per value of an "in" rule (OCI ORs entries, ANDs args), masked
// comparisons for masks and subsets.
func TestOCIShape(t *testing.T) {
	p, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := OCI(p, Options{})
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
