package merge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/sysrec/sysrec/agent/internal/apitest"
	"github.com/sysrec/sysrec/agent/spo"
	"github.com/sysrec/sysrec/profiles"
)

var web = spo.Workload{Namespace: "shop", Recording: "web", Container: "nginx"}

// recorded is the profile of one run that made these calls.
func recorded(calls ...string) *profiles.Profile {
	p := &profiles.Profile{Version: profiles.Version, Name: "x", Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess,
		Recorded: &profiles.Recorded{Recordings: 1}}
	for _, c := range append([]string{"read", "write", "exit_group"}, calls...) {
		p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: c, Count: 1, Runs: 1})
	}
	p.Normalize()
	return p
}

func publish(t *testing.T, dyn dynamic.Interface, w spo.Workload, pod string, p *profiles.Profile, incomplete string) string {
	t.Helper()
	part := spo.Partial{Workload: w, Node: "node-1", Pod: w.Namespace + "/" + pod, PodUID: "uid-" + pod, Profile: p, Incomplete: incomplete}
	obj, err := part.Object()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(spo.Resource).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("publish %s: %v", part.Name(), err)
	}
	return part.Name()
}

func merged(t *testing.T, dyn dynamic.Interface, w spo.Workload) (*unstructured.Unstructured, *profiles.Profile) {
	t.Helper()
	obj, err := dyn.Resource(spo.Resource).Get(context.Background(), w.MergedName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := spo.ProfileOf(obj)
	if err != nil || p == nil {
		t.Fatalf("merged profile: %v (%v)", p, err)
	}
	return obj, p
}

func allows(p *profiles.Profile, name string) bool {
	for _, s := range p.Syscalls {
		if s.Name == name && s.EffectiveAction().Allows() {
			return true
		}
	}
	return false
}

// TestMerge: three replicas' partials become one SeccompProfile in a
// real API server (its schema accepts it), with k-of-n and Good–Turing
// annotations; an incomplete partial and another workload's stay out; a
// fourth partial widens it with the diff in an annotation; and a
// partial republished narrower, or every partial deleted, never narrows
// what was published.
func TestMerge(t *testing.T) {
	dyn, err := dynamic.NewForConfig(apitest.Start(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := publish(t, dyn, web, "web-a", recorded("getpid"), "")
	publish(t, dyn, web, "web-b", recorded("getpid", "uname"), "")
	publish(t, dyn, web, "web-c", recorded("getpid"), "")
	publish(t, dyn, web, "web-d", recorded("ptrace"), "the agent restarted while recording")
	publish(t, dyn, spo.Workload{Namespace: "shop", Recording: "web", Container: "sidecar"}, "web-a", recorded("mount"), "")

	res, err := Merge(ctx, dyn, web)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 3 || res.Total != 3 || res.Version != 1 || res.Name != "shop.web-nginx" {
		t.Fatalf("first merge: %+v", res)
	}
	obj, p := merged(t, dyn, web)
	for _, c := range []struct {
		name string
		want bool
	}{{"read", true}, {"getpid", true}, {"uname", true}, {"ptrace", false}, {"mount", false}} {
		if allows(p, c.name) != c.want {
			t.Errorf("merged profile allows %s: %v, want %v", c.name, !c.want, c.want)
		}
	}
	ann := obj.GetAnnotations()
	var seen map[string]string
	if err := json.Unmarshal([]byte(ann[spo.AnnotationSeen]), &seen); err != nil {
		t.Fatal(err)
	}
	if seen["read"] != "3 of 3" || seen["uname"] != "1 of 3" {
		t.Errorf("seen annotation %v", seen)
	}
	var conf profiles.Confidence
	if err := json.Unmarshal([]byte(ann[spo.AnnotationConfidence]), &conf); err != nil {
		t.Fatal(err)
	}
	if conf.Runs != 3 || conf.SingleRun != 1 || conf.Unseen != 0.333 {
		t.Errorf("confidence annotation %+v", conf)
	}
	if obj.GetLabels()[spo.LabelPartial] != "" || obj.GetLabels()[spo.LabelRecording] != "web" {
		t.Errorf("merged labels %v", obj.GetLabels())
	}
	syscalls, _, _ := unstructured.NestedSlice(obj.Object, "spec", "syscalls")
	if !strings.Contains(fmt.Sprint(syscalls), "uname") {
		t.Errorf("spec syscalls %v lack uname", syscalls)
	}

	if res, err := Merge(ctx, dyn, web); err != nil || res.Added != 0 || res.Version != 1 {
		t.Fatalf("merge with nothing new: %+v, %v", res, err)
	}

	publish(t, dyn, web, "web-e", recorded("getpid", "setsid"), "")
	if res, err = Merge(ctx, dyn, web); err != nil || res.Added != 1 || res.Total != 4 || res.Version != 2 {
		t.Fatalf("fourth partial: %+v, %v", res, err)
	}
	obj, p = merged(t, dyn, web)
	if d := obj.GetAnnotations()[spo.AnnotationDiff]; !strings.Contains(d, "version 1 → 2") || !strings.Contains(d, "+ setsid") {
		t.Errorf("diff annotation %q", d)
	}
	if !allows(p, "setsid") || p.Recorded.Recordings != 4 {
		t.Errorf("after the fourth partial: setsid %v, recordings %d", allows(p, "setsid"), p.Recorded.Recordings)
	}

	// The attack: a replica's partial republished narrower, then every
	// partial deleted. The published profile keeps what it allowed.
	cur, err := dyn.Resource(spo.Resource).Get(ctx, a, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := (spo.Partial{Workload: web, Node: "node-1", Pod: "shop/web-a", PodUID: "uid-web-a", Profile: recorded()}).Object()
	if err != nil {
		t.Fatal(err)
	}
	narrow.SetResourceVersion(cur.GetResourceVersion())
	if _, err := dyn.Resource(spo.Resource).Update(ctx, narrow, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := dyn.Resource(spo.Resource).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: web.Selector()}); err != nil {
		t.Fatal(err)
	}
	if res, err := Merge(ctx, dyn, web); err != nil || res.Version != 2 {
		t.Fatalf("merge after the partials went: %+v, %v", res, err)
	}
	if _, p = merged(t, dyn, web); !allows(p, "getpid") || !allows(p, "uname") || !allows(p, "setsid") {
		t.Errorf("the published profile narrowed: %s", profiles.Format(p))
	}
}

// TestMergeConcurrent: four mergers (as four agents would) race while
// 24 partials are published; the merged profile holds each exactly once.
func TestMergeConcurrent(t *testing.T) {
	dyn, err := dynamic.NewForConfig(apitest.Start(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < n; j += 4 {
				publish(t, dyn, web, fmt.Sprintf("web-%d", j), recorded("getpid"), "")
				if _, err := Merge(ctx, dyn, web); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	res, err := Merge(ctx, dyn, web)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != n || res.Added != 0 {
		t.Fatalf("after the race: %+v, want all %d partials merged", res, n)
	}
	if _, p := merged(t, dyn, web); p.Recorded.Recordings != n {
		t.Errorf("merged recordings %d, want %d (a partial counted twice or lost)", p.Recorded.Recordings, n)
	}
}

// TestController: the controller merges partials as they are published,
// including those published before it started, and keeps merging across
// an API server restart.
func TestController(t *testing.T) {
	srv := apitest.Start(t)
	dyn, err := dynamic.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, dyn, web, "web-early", recorded("getpid"), "")
	results := make(chan Result, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c := &Controller{Client: dyn, Merged: func(r Result) { results <- r }, Errorf: t.Logf}
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	wait := func(total int) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case r := <-results:
				if r.Total == total {
					return
				}
			case <-deadline:
				t.Fatalf("no merge of %d partials within 30 s", total)
			}
		}
	}
	wait(1)
	publish(t, dyn, web, "web-late", recorded("uname"), "")
	wait(2)
	srv.Restart()
	publish(t, dyn, web, "web-after-restart", recorded("setsid"), "")
	wait(3)
	if _, p := merged(t, dyn, web); !allows(p, "setsid") {
		t.Errorf("the partial published after the restart is not merged")
	}
}

// TestMerge100: merging 100 partials at once (the number in docs/numbers.md).
func TestMerge100(t *testing.T) {
	dyn, err := dynamic.NewForConfig(apitest.Start(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		publish(t, dyn, web, fmt.Sprintf("web-%d", i), recorded("getpid", []string{"uname", "setsid", "getuid", "getgid"}[i%4]), "")
	}
	start := time.Now()
	res, err := Merge(context.Background(), dyn, web)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 100 {
		t.Fatalf("merged %d partials, want 100", res.Added)
	}
	t.Logf("merge of 100 partials: %v", took)
	if took > time.Second {
		t.Errorf("merge of 100 partials took %v, more than 1 s", took)
	}
}

// TestMergeNamespaces: a workload of another namespace with the same
// recording id and container name (the attack: claiming the profile
// shop's pods load) gets a profile of its own; shop's allows nothing of
// it.
func TestMergeNamespaces(t *testing.T) {
	dyn, err := dynamic.NewForConfig(apitest.Start(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	evil := spo.Workload{Namespace: "evil", Recording: web.Recording, Container: web.Container}
	publish(t, dyn, evil, "web-x", recorded("ptrace"), "")
	if _, err := Merge(ctx, dyn, evil); err != nil {
		t.Fatal(err)
	}
	publish(t, dyn, web, "web-a", recorded("getpid"), "")
	if _, err := Merge(ctx, dyn, web); err != nil {
		t.Fatal(err)
	}
	if _, p := merged(t, dyn, web); allows(p, "ptrace") || !allows(p, "getpid") {
		t.Errorf("shop's profile: ptrace %v, getpid %v", allows(p, "ptrace"), allows(p, "getpid"))
	}
	if _, p := merged(t, dyn, evil); !allows(p, "ptrace") {
		t.Error("evil's profile lost its own ptrace")
	}
}
