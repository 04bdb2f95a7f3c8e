package pipeline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/analyze"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// TestTargetCannotKeepCacheWrites: a target of record (as `sysrec record`
// runs it: analysed first, at the related level) and of check rewrites
// an analysis cache entry while it runs; the entry is gone when they
// return, so no later analysis trusts it. (analyze's
// TestCacheDistrustsTarget plants a working poisoned libc entry in every
// way; this is the wiring.)
func TestTargetCannotKeepCacheWrites(t *testing.T) {
	testenv.RequireRoot(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	argv := []string{"sh", "-c", `echo poisoned > "$VICTIM"`}
	ctx := context.Background()
	// victim analyses the target, as record does before it runs it, and
	// names an entry the analysis wrote for the target to rewrite.
	victim := func() (string, map[string]string) {
		t.Helper()
		reachable, err := Reachable(ctx, argv, 0)
		if err != nil {
			t.Fatal(err)
		}
		dir, err := analyze.DefaultCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		entries, err := filepath.Glob(filepath.Join(dir, "*", "*.gob"))
		if err != nil || len(entries) == 0 {
			t.Fatalf("the analysis cached nothing in %s (%v)", dir, err)
		}
		slices.Sort(entries)
		t.Setenv("VICTIM", entries[0])
		return entries[0], reachable
	}
	kept := func(what, path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err == nil && strings.HasPrefix(string(b), "poisoned") {
			t.Errorf("%s: the entry the target wrote is still in the cache: %s", what, path)
		} else if err != nil && !os.IsNotExist(err) {
			t.Error(err)
		}
	}

	entry, reachable := victim()
	var out bytes.Buffer
	res, err := Record(ctx, RecordOptions{
		Recorder: recorder.Options{Command: argv, Stdout: &out, Stderr: &out},
		Reduce:   reducer.Options{Level: reducer.LevelRelated, Reachable: reachable},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil || res.Recording.ExitStatus != 0 {
		t.Fatalf("record: %v\n%s", err, out.Bytes())
	}
	kept("record", entry)

	entry, _ = victim()
	checked, err := Check(ctx, res.Profile, argv, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}})
	if err != nil || checked.Exit.Status != 0 {
		t.Fatalf("check: %v\n%s", err, out.Bytes())
	}
	kept("check", entry)
}
