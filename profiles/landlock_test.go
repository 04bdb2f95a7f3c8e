package profiles

import (
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

func TestScopesParse(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown", "{\"version\": 2, \"arch\": [\"x86_64\"], \"default_action\": \"allow\", \"syscalls\": [],\n\"scopes\": [\"signal\", \"ptrace\"]}",
			`line 2, column 22: field scopes[1]: unknown scope "ptrace" (want abstract_unix_socket, signal)`},
		{"not a string", `{"version": 2, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "scopes": [1]}`, "scope must be a string"},
		{"version 1", `{"version": 1, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "scopes": ["signal"]}`, "field version: filesystem, network and scopes sections need version 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Scopes: []Scope{"signals"}}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), `field scopes[0]: unknown scope "signals"`) {
		t.Errorf("Validate: %v, want the unknown scope named", err)
	}
}

// TestScopesRuleset: scopes alone give a ruleset that handles no right and
// only scopes; the canonical form lists each scope once in the kernel's
// bit order, and version 2 is written for them.
func TestScopesRuleset(t *testing.T) {
	p, err := Parse([]byte(`{"version": 2, "arch": ["x86_64"], "default_action": "allow", "syscalls": [], "scopes": ["signal", "abstract_unix_socket", "signal"]}`))
	if err != nil {
		t.Fatal(err)
	}
	rs := p.Landlock()
	want := linuxabi.LandlockRuleset{Scoped: linuxabi.LandlockScopeSignal | linuxabi.LandlockScopeAbstractUnixSocket}
	if rs == nil || rs.HandledFS != 0 || rs.HandledNet != 0 || rs.Scoped != want.Scoped {
		t.Errorf("Landlock() = %+v, want %+v", rs, want)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"version": 2`) || !strings.Contains(string(b), "\"scopes\": [\n    \"abstract_unix_socket\",\n    \"signal\"\n  ]") {
		t.Errorf("canonical form:\n%s", b)
	}
	p.Scopes = nil
	if p.Landlock() != nil {
		t.Error("a profile without scopes, files or ports has a ruleset")
	}
}

// TestScopesMergeDiff: a scope stays in a merge only if every input has
// it; a dropped scope is a sensitive widening.
func TestScopesMergeDiff(t *testing.T) {
	mk := func(scopes ...Scope) *Profile {
		return &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "kill"}}, Scopes: scopes}
	}
	for _, tc := range []struct {
		name string
		in   []*Profile
		want []Scope
	}{
		{"all have both", []*Profile{mk(ScopeSignal, ScopeAbstractUnixSocket), mk(ScopeAbstractUnixSocket, ScopeSignal)}, []Scope{ScopeAbstractUnixSocket, ScopeSignal}},
		{"one lacks signal", []*Profile{mk(ScopeSignal, ScopeAbstractUnixSocket), mk(ScopeAbstractUnixSocket)}, []Scope{ScopeAbstractUnixSocket}},
		{"one has none", []*Profile{mk(ScopeSignal), mk()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Merge(tc.in...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.Scopes, tc.want) {
				t.Errorf("merged scopes %v, want %v", m.Scopes, tc.want)
			}
		})
	}
	d := Diff(mk(ScopeSignal, ScopeAbstractUnixSocket), mk(ScopeAbstractUnixSocket))
	if !d.Widens || !d.WidensAt(policy.Sensitive) || !slices.Equal(d.Landlock, []string{"scope signal: no longer restricted"}) {
		t.Errorf("dropping the signal scope: %+v, want a sensitive widening naming it", d)
	}
	if d := Diff(mk(), mk(ScopeSignal)); d.Widens {
		t.Errorf("adding a scope widens: %+v", d)
	}
	if s := Format(mk(ScopeSignal)); !strings.Contains(s, "scopes (Landlock): signal") {
		t.Errorf("show does not list the scope:\n%s", s)
	}
}

// TestDescribeFileAccess: a right Landlock checks on the directory
// holding the object is named on that directory.
func TestDescribeFileAccess(t *testing.T) {
	for _, tc := range []struct {
		access uint64
		want   []string
	}{
		{linuxabi.LandlockReadFile, []string{"read_file on /srv/out.txt"}},
		{linuxabi.LandlockMakeReg, []string{"make_reg on /srv (for out.txt)"}},
		{linuxabi.LandlockReadFile | linuxabi.LandlockRemoveFile, []string{"read_file on /srv/out.txt", "remove_file on /srv (for out.txt)"}},
	} {
		got := DescribeFileAccess(FileAccess{Path: "/srv/out.txt", Access: tc.access})
		if !slices.Equal(got, tc.want) {
			t.Errorf("access %#x: %q, want %q", tc.access, got, tc.want)
		}
	}
}
