package pipeline

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestEmitChecks: what emit refuses before it reads the profile.
func TestEmitChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    EmitOptions
		want string // "" for accepted
	}{
		{"text", EmitOptions{Format: "text"}, ""},
		{"unknown format", EmitOptions{Format: "yaml"}, "yaml"},
		{"command for landrun", EmitOptions{Format: "landrun", Command: []string{"tar"}}, ""},
		{"command for another format", EmitOptions{Format: "oci", Command: []string{"tar"}}, "a command line is for --format landrun"},
		{"binary to a terminal", EmitOptions{Format: "bpf", StdoutTerminal: true}, "refusing to write binary bpf output to a terminal"},
		{"binary to a file", EmitOptions{Format: "bpf", Output: t.TempDir() + "/f.bpf", StdoutTerminal: true}, ""},
	} {
		_, err := tc.o.Check()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEmit(t *testing.T) {
	p, err := profiles.Parse([]byte(`{"version": 1, "arch": ["x86_64"], "default_action": "kill_process", "syscalls": [{"name": "read"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Emit(p, EmitOptions{Format: "json", Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "read") {
		t.Errorf("emitted %q", out.String())
	}
}
