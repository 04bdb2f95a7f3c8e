package enforce_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
)

// TestApply: a process locks itself down with Apply (TSYNC): every
// thread, including those started before, is filtered. The test target
// does it ("target apply"), so no test-only re-exec protocol is needed.
func TestApply(t *testing.T) {
	testenv.RequireRoot(t)
	out, err := exec.Command(testtarget.Path(t), "apply").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "denied 8 of 8") {
		t.Fatalf("target apply: %v\n%s", err, out)
	}
}
