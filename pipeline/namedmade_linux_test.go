package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestNamedMadeHeldOut: touch recorded on a file that was there makes,
// under its profile, one the next command line names that is not there
// yet, in another directory, where Landlock alone refused it.
func TestNamedMadeHeldOut(t *testing.T) {
	testenv.RequireRoot(t)
	touch := testenv.RequireTool(t, "touch")
	madeHome(t)
	dir := t.TempDir()
	old := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(old, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := recordMade(t, touch, "-d", "2021-01-01", old)
	if !p.HasMade() {
		t.Fatalf("no made file:\n%s", profiles.Format(p))
	}
	other := filepath.Join(t.TempDir(), "sub")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	made := filepath.Join(other, "new.txt")
	if st, out := runMade(t, p, touch, "-d", "2022-02-02", made); st != 0 {
		t.Fatalf("status %d\n%s", st, out)
	}
	if fi, err := os.Stat(made); err != nil || fi.ModTime().Year() != 2022 {
		t.Errorf("made %v, %v", fi, err)
	}
	q := p.Clone()
	q.Filesystem.Made = nil
	if st, out := runMade(t, q, touch, filepath.Join(other, "new2.txt")); st == 0 || !strings.Contains(out, "Permission denied") {
		t.Errorf("without made files: status %d\n%s", st, out)
	}
}

// TestNamedMadeAttack: under a profile that makes the file its command
// line names, the target makes that file, and no other in its
// directory.
func TestNamedMadeAttack(t *testing.T) {
	testenv.RequireRoot(t)
	sh := testenv.RequireTool(t, "sh")
	madeHome(t)
	dir := t.TempDir()
	p := &profiles.Profile{Version: 2, Name: "named", Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{
			Rules: []profiles.PathRule{{Path: "/", Access: []string{"execute", "read_file", "read_dir"}}, {Path: "/dev/null", Access: []string{"write_file"}}},
			Made:  []profiles.MadeFile{{Path: "$OPERANDS[1]"}},
		}}
	named, other := filepath.Join(dir, "named"), filepath.Join(dir, "other")
	st, out := runMade(t, p, sh, "-c", `echo x > `+other+`; echo y > "$0"; ln -s /etc/passwd `+filepath.Join(dir, "link")+`; echo done`, named)
	if st != 0 || !strings.Contains(out, "done") {
		t.Fatalf("status %d\n%s", st, out)
	}
	if b, err := os.ReadFile(named); err != nil || string(b) != "y\n" {
		t.Errorf("named: %q %v", b, err)
	}
	for _, f := range []string{other, filepath.Join(dir, "link")} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s made: the supervisor made more than the named file\n%s", f, out)
		}
	}
}
