package enforce

import (
	"os"
	"strconv"
	"testing"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestNotifySignalled: a call the supervisor holds is not interrupted
// by a signal the caller handles (the Go runtime's preemption signal, a
// program's timer), so it is notified once: a target whose every
// getppid is notified, under a SIGALRM every 20 µs, makes exactly as
// many notifications as calls. Waiting interruptibly, 21-34 of 5000
// were notified again (the call restarted after the supervisor read
// it).
func TestNotifySignalled(t *testing.T) {
	testenv.RequireRoot(t)
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	p := &profiles.Profile{Version: 3, Arch: []string{arch.Name}, DefaultAction: profiles.Action{Kind: profiles.UserNotif}}
	for _, name := range arch.Syscalls() {
		if name != "getppid" {
			p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: name})
		}
	}
	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const calls = 5000
	cmd, err := NotifyCommand(filter, []string{testtarget.Path(t), "alarm-loop", strconv.Itoa(calls)}, NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	ex, err := cmd.Run(t.Context())
	if err != nil || ex.Status != 0 {
		t.Fatalf("run: %v, %+v", err, ex)
	}
	var got uint64
	samples, _ := cmd.Violations()
	for _, s := range samples {
		if s.Name != "getppid" {
			t.Errorf("notified %s", s.Name)
		}
		got += s.Count
	}
	if got != calls {
		t.Errorf("%d notifications of %d getppid calls, want one each", got, calls)
	}
}
