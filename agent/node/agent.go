package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/workqueue"

	"github.com/sysrec/sysrec/agent/spo"
	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
)

// Options configure the agent.
type Options struct {
	Node     string
	Source   PodSource
	Recorder Recorder
	Client   dynamic.Interface
	// StateDir keeps recordings in progress and partials not yet
	// published (a host directory, so both survive the agent's
	// restart).
	StateDir string
	// CgroupDriver is the kubelet's: DriverCgroupfs or DriverSystemd.
	CgroupDriver string
	// MaxDuration bounds each recording (0: until the containers exit).
	MaxDuration time.Duration
	// Observe, when set, is told what the agent does.
	Observe func(Event)
	// Logf reports errors that the agent retries.
	Logf func(format string, args ...any)
}

// Event is one thing the agent did.
type Event struct {
	Kind EventKind
	Pod  string // namespace/name
	UID  string
	// Partial is the object published (EventPublished).
	Partial string
	// Incomplete is why the recording is incomplete (EventRecorded).
	Incomplete string
}

// EventKind says what an Event is.
type EventKind string

const (
	EventRecording  EventKind = "recording"  // attached to the pod's cgroup
	EventContainers EventKind = "containers" // a recorded pod's containers changed
	EventRecorded   EventKind = "recorded"   // the recording ended and was saved
	EventPublished  EventKind = "published"  // a partial is in the API server
)

// Reasons a partial is incomplete.
const (
	reasonLost         = "the agent stopped while recording this pod: what it recorded is lost"
	reasonAgentStop    = "the agent stopped while recording this pod"
	reasonStartedEarly = "container(s) %s started before the recording attached"
)

// pending is a state file: the partials of one pod.
type pending struct {
	Partials []pendingPartial `json:"partials"`
}

type pendingPartial struct {
	Workload   spo.Workload    `json:"workload"`
	Node       string          `json:"node"`
	Pod        string          `json:"pod"`
	PodUID     string          `json:"pod_uid"`
	Incomplete string          `json:"incomplete,omitempty"`
	Profile    json.RawMessage `json:"profile,omitempty"`
}

type podState struct {
	pod        Pod
	recording  bool
	done       bool
	cancel     context.CancelCauseFunc
	incomplete []string
}

type agent struct {
	Options
	mount string
	queue workqueue.TypedRateLimitingInterface[string] // pod UIDs with a pending file
	wg    sync.WaitGroup

	mu   sync.Mutex
	pods map[string]*podState
}

// publishWorkers publish at once: pods that end together wait for no
// other's round trip.
const publishWorkers = 4

// errFinished stops a recording because its containers exited.
var errFinished = errors.New("the pod's containers exited")

// Run runs the agent until ctx is done: recordings in progress then end
// and are published as incomplete.
func Run(ctx context.Context, o Options) error {
	if o.Node == "" || o.Source == nil || o.Recorder == nil || o.Client == nil || o.StateDir == "" {
		return errors.New("run agent: Node, Source, Recorder, Client and StateDir are required")
	}
	if _, err := PodCgroup(o.CgroupDriver, Pod{UID: "x", QOS: "besteffort"}); err != nil {
		return fmt.Errorf("run agent: %w", err)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	mount, err := recorder.CgroupMount()
	if err != nil {
		return fmt.Errorf("run agent: %w", err)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return fmt.Errorf("run agent: %w", err)
	}
	a := &agent{Options: o, mount: mount, pods: map[string]*podState{},
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 10*time.Second))}
	if err := a.recover(); err != nil {
		return fmt.Errorf("run agent: %w", err)
	}
	var publishers sync.WaitGroup
	for range publishWorkers {
		publishers.Add(1)
		go func() {
			defer publishers.Done()
			a.publishLoop(ctx)
		}()
	}
	pods := make(chan Pod, 64)
	srcErr := make(chan error, 1)
	go func() { srcErr <- o.Source.Run(ctx, pods) }()
	var err2 error
loop:
	for {
		select {
		case p := <-pods:
			a.handle(ctx, p)
		case err2 = <-srcErr:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	// Recordings end with ctx; their partials are saved, and published
	// by the next start if not now.
	a.wg.Wait()
	a.queue.ShutDown()
	publishers.Wait()
	if err2 != nil && ctx.Err() == nil {
		return fmt.Errorf("watch pods: %w", err2)
	}
	return nil
}

// recover turns recordings a previous agent left unfinished into
// incomplete partials and queues every saved partial for publishing.
func (a *agent) recover() error {
	entries, err := os.ReadDir(a.StateDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "recording-") && strings.HasSuffix(name, ".json"):
			uid := strings.TrimSuffix(strings.TrimPrefix(name, "recording-"), ".json")
			var st pending
			if err := readJSON(filepath.Join(a.StateDir, name), &st); err != nil {
				return err
			}
			for i := range st.Partials {
				st.Partials[i].Incomplete = reasonLost
			}
			if err := a.savePending(uid, st); err != nil {
				return err
			}
			if err := os.Remove(filepath.Join(a.StateDir, name)); err != nil {
				return err
			}
			// The pod goes on, but its start is gone: not recorded again.
			a.pods[uid] = &podState{done: true}
		case strings.HasPrefix(name, "pending-") && strings.HasSuffix(name, ".json"):
			a.queue.Add(strings.TrimSuffix(strings.TrimPrefix(name, "pending-"), ".json"))
		}
	}
	return nil
}

func (a *agent) handle(ctx context.Context, p Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.pods[p.UID]
	if st == nil {
		if !p.OptedIn() || p.Deleted || p.finished() {
			return
		}
		st = &podState{}
		a.pods[p.UID] = st
	}
	if st.done {
		if p.Deleted {
			delete(a.pods, p.UID) // a pod's UID never comes back
		}
		return
	}
	if st.recording && !slices.Equal(containerNames(st.pod), containerNames(p)) {
		// The marker names the containers a lost recording reports.
		if err := a.saveState("recording-"+p.UID, a.partials(p, nil, nil)); err != nil {
			a.Logf("pod %s/%s: %v", p.Namespace, p.Name, err)
		}
		a.observe(Event{Kind: EventContainers, Pod: p.Namespace + "/" + p.Name, UID: p.UID})
	}
	st.pod = p
	if p.Deleted || p.finished() {
		if st.recording {
			st.cancel(errFinished)
		} else {
			st.done = true
		}
		return
	}
	if st.recording {
		return
	}
	cg, err := PodCgroup(a.CgroupDriver, p)
	if err != nil {
		a.Logf("pod %s/%s: %v", p.Namespace, p.Name, err)
		st.done = true
		return
	}
	// The sandbox keeps the pod's cgroup populated while its containers
	// come and go; before that there is nothing to attach to (the next
	// change of the pod tries again).
	if !populated(filepath.Join(a.mount, cg)) {
		return
	}
	st.recording = true
	rctx, cancel := context.WithCancelCause(ctx)
	st.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel(nil)
		a.record(rctx, st, cg)
	}()
}

// populated reports whether the cgroup at dir has processes.
func populated(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	return err == nil && strings.Contains(string(b), "populated 1")
}

func (a *agent) record(ctx context.Context, st *podState, cg string) {
	a.mu.Lock()
	p := st.pod
	a.mu.Unlock()
	podName := p.Namespace + "/" + p.Name
	// The marker says a recording of p runs: a restart that finds it
	// publishes the pod's partials as incomplete.
	if err := a.saveState("recording-"+p.UID, a.partials(p, nil, nil)); err != nil {
		a.Logf("pod %s: %v", podName, err)
		a.mu.Lock()
		st.done = true
		a.mu.Unlock()
		return
	}
	if a.MaxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.MaxDuration)
		defer cancel()
	}
	prof, gaps, err := a.Recorder.Record(ctx, Recording{
		Cgroup: cg,
		Name:   p.Recording(),
		Attached: func() {
			a.mu.Lock()
			if started := st.pod.started(); len(started) > 0 {
				st.incomplete = append(st.incomplete, fmt.Sprintf(reasonStartedEarly, strings.Join(started, ", ")))
			}
			a.mu.Unlock()
			a.observe(Event{Kind: EventRecording, Pod: podName, UID: p.UID})
		},
	})
	a.mu.Lock()
	p = st.pod
	reasons := slices.Clone(st.incomplete)
	st.done = true
	a.mu.Unlock()
	switch cause := context.Cause(ctx); {
	case err != nil:
		reasons = append(reasons, fmt.Sprintf("the recording failed: %v", err))
		prof = nil
	case errors.Is(cause, errFinished):
	case errors.Is(cause, context.DeadlineExceeded):
		// MaxDuration: a sample of a long-running container, complete
		// as far as it goes.
	case cause != nil:
		reasons = append(reasons, reasonAgentStop)
	}
	if len(gaps) > 0 {
		reasons = append(reasons, "the recording has gaps: "+strings.Join(gaps, ", "))
	}
	st2 := a.partials(p, prof, reasons)
	if len(st2.Partials) == 0 {
		// No container ran while it recorded: nothing to publish.
		a.Logf("pod %s: the recording ended before a container started (%s)", podName, strings.Join(reasons, "; "))
		os.Remove(filepath.Join(a.StateDir, "recording-"+p.UID+".json"))
		return
	}
	if err := a.savePending(p.UID, st2); err != nil {
		a.Logf("pod %s: %v", podName, err)
		return
	}
	if err := os.Remove(filepath.Join(a.StateDir, "recording-"+p.UID+".json")); err != nil {
		a.Logf("pod %s: %v", podName, err)
	}
	a.observe(Event{Kind: EventRecorded, Pod: podName, UID: p.UID, Incomplete: st2.Partials[0].Incomplete})
}

// partials are the partials of p's containers from one recording of
// its cgroup.
func (a *agent) partials(p Pod, prof *profiles.Profile, reasons []string) pending {
	var raw json.RawMessage
	if prof != nil {
		if b, err := prof.Marshal(); err == nil {
			raw = b
		} else {
			reasons = append(reasons, fmt.Sprintf("encode the profile: %v", err))
		}
	}
	names := containerNames(p)
	if len(names) > 1 {
		// One cgroup is recorded per pod: its containers' calls are one
		// profile, which is no one container's.
		reasons = append(reasons, "recorded together with the pod's other containers ("+strings.Join(names, ", ")+")")
	}
	var st pending
	for _, c := range names {
		st.Partials = append(st.Partials, pendingPartial{
			Workload:   spo.Workload{Namespace: p.Namespace, Recording: p.Recording(), Container: c},
			Node:       a.Node,
			Pod:        p.Namespace + "/" + p.Name,
			PodUID:     p.UID,
			Incomplete: strings.Join(reasons, "; "),
			Profile:    raw,
		})
	}
	return st
}

func containerNames(p Pod) []string {
	var names []string
	for _, c := range p.Containers {
		names = append(names, c.Name)
	}
	return names
}

func (a *agent) saveState(name string, st pending) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(a.StateDir, name+".json"), b, 0o600); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

func (a *agent) savePending(uid string, st pending) error {
	if err := a.saveState("pending-"+uid, st); err != nil {
		return err
	}
	a.queue.Add(uid)
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func (a *agent) observe(e Event) {
	if a.Observe != nil {
		a.Observe(e)
	}
}

// publishLoop publishes saved partials, retrying with backoff, until the
// queue shuts down.
func (a *agent) publishLoop(ctx context.Context) {
	for {
		uid, quit := a.queue.Get()
		if quit {
			return
		}
		if err := a.publish(ctx, uid); err != nil {
			a.Logf("publish the partials of pod %s: %v", uid, err)
			if ctx.Err() == nil {
				a.queue.AddRateLimited(uid)
			}
		} else {
			a.queue.Forget(uid)
		}
		a.queue.Done(uid)
	}
}

func (a *agent) publish(ctx context.Context, uid string) error {
	path := filepath.Join(a.StateDir, "pending-"+uid+".json")
	var st pending
	if err := readJSON(path, &st); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // published already
		}
		return err
	}
	res := a.Client.Resource(spo.Resource)
	for _, pp := range st.Partials {
		part := spo.Partial{Workload: pp.Workload, Node: pp.Node, Pod: pp.Pod, PodUID: pp.PodUID, Incomplete: pp.Incomplete}
		if len(pp.Profile) > 0 {
			prof, err := profiles.Parse(pp.Profile)
			if err != nil {
				return err
			}
			part.Profile = prof
		}
		obj, err := part.Object()
		if err != nil {
			return err
		}
		_, err = res.Create(ctx, obj, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// Published before a restart: the same pod and container.
			cur, gerr := res.Get(ctx, obj.GetName(), metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			obj.SetResourceVersion(cur.GetResourceVersion())
			_, err = res.Update(ctx, obj, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("publish %s: %w", obj.GetName(), err)
		}
		a.observe(Event{Kind: EventPublished, Pod: pp.Pod, UID: uid, Partial: obj.GetName()})
	}
	return os.Remove(path)
}
