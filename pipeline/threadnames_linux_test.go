package pipeline

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// namesBin builds testdata/threadnames/names.c: a main thread naming its
// workers (pthread_setname_np writes /proc/self/task/TID/comm), and the
// attacks on the supervisor that opens those files.
func namesBin(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	gcc := testenv.RequireTool(t, "gcc")
	bin := filepath.Join(t.TempDir(), "names")
	if out, err := exec.Command(gcc, "-O2", "-pthread", "-o", bin, filepath.Join("..", "testdata", "threadnames", "names.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// TestThreadNamesHeldOut: a process naming its worker threads from its
// main thread, recorded with two workers, names four under its profile
// (other thread ids, which no rule could name), where Landlock alone
// refused it.
func TestThreadNamesHeldOut(t *testing.T) {
	bin := namesBin(t)
	madeHome(t)
	p := recordMade(t, bin, "2")
	if !p.HasThreadNames() {
		t.Fatalf("profile without thread names:\n%s", profiles.Format(p))
	}
	st, out := runMade(t, p, bin, "4")
	for i := range 4 {
		if want := fmt.Sprintf("%d worker-%d", i, i); st != 0 || !strings.Contains(out, want) {
			t.Errorf("status %d, no %q:\n%s", st, want, out)
		}
	}
	q := p.Clone()
	q.Filesystem.ThreadNames = false
	if st, out := runMade(t, q, bin, "4"); st == 0 || !strings.Contains(out, "Permission denied") {
		t.Errorf("without thread names: status %d\n%s", st, out)
	}
}

// TestThreadNamesAttacks: under a profile with thread names, the target
// asks for what the supervisor must not open for it: a thread's mem
// (a write around W^X), a thread of another process (its parent,
// sysrec), a path that leaves the pattern through "..", a pid it does not
// have, the same through its own pid; each is left to Landlock, which
// refuses it, while its own thread's comm opens.
func TestThreadNamesAttacks(t *testing.T) {
	bin := namesBin(t)
	p := &profiles.Profile{Version: 2, Name: "names", Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{
			Rules:       []profiles.PathRule{{Path: "/", Access: []string{"execute", "read_file", "read_dir"}}},
			ThreadNames: true,
		}}
	st, out := runMade(t, p, bin, "attack")
	if st != 0 {
		t.Fatalf("status %d\n%s", st, out)
	}
	for _, want := range []string{"mem refused", "parent refused", "dotdot refused", "foreign refused", "pid-mem refused", "pid-dotdot refused", "slash refused", "own opened"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
}
