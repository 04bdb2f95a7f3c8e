package node_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/agent/internal/ctrtest"
	"github.com/sysrec/sysrec/agent/node"
)

// TestAgent30Pods: one agent records 30 pods at once (30 replicas of a
// workload, each a real container) and publishes 30 complete partials;
// the agent's CPU time and peak memory for it are logged (docs/numbers.md).
func TestAgent30Pods(t *testing.T) {
	const n = 30
	c := startCluster(t, false)
	events, proc := c.startChildProcess(t)
	var pods []ctrtest.Pod
	var uids []string
	for i := range n {
		p := pod(fmt.Sprintf("web-%d", i))
		pods = append(pods, p)
		uids = append(uids, p.UID)
		c.ctrd.RunSandbox(t, p)
	}
	waitOn(t, events, node.EventRecording, uids...)
	start := time.Now()
	done := make(chan error, n)
	for _, p := range pods {
		go func() {
			status, out := c.ctrd.Run(t, p, "app", nil, "/target", "normal")
			if status != 0 {
				done <- fmt.Errorf("%s: exit %d: %s", p.Name, status, out)
				return
			}
			done <- nil
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	published := waitOn(t, events, node.EventPublished, uids...)
	took := time.Since(start)
	for uid, e := range published {
		if e.Incomplete != "" {
			t.Errorf("pod %s: incomplete: %s", uid, e.Incomplete)
		}
	}
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	state, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	ru := state.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	t.Logf("30 pods recorded at once: all published %v after their containers started; agent CPU %v (user %v, sys %v) over its life, peak RSS %d MiB",
		took.Round(time.Millisecond), cpu.Round(time.Millisecond), time.Duration(ru.Utime.Nano()).Round(time.Millisecond), time.Duration(ru.Stime.Nano()).Round(time.Millisecond), ru.Maxrss/1024)
	for _, p := range pods {
		c.ctrd.StopSandbox(t, p)
	}
}
