package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// TestCorpusSmoke runs a small part of the generalisation corpus
// (testdata/corpus, `make corpus` for all of it): three real programs,
// each recorded on one input at the default level with files and ports
// on, then run under `sysrec run` on its held-out inputs (other paths,
// an error path). The syscall part of each profile must meet the corpus
// targets (held-out ≥ 95%, allowed ≤ 70 and ≤ 2× observed, nothing
// sensitive or critical allowed that no run made, no rule on a harmless
// argument), no write rule may cover /, /etc, $HOME or /tmp, and the
// reaching runs (sort told by a symlink in its input to read a secret)
// must be refused by the Landlock rules.
func TestCorpusSmoke(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tool := range []string{"/usr/bin/sort", "/usr/bin/tar", "/usr/bin/sqlite3"} {
		if _, err := os.Stat(tool); err != nil {
			testenv.RequireTool(t, filepath.Base(tool)) // names the missing package
		}
	}
	bin := filepath.Join(t.TempDir(), "sysrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build sysrec: %v\n%s", err, out)
	}
	cmd := exec.Command("go", "run", "./testdata/corpus", "-sysrec", bin, "-programs", "sort,tar,sqlite3",
		"-levels", "related", "-reruns", "0", "-fs-off=false", "-check", "related", "-check-part", "syscalls", "-rule-share", "0")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("corpus: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
