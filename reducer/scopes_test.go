package reducer

import (
	"slices"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

func TestScopes(t *testing.T) {
	files := []profiles.FileAccess{{Path: "/etc/hostname", Access: 4, Exe: "cat"}}
	rec := func(mod func(*profiles.Recording)) *profiles.Recording {
		r := &profiles.Recording{Files: files}
		if mod != nil {
			mod(r)
		}
		return r
	}
	both := []profiles.Scope{profiles.ScopeAbstractUnixSocket, profiles.ScopeSignal}
	for _, tc := range []struct {
		name string
		recs []*profiles.Recording
		exe  string
		want []profiles.Scope
	}{
		{"nothing reached", []*profiles.Recording{rec(nil)}, "", both},
		{"files off says nothing", []*profiles.Recording{{}}, "", nil},
		{"one run without files", []*profiles.Recording{rec(nil), {}}, "", nil},
		{"signal outside", []*profiles.Recording{rec(func(r *profiles.Recording) {
			r.SignalsOutside = []profiles.ExeCount{{Exe: "sh", Count: 1}}
		})}, "", []profiles.Scope{profiles.ScopeAbstractUnixSocket}},
		{"signal outside by an exe left out", []*profiles.Recording{rec(func(r *profiles.Recording) {
			r.SignalsOutside = []profiles.ExeCount{{Exe: "sh", Count: 1}}
		})}, "cat", both},
		{"abstract socket", []*profiles.Recording{rec(nil), rec(func(r *profiles.Recording) {
			r.Unix = []profiles.UnixAccess{{Name: "@dbus", Abstract: true, Exe: "cat"}}
		})}, "", []profiles.Scope{profiles.ScopeSignal}},
		{"pathname socket", []*profiles.Recording{rec(func(r *profiles.Recording) {
			r.Unix = []profiles.UnixAccess{{Name: "/run/nscd/socket", Exe: "cat"}}
		})}, "", both},
	} {
		if got := Scopes(tc.recs, tc.exe); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Scopes = %v, want %v", tc.name, got, tc.want)
		}
	}
}
