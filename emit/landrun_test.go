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
