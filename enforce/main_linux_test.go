package enforce_test

import (
	"testing"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testtarget"
)

func TestMain(m *testing.M) {
	enforce.HelperMain() // Command re-execs this binary as the helper
	testtarget.Main(m)
}
