package pipeline

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestResolve: what a path resolves to, and every directory its
// resolution looked a name up in, wherever the links lead (a link
// reached through another, a relative one climbing out of it).
func TestResolve(t *testing.T) {
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"w/out", "secret"} {
		if err := os.MkdirAll(filepath.Join(d, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(d, "secret/key"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"w/o": "out", "w/out/planted": "../../secret/key", "abs": filepath.Join(d, "w/o")} {
		if err := os.Symlink(to, filepath.Join(d, link)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path, want string
		looked     []string
	}{
		{"w/o/planted", "secret/key", []string{"", "w", "w/out", "secret"}},
		{"abs/planted", "secret/key", []string{"", "w", "w/out", "secret"}},
		{"w/out", "w/out", []string{"", "w"}},
	} {
		got, looked, err := resolve(filepath.Join(d, tc.path))
		if err != nil {
			t.Fatalf("resolve %s: %v", tc.path, err)
		}
		if got != filepath.Join(d, tc.want) {
			t.Errorf("resolve %s = %s, want %s", tc.path, got, tc.want)
		}
		// The directories above d are looked in too; those under it are
		// the test's.
		var under []string
		for _, l := range looked {
			if l == d {
				under = append(under, "")
			} else if r, err := filepath.Rel(d, l); err == nil && filepath.IsLocal(r) {
				under = append(under, r)
			}
		}
		if !slices.Equal(under, tc.looked) {
			t.Errorf("resolve %s looked in %q, want %q", tc.path, under, tc.looked)
		}
	}
	if _, _, err := resolve(filepath.Join(d, "w/missing")); err == nil {
		t.Error("resolve of a missing path: no error")
	}
}
