package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/sysrec/sysrec/agent/internal/ctrtest"
	"github.com/sysrec/sysrec/agent/merge"
	"github.com/sysrec/sysrec/agent/node"
	"github.com/sysrec/sysrec/agent/spo"
)

// TestMain runs the agent itself when a test starts this binary as one
// (SYSREC_TEST_AGENT_CHILD): a process that can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("SYSREC_TEST_AGENT_CHILD") != "" {
		os.Exit(childAgent())
	}
	os.Exit(m.Run())
}

// childAgent runs the agent against the API server and containerd the
// environment names, printing its events as JSON lines.
func childAgent() int {
	cfg := &rest.Config{Host: "https://" + os.Getenv("SYSREC_TEST_API_HOST"), BearerToken: os.Getenv("SYSREC_TEST_API_TOKEN"),
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	enc := json.NewEncoder(os.Stdout)
	events := make(chan node.Event, 64)
	go func() {
		for e := range events {
			enc.Encode(e)
		}
	}()
	err = node.Run(ctx, node.Options{Node: "node-1", Source: ctrtest.Source{C: &ctrtest.Containerd{Socket: os.Getenv("SYSREC_TEST_CONTAINERD")}},
		Recorder: node.LibraryRecorder{}, Client: dyn, StateDir: os.Getenv("SYSREC_TEST_STATE"), CgroupDriver: node.DriverCgroupfs,
		Observe: func(e node.Event) { events <- e }, Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// startChild starts the agent as a process of its own; kill ends it
// with SIGKILL.
func (c *cluster) startChild(t *testing.T) (events <-chan node.Event, kill func()) {
	t.Helper()
	events, proc := c.startChildProcess(t)
	return events, func() {
		proc.Kill()
		proc.Wait()
	}
}

// startChildProcess starts the agent as a process of its own, killed at
// the end of t unless the test waited for it.
func (c *cluster) startChildProcess(t *testing.T) (<-chan node.Event, *os.Process) {
	t.Helper()
	host, token := c.srv.Endpoint()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SYSREC_TEST_AGENT_CHILD=1", "SYSREC_TEST_API_HOST="+host, "SYSREC_TEST_API_TOKEN="+token,
		"SYSREC_TEST_CONTAINERD="+c.ctrd.Socket, "SYSREC_TEST_STATE="+c.state)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan node.Event, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e node.Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				ch <- e
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return ch, cmd.Process
}

// TestAgentKilledMidRecording: the agent is killed (SIGKILL) while a
// recorded container runs. The agent started again reports the
// recording as an incomplete partial (labelled so, with why), never as
// a complete one, and the merger leaves it out.
func TestAgentKilledMidRecording(t *testing.T) {
	c := startCluster(t, false)
	events, kill := c.startChild(t)
	p := pod("web-1")
	c.ctrd.RunSandbox(t, p)
	waitOn(t, events, node.EventRecording, p.UID)
	done := make(chan int, 1)
	go func() {
		status, _ := c.ctrd.Run(t, p, "app", nil, "/target", "block")
		done <- status
	}()
	waitOn(t, events, node.EventContainers, p.UID)
	kill()

	events2, _ := c.startChild(t)
	e := waitOn(t, events2, node.EventPublished, p.UID)[p.UID]
	ctx := context.Background()
	obj, err := c.dyn.Resource(spo.Resource).Get(ctx, e.Partial, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if obj.GetLabels()[spo.LabelIncomplete] != "true" || obj.GetAnnotations()[spo.AnnotationIncomplete] == "" {
		t.Errorf("the partial of the killed agent's recording: labels %v, annotations %v; want it incomplete", obj.GetLabels(), obj.GetAnnotations())
	}
	t.Logf("reported: %s", obj.GetAnnotations()[spo.AnnotationIncomplete])
	w := spo.Workload{Namespace: "shop", Recording: "web", Container: "app"}
	if res, err := merge.Merge(ctx, c.dyn, w); err != nil || res.Added != 0 {
		t.Errorf("merge: %+v, %v: the incomplete partial was merged", res, err)
	}
	if _, err := c.dyn.Resource(spo.Resource).Get(ctx, w.MergedName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a merged profile exists: %v", err)
	}
	c.ctrd.Kill(t, p, "app")
	<-done
	c.ctrd.StopSandbox(t, p)
}

// TestContainerStartedBeforeAgent: a container already running when the
// agent attaches to its pod has made calls no recording saw; its
// partial is published incomplete and never merged.
func TestContainerStartedBeforeAgent(t *testing.T) {
	c := startCluster(t, false)
	p := pod("web-1")
	c.ctrd.RunSandbox(t, p)
	wait := c.ctrd.Start(t, p, "app", "ready", "/target", "block")
	events, _ := c.startChild(t)
	waitOn(t, events, node.EventRecording, p.UID)
	c.ctrd.Kill(t, p, "app")
	wait()
	e := waitOn(t, events, node.EventPublished, p.UID)[p.UID]
	ctx := context.Background()
	obj, err := c.dyn.Resource(spo.Resource).Get(ctx, e.Partial, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if obj.GetLabels()[spo.LabelIncomplete] != "true" {
		t.Errorf("the partial of a container that ran before the recording is not labelled incomplete: %v", obj.GetLabels())
	}
	t.Logf("reported: %s", obj.GetAnnotations()[spo.AnnotationIncomplete])
	if res, err := merge.Merge(ctx, c.dyn, spo.Workload{Namespace: "shop", Recording: "web", Container: "app"}); err != nil || res.Added != 0 {
		t.Errorf("merge: %+v, %v: the incomplete partial was merged", res, err)
	}
	c.ctrd.StopSandbox(t, p)
}
