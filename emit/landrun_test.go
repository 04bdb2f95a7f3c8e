package emit

import (
	"strings"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestLandrunScopes: landrun scopes signals and abstract unix sockets
// together, by default; a profile with fewer scopes gets
// --unrestricted-scoped, and the header says what that leaves open.
func TestLandrunScopes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		scopes     []profiles.Scope
		unscoped   bool
		headerNote string
	}{
		{"both", []profiles.Scope{profiles.ScopeSignal, profiles.ScopeAbstractUnixSocket}, false, ""},
		{"signal only", []profiles.Scope{profiles.ScopeSignal}, true, "# the profile scopes signal only; landrun scopes all or none"},
		{"none", nil, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &profiles.Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow, Scopes: tc.scopes}
			b, err := Landrun(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out := string(b)
			if got := strings.Contains(out, "  --unrestricted-scoped \\\n"); got != tc.unscoped {
				t.Errorf("--unrestricted-scoped: %v, want %v\n%s", got, tc.unscoped, out)
			}
			if got := strings.Contains(out, "# the profile scopes"); got != (tc.headerNote != "") || !strings.Contains(out, tc.headerNote) {
				t.Errorf("header note: want %q\n%s", tc.headerNote, out)
			}
			if !strings.Contains(out, "--unrestricted-filesystem") || !strings.Contains(out, "--unrestricted-network") {
				t.Errorf("a profile without filesystem and network sections restricts them:\n%s", out)
			}
		})
	}
}

// TestLandrunTemplates: a profile whose rules follow the command line is
// instantiated from the command landrun will run, which ends the
// output; without one it is refused; what grants nothing is said.
func TestLandrunTemplates(t *testing.T) {
	p := &profiles.Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{Rules: []profiles.PathRule{
			{Path: "/usr", Access: []string{"execute", "read_file", "read_dir"}},
			{Path: "$ARGS", Access: []string{"read_file", "read_dir"}},
			{Path: "$ARG2/..", Access: []string{"write_file", "make_reg"}},
		}},
		Network: &profiles.Network{Rules: []profiles.PortRule{{Access: "bind_tcp", Port: 23456, From: "$ARG1"}}}}
	if _, err := Landrun(p, Options{}); err == nil || !strings.Contains(err.Error(), "give the command landrun will run after --") {
		t.Errorf("without a command line: %v", err)
	}
	b, err := Landrun(p, Options{Invocation: &profiles.Invocation{Args: []string{"srv", "23457", "out/log file"}, Dir: "/v"}})
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, want := range []string{"  --ro /v/23457 \\\n", "  --ro \"/v/out/log file\" \\\n", "  --rw /v/out \\\n", "  --bind-tcp 23457 \\\n", "  -- srv 23457 \"out/log file\"\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	b, err = Landrun(p, Options{Invocation: &profiles.Invocation{Args: []string{"srv", "x", "/log"}, Dir: "/v"}})
	if err != nil {
		t.Fatal(err)
	}
	out = string(b)
	if !strings.Contains(out, "# landlock rule $ARG2/.. (/): / is never granted from a template") || !strings.Contains(out, `# landlock port rule bind_tcp $ARG1: argument 1 ("x") is not a port`) || strings.Contains(out, "--rw / ") {
		t.Errorf("argument 2 in /:\n%s", out)
	}
}
