package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
)

func TestMain(m *testing.M) {
	helperMain() // `sysrec run` inside a script re-execs this binary
	testscript.Main(testtarget.WithCleanup(m), map[string]func(){
		"sysrec": main,
	})
}

// TestScript runs the CLI scripts in testdata/script. Scripts that need
// root say `[!root] skip`; with SYSREC_TEST_PRIVILEGED=1 not being root
// fails here instead.
func TestScript(t *testing.T) {
	if testenv.Privileged() {
		testenv.RequireRoot(t)
	}
	target, err := testtarget.Build()
	if err != nil {
		t.Fatal(err)
	}
	// A real sysrec binary, in a directory any user may enter, for
	// scripts that run it as another user.
	binDir, err := os.MkdirTemp("", "sysrec-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	sysrecBin := filepath.Join(binDir, "sysrec")
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", sysrecBin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build sysrec: %v\n%s", err, out)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("TARGET", target)
			e.Setenv("SYSREC_BIN", sysrecBin)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": waitFile,
			"audit":    audit,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}
