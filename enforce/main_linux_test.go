package enforce_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testtarget"
)

func TestMain(m *testing.M) {
	enforce.HelperMain() // Command re-execs this binary as the helper
	code := m.Run()
	if err := testtarget.Cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}
