package recorder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
)

// TestFilesPathRace: a program that flips one byte of a path buffer
// while another of its threads calls mkdir on it must not get make_dir
// on a directory where the kernel made nothing: DIR/b/x exists, so every
// mkdir that succeeded was made in DIR/a. Reading the path at the call's
// entry and exit and requiring they agree is not enough: the flipper
// wins that too (8 of 20000 here); what the kernel changed decides.
// In a mount namespace of its own the target's strings are not resolved
// in sysrec's file tree: the kernel's names of what the call changed
// decide alone.
func TestFilesPathRace(t *testing.T) {
	target := rootTarget(t)
	for _, tc := range []struct {
		name string
		wrap []string
	}{
		{"same root", nil},
		{"own mount namespace", []string{testenv.RequireTool(t, "unshare"), "-m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := realPath(t, t.TempDir())
			for _, d := range []string{"a", "b", "b/x"} {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			rec := recordFiles(t, 0, append(tc.wrap, target, "mkdir-race", dir, "60000")...)
			for _, f := range rec.Files {
				if strings.HasPrefix(f.Path, filepath.Join(dir, "b")) {
					t.Errorf("%s recorded (%v ×%d): the kernel made nothing there", f.Path, linuxabi.LandlockFSNames(f.Access), f.Count)
				}
			}
			wantFile(t, rec, filepath.Join(dir, "a", "x"), "make_dir", "remove_dir")
			t.Logf("%d accesses not learned: the path changed during the call", rec.FilesRaced)
		})
	}
}
