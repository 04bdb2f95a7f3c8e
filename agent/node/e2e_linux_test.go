package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/sysrec/sysrec/agent/internal/apitest"
	"github.com/sysrec/sysrec/agent/internal/ctrtest"
	"github.com/sysrec/sysrec/agent/merge"
	"github.com/sysrec/sysrec/agent/node"
	"github.com/sysrec/sysrec/agent/spo"
)

// cluster is a real API server, a real containerd, the merge controller
// and the agent, all for one test.
type cluster struct {
	srv    *apitest.Server
	dyn    dynamic.Interface
	ctrd   *ctrtest.Containerd
	events chan node.Event
	merged chan merge.Result
	state  string
	stop   func() // stops the agent, waits for it
}

// startCluster starts the cluster, with the agent in this process when
// inProcess is set.
func startCluster(t *testing.T, inProcess bool) *cluster {
	t.Helper()
	c := &cluster{ctrd: ctrtest.Start(t), srv: apitest.Start(t), events: make(chan node.Event, 256), merged: make(chan merge.Result, 64), state: t.TempDir()}
	var err error
	if c.dyn, err = dynamic.NewForConfig(c.srv.Config()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&merge.Controller{Client: c.dyn, Merged: func(r merge.Result) { c.merged <- r }, Errorf: t.Logf}).Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	if inProcess {
		c.startAgent(t)
	}
	return c
}

func (c *cluster) startAgent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- node.Run(ctx, node.Options{Node: "node-1", Source: ctrtest.Source{C: c.ctrd}, Recorder: node.LibraryRecorder{},
			Client: c.dyn, StateDir: c.state, CgroupDriver: node.DriverCgroupfs,
			Observe: func(e node.Event) { c.events <- e }, Logf: t.Logf})
	}()
	stopped := false
	c.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	t.Cleanup(c.stop)
}

// wait returns the agent's next events of kind, one per pod UID in uids.
func (c *cluster) wait(t *testing.T, kind node.EventKind, uids ...string) map[string]node.Event {
	t.Helper()
	return waitOn(t, c.events, kind, uids...)
}

// waitOn returns the next events of kind on events, one per pod UID.
func waitOn(t *testing.T, events <-chan node.Event, kind node.EventKind, uids ...string) map[string]node.Event {
	t.Helper()
	got := map[string]node.Event{}
	deadline := time.After(60 * time.Second)
	for len(got) < len(uids) {
		select {
		case e := <-events:
			if e.Kind == kind && contains(uids, e.UID) {
				got[e.UID] = e
			}
		case <-deadline:
			t.Fatalf("no %s event for all of %v within 60 s (got %v)", kind, uids, got)
		}
	}
	return got
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func pod(name string) ctrtest.Pod {
	return ctrtest.Pod{UID: fmt.Sprintf("test-%d-%s", time.Now().UnixNano(), name), Namespace: "shop", Name: name,
		Labels: map[string]string{node.LabelRecord: "true", node.LabelRecording: "web"}}
}

// TestAgentEndToEnd: three replicas of a workload, each on another
// input, run as real containers under containerd and runc in kubelet
// cgroups and are recorded at once by the agent; their three partials
// reach the API server and are merged into one SeccompProfile, which
// runc then loads for a fourth replica: it runs, and a stray call in
// it is killed.
func TestAgentEndToEnd(t *testing.T) {
	c := startCluster(t, true)
	ctx := context.Background()
	w, err := c.dyn.Resource(spo.Resource).Watch(ctx, metav1.ListOptions{LabelSelector: spo.LabelPartial + "=true"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	replicas := []struct {
		pod     ctrtest.Pod
		command []string
	}{
		{pod("web-1"), []string{"/target", "syscall", "102"}}, // getuid
		{pod("web-2"), []string{"/target", "syscall", "104"}}, // getgid
		{pod("web-3"), []string{"/target", "normal"}},
	}
	var uids []string
	for _, r := range replicas {
		c.ctrd.RunSandbox(t, r.pod)
		uids = append(uids, r.pod.UID)
	}
	c.wait(t, node.EventRecording, uids...)
	exited := make(chan struct {
		uid string
		at  time.Time
	}, len(replicas))
	for _, r := range replicas {
		go func() {
			status, out := c.ctrd.Run(t, r.pod, "app", nil, r.command...)
			if status != 0 {
				t.Errorf("replica %s: exit %d: %s", r.pod.Name, status, out)
			}
			exited <- struct {
				uid string
				at  time.Time
			}{r.pod.UID, time.Now()}
		}()
	}
	exitAt := map[string]time.Time{}
	for range replicas {
		e := <-exited
		exitAt[e.uid] = e.at
	}
	// Exit → partial in the API server, seen by a watch.
	deadline := time.After(60 * time.Second)
	for seen := 0; seen < len(replicas); {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Added {
				continue
			}
			obj := ev.Object.(*unstructured.Unstructured)
			uid := obj.GetAnnotations()[spo.AnnotationPodUID]
			if at, ok := exitAt[uid]; ok {
				seen++
				latency := time.Since(at)
				t.Logf("%s: exit → partial %s in the api server: %v", obj.GetAnnotations()[spo.AnnotationPod], obj.GetName(), latency)
				if latency > 2*time.Second {
					t.Errorf("exit → partial took %v, more than 2 s", latency)
				}
				if r := obj.GetAnnotations()[spo.AnnotationIncomplete]; r != "" {
					t.Errorf("partial %s incomplete: %s", obj.GetName(), r)
				}
			}
		case <-deadline:
			t.Fatal("the three partials did not reach the api server within 60 s")
		}
	}
	var res merge.Result
	for res.Total < 3 {
		select {
		case res = <-c.merged:
		case <-time.After(60 * time.Second):
			t.Fatalf("no merge of the three partials within 60 s (last %+v)", res)
		}
	}
	obj, err := c.dyn.Resource(spo.Resource).Get(ctx, "shop.web-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var seen map[string]string
	if err := json.Unmarshal([]byte(obj.GetAnnotations()[spo.AnnotationSeen]), &seen); err != nil {
		t.Fatal(err)
	}
	if seen["getuid"] != "1 of 3" || seen["getgid"] != "1 of 3" || seen["execve"] != "3 of 3" {
		t.Errorf("seen annotation: getuid %q getgid %q execve %q", seen["getuid"], seen["getgid"], seen["execve"])
	}
	for _, runtimeCall := range []string{"mount", "pivot_root", "umount2"} {
		if _, ok := seen[runtimeCall]; ok {
			t.Errorf("runc init's %s is in the profile", runtimeCall)
		}
	}

	// What SPO writes to /var/lib/kubelet/seccomp/operator/shop.web-app.json
	// for the kubelet: the spec, as OCI seccomp JSON.
	spec, _, _ := unstructured.NestedMap(obj.Object, "spec")
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "shop.web-app.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fourth := ctrtest.Pod{UID: fmt.Sprintf("test-%d-web-4", time.Now().UnixNano()), Namespace: "shop", Name: "web-4"}
	seccomp := []string{"--seccomp", "--seccomp-profile", file}
	for _, tc := range []struct {
		name    string
		command []string
		status  int
	}{
		{"normal", []string{"/target", "normal"}, 0},
		{"getuid", []string{"/target", "syscall", "102"}, 0},
		{"stray", []string{"/target", "stray"}, 159}, // getpriority: SIGSYS
	} {
		status, out := c.ctrd.Run(t, fourth, tc.name, seccomp, tc.command...)
		if status != tc.status {
			t.Errorf("fourth replica, %s: exit %d, want %d: %s", tc.name, status, tc.status, out)
		}
		if tc.status == 0 && !strings.Contains(out, "hello from") && !strings.Contains(out, "errno=0") {
			t.Errorf("fourth replica, %s: output %q", tc.name, out)
		}
	}
	for _, r := range replicas {
		c.ctrd.StopSandbox(t, r.pod)
	}
}

// TestAgentSurvivesAPIServerRestart: the API server goes away while a
// replica runs and exits; its partial waits in the agent's state
// directory and reaches the new API server once it is up, and the merge
// controller's watch, re-established, merges it.
func TestAgentSurvivesAPIServerRestart(t *testing.T) {
	c := startCluster(t, true)
	p := pod("web-1")
	c.ctrd.RunSandbox(t, p)
	c.wait(t, node.EventRecording, p.UID)
	c.srv.Stop()
	if status, out := c.ctrd.Run(t, p, "app", nil, "/target", "normal"); status != 0 {
		t.Fatalf("replica: exit %d: %s", status, out)
	}
	c.wait(t, node.EventRecorded, p.UID)
	pending, err := filepath.Glob(filepath.Join(c.state, "pending-*.json"))
	if err != nil || len(pending) != 1 {
		t.Fatalf("while the api server is down, pending partials %v (%v), want one", pending, err)
	}
	c.srv.Restart()
	e := c.wait(t, node.EventPublished, p.UID)[p.UID]
	obj, err := c.dyn.Resource(spo.Resource).Get(context.Background(), e.Partial, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if r := obj.GetAnnotations()[spo.AnnotationIncomplete]; r != "" {
		t.Errorf("partial incomplete: %s", r)
	}
	select {
	case res := <-c.merged:
		if res.Total != 1 {
			t.Errorf("merge after the restart: %+v", res)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the partial published after the restart was not merged within 60 s")
	}
	if left, _ := filepath.Glob(filepath.Join(c.state, "*.json")); len(left) != 0 {
		t.Errorf("state left after publishing: %v", left)
	}
	c.ctrd.StopSandbox(t, p)
}
