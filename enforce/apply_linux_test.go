package enforce_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

func TestMain(m *testing.M) {
	if os.Getenv("SYSREC_APPLY_CHILD") == "1" {
		os.Exit(applyChild())
	}
	os.Exit(m.Run())
}

// applyChild locks itself down after "initialisation" and then tries a
// call the profile denies, from several threads.
func applyChild() int {
	p := &profiles.Profile{Version: 1, Arch: []string{runtime.GOARCH}, DefaultAction: profiles.ActAllow,
		Syscalls: []profiles.Syscall{{Name: "getpriority", Action: profiles.ActEPERM}}}
	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		fmt.Println(err)
		return 2
	}
	if err := enforce.Apply(filter); err != nil {
		fmt.Println(err)
		return 2
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	denied := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, e := syscall.RawSyscall(syscall.SYS_GETPRIORITY, 0, 0, 0)
			mu.Lock()
			if e == unix.EPERM {
				denied++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	fmt.Printf("denied %d of 8\n", denied)
	return 0
}

// TestApply: a process locks itself down with Apply (TSYNC): every
// thread, including those started before, is filtered.
func TestApply(t *testing.T) {
	testenv.RequireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SYSREC_APPLY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "denied 8 of 8") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
