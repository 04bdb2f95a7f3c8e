package recorder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestWaitEmpty: waitEmpty returns, without an error, when the last
// process leaves, when the cgroup is removed at once after that (as
// container runtimes do: a read racing the removal fails with ENODEV,
// which once ended a container recording with an error), and when it is
// told to stop while the cgroup is still populated.
func TestWaitEmpty(t *testing.T) {
	testenv.RequireRoot(t)
	sleep := testenv.RequireTool(t, "sleep")
	start := func(t *testing.T) (*cgroup, *exec.Cmd) {
		cg := testCgroup(t)
		cmd := exec.Command(sleep, "1000")
		startIn(t, cg, cmd)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cg, cmd
	}
	wait := func(cg *cgroup, stop <-chan struct{}) <-chan error {
		done := make(chan error, 1)
		go func() { done <- cg.waitEmpty(stop) }()
		return done
	}
	result := func(t *testing.T, done <-chan error) {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("waitEmpty: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("waitEmpty still waiting 10 s later")
		}
	}
	t.Run("exit", func(t *testing.T) {
		cg, cmd := start(t)
		done := wait(cg, nil)
		cmd.Process.Kill()
		cmd.Wait()
		result(t, done)
		if pop, err := cg.populated(); err != nil || pop {
			t.Fatalf("populated after the exit: %v, %v", pop, err)
		}
	})
	t.Run("removed", func(t *testing.T) {
		for range 50 {
			cg, cmd := start(t)
			done := wait(cg, nil)
			if err := cg.kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if err := rmdirTree(cg.path); err != nil {
				t.Fatal(err)
			}
			result(t, done)
			if pop, err := cg.populated(); err != nil || pop {
				t.Fatalf("populated after removal: %v, %v", pop, err)
			}
		}
	})
	t.Run("stop", func(t *testing.T) {
		cg, _ := start(t)
		stop := make(chan struct{})
		done := wait(cg, stop)
		close(stop)
		result(t, done)
		if pop, err := cg.populated(); err != nil || !pop {
			t.Fatalf("populated while sleep runs: %v, %v", pop, err)
		}
	})
}

// TestLeaveCgroup: a recorded shell that moves itself out of the
// recorded cgroup, then runs ionice, must not end its recording
// silently: the move is counted as a loss charged to the shell.
func TestLeaveCgroup(t *testing.T) {
	testenv.RequireRoot(t)
	sh := testenv.RequireTool(t, "sh")
	testenv.RequireTool(t, "ionice")
	mount, err := CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	rec := record(t, Options{Command: []string{sh, "-c", `echo $$ > "$1/cgroup.procs" && ionice`, "sh", mount}})
	if rec.ExitStatus != 0 {
		t.Fatalf("shell exited %d", rec.ExitStatus)
	}
	if n := byName(rec, "")["ioprio_get"]; n != 0 {
		t.Fatalf("ioprio_get recorded %d times: the shell did not leave", n)
	}
	if want := []profiles.ExeCount{{Exe: "sh", Count: 1}}; !slices.Equal(rec.Left, want) {
		t.Errorf("left: %v, want %v", rec.Left, want)
	}
	if len(rec.Gaps()) == 0 {
		t.Error("the recording reports no gap")
	}
}

// TestNewCgroupStale: cgroups a killed sysrec left behind under the
// names this process would pick (its pid reused) do not stop a
// recording: an empty one is reused, a populated one never.
func TestNewCgroupStale(t *testing.T) {
	testenv.RequireRoot(t)
	mount, err := CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	next := cgroupSeq.Load() + 1
	var stale []string
	for i := uint64(0); i < 3; i++ {
		p := filepath.Join(mount, fmt.Sprintf("sysrec-%d-%d", os.Getpid(), next+i))
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, p)
	}
	t.Cleanup(func() {
		for _, p := range stale {
			os.Remove(p)
		}
	})
	// The first still holds a process (one a killed recording left
	// running): it is never taken over, so that process's calls do not
	// enter a new recording. The next, empty, is reused.
	sleep := exec.Command(testenv.RequireTool(t, "sleep"), "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	if err := os.WriteFile(filepath.Join(stale[0], "cgroup.procs"), []byte(fmt.Sprint(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	cg, err := newCgroup(mount)
	if err != nil {
		t.Fatalf("newCgroup beside stale cgroups: %v", err)
	}
	defer cg.remove()
	if cg.path != stale[1] {
		t.Errorf("cgroup %s, want the empty stale %s reused (not the populated %s)", cg.path, stale[1], stale[0])
	}
	// Back to the root cgroup, so the stale one can be removed.
	root := filepath.Join(mount, "cgroup.procs")
	if err := os.WriteFile(root, []byte(fmt.Sprint(sleep.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
}
