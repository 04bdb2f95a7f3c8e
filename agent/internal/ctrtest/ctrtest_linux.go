package ctrtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/agent/node"
	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
)

// Kubelet's container labels (pkg/kubelet/types/labels.go) and
// containerd CRI's kind label.
const (
	labelPodUID        = "io.kubernetes.pod.uid"
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelContainerName = "io.kubernetes.container.name"
	labelKind          = "io.cri-containerd.kind"
)

// Containerd is a running private containerd.
type Containerd struct {
	Socket string
	Rootfs string // busybox and /target, a static build of testdata/target
	t      testing.TB

	mu  sync.Mutex
	ids []string
}

// Start starts containerd (CRI plugin off: the tests play the kubelet)
// and stops it, its containers and their cgroups when t ends.
func Start(t testing.TB) *Containerd {
	t.Helper()
	testenv.RequireRoot(t)
	bin := testenv.RequireTool(t, "containerd")
	testenv.RequireTool(t, "ctr")
	testenv.RequireTool(t, "runc")
	dir, err := os.MkdirTemp("", "ctrd") // short: the socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	c := &Containerd{Socket: filepath.Join(dir, "sock"), t: t}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.Socket)), 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		c.removeAll()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		log.Close()
		os.RemoveAll(dir)
	})
	if err := testenv.WaitFile(c.Socket, 30*time.Second); err != nil {
		b, _ := os.ReadFile(log.Name())
		t.Fatalf("containerd did not start: %v\n%s", err, b)
	}
	if out, err := c.Ctr("version").CombinedOutput(); err != nil {
		t.Fatalf("ctr version: %v\n%s", err, out)
	}
	c.Rootfs = ocitest.Rootfs(t)
	buildTarget(t, filepath.Join(c.Rootfs, "target"))
	return c
}

// buildTarget builds testdata/target statically (no libc in the image).
func buildTarget(t testing.TB, out string) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-o", out, "./testdata/target")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build target: %v\n%s", err, b)
	}
}

// Ctr is ctr on c's socket, namespace k8s.io (the CRI's).
func (c *Containerd) Ctr(args ...string) *exec.Cmd {
	return exec.Command("ctr", append([]string{"-a", c.Socket, "-n", "k8s.io"}, args...)...)
}

// Pod is a pod the test plays the kubelet for.
type Pod struct {
	UID, Namespace, Name string
	Labels               map[string]string
}

// Cgroup is the pod's cgroupfs cgroup (besteffort), as runc takes it.
func (p Pod) Cgroup() string { return "/kubepods/besteffort/pod" + p.UID }

func (c *Containerd) track(id string) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
}

// RunSandbox starts p's sandbox (busybox sleep, as pause): it keeps the
// pod's cgroup populated and carries the pod's labels.
func (c *Containerd) RunSandbox(t testing.TB, p Pod) {
	t.Helper()
	id := "sandbox-" + p.UID
	args := []string{"run", "-d", "--rootfs", "--cgroup", p.Cgroup() + "/" + id,
		"--label", labelKind + "=sandbox"}
	args = append(args, p.labels()...)
	for k, v := range p.Labels {
		args = append(args, "--label", k+"="+v)
	}
	args = append(args, c.Rootfs, id, "/bin/sleep", "100000")
	c.track(id)
	if out, err := c.Ctr(args...).CombinedOutput(); err != nil {
		t.Fatalf("start sandbox of %s: %v\n%s", p.Name, err, out)
	}
}

// StopSandbox kills p's sandbox: the pod is gone.
func (c *Containerd) StopSandbox(t testing.TB, p Pod) {
	t.Helper()
	id := "sandbox-" + p.UID
	if out, err := c.Ctr("task", "delete", "-f", id).CombinedOutput(); err != nil {
		t.Fatalf("stop sandbox of %s: %v\n%s", p.Name, err, out)
	}
}

func (p Pod) labels() []string {
	return []string{"--label", labelPodUID + "=" + p.UID, "--label", labelPodName + "=" + p.Name, "--label", labelPodNamespace + "=" + p.Namespace}
}

// Run runs container name of p (under runc, in the pod's cgroup) until
// it exits and returns its exit status and output. Extra flags go to
// ctr run (--seccomp --seccomp-profile FILE).
func (c *Containerd) Run(t testing.TB, p Pod, name string, flags []string, command ...string) (int, string) {
	t.Helper()
	cmd := c.runCmd(p, name, flags, command)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("run %s of %s: %v\n%s", name, p.Name, err, out)
	return 0, ""
}

// Kill kills container name of p.
func (c *Containerd) Kill(t testing.TB, p Pod, name string) {
	t.Helper()
	if out, err := c.Ctr("task", "kill", "-s", "KILL", name+"-"+p.UID).CombinedOutput(); err != nil {
		t.Fatalf("kill %s of %s: %v\n%s", name, p.Name, err, out)
	}
}

// runCmd is `ctr run` of container name of p, in the pod's cgroup with
// the kubelet's labels.
func (c *Containerd) runCmd(p Pod, name string, flags, command []string) *exec.Cmd {
	id := name + "-" + p.UID
	args := append([]string{"run", "--rootfs", "--cgroup", p.Cgroup() + "/" + id,
		"--label", labelKind + "=container", "--label", labelContainerName + "=" + name}, p.labels()...)
	args = append(args, flags...)
	args = append(args, c.Rootfs, id)
	args = append(args, command...)
	c.track(id)
	return c.Ctr(args...)
}

// Start starts container name of p and returns once it printed the
// line ready; wait waits for its exit status.
func (c *Containerd) Start(t testing.TB, p Pod, name, ready string, command ...string) (wait func() int) {
	t.Helper()
	cmd := c.runCmd(p, name, nil, command)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == ready {
			go io.Copy(io.Discard, out)
			return func() int {
				cmd.Wait()
				return cmd.ProcessState.ExitCode()
			}
		}
	}
	cmd.Wait()
	t.Fatalf("%s of %s exited before it printed %q", name, p.Name, ready)
	return nil
}

// removeAll deletes every container and the pods' cgroups.
func (c *Containerd) removeAll() {
	c.mu.Lock()
	ids := c.ids
	c.mu.Unlock()
	for _, id := range ids {
		c.Ctr("task", "delete", "-f", id).Run()
		c.Ctr("container", "delete", id).Run()
	}
	// runc removes a container's own cgroup, not the pod's (nor the
	// kubepods levels, which go when no other test uses them).
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	for _, h := range hierarchies {
		pods, _ := filepath.Glob(filepath.Join(h, "kubepods", "besteffort", "podtest-*"))
		for _, p := range pods {
			subs, _ := filepath.Glob(filepath.Join(p, "*-test-*"))
			for _, sub := range subs {
				os.Remove(sub)
			}
			os.Remove(p)
		}
		os.Remove(filepath.Join(h, "kubepods", "besteffort"))
		os.Remove(filepath.Join(h, "kubepods"))
	}
}

// Source is node.PodSource on containerd's events.
type Source struct{ C *Containerd }

type info struct {
	Labels map[string]string `json:"Labels"`
}

// Run implements node.PodSource.
func (s Source) Run(ctx context.Context, out chan<- node.Pod) error {
	cmd := exec.CommandContext(ctx, "ctr", "-a", s.C.Socket, "events")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// A namespace made and seen on the stream says the subscription is
	// live: only then are the containers already there listed. ctr
	// subscribes some time after it starts, so a probe it missed is
	// followed by another.
	live := false
	for i := 0; !live; i++ {
		if i == 100 {
			return errors.New("ctr events: no probe namespace seen in 100 tries")
		}
		probe := fmt.Sprintf("sysrec-probe-%d-%d", os.Getpid(), i)
		if b, err := exec.Command("ctr", "-a", s.C.Socket, "namespaces", "create", probe).CombinedOutput(); err != nil {
			return fmt.Errorf("ctr namespaces create: %v: %s", err, b)
		}
		exec.Command("ctr", "-a", s.C.Socket, "namespaces", "remove", probe).Run()
		timeout := time.After(100 * time.Millisecond)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return errors.New("ctr events ended")
				}
				if strings.Contains(l, "/namespaces/create") && strings.Contains(l, "sysrec-probe-") {
					live = true
					break wait
				}
			case <-timeout:
				break wait
			case <-ctx.Done():
				return nil
			}
		}
	}
	pods := map[string]*node.Pod{}
	send := func(uid string) {
		p := *pods[uid]
		p.Containers = append([]node.Container(nil), p.Containers...)
		select {
		case out <- p:
		case <-ctx.Done():
		}
	}
	// started records that container id runs (or ran, exited).
	update := func(id string, state node.State) {
		b, err := s.C.Ctr("container", "info", id).Output()
		if err != nil {
			return // not a container of ours any more
		}
		var in info
		if json.Unmarshal(b, &in) != nil {
			return
		}
		l := in.Labels
		uid := l[labelPodUID]
		if uid == "" {
			return
		}
		p := pods[uid]
		if p == nil {
			p = &node.Pod{UID: uid, QOS: "besteffort", Labels: map[string]string{}}
			pods[uid] = p
		}
		p.Namespace, p.Name = l[labelPodNamespace], l[labelPodName]
		switch l[labelKind] {
		case "sandbox":
			for k, v := range l {
				if !strings.HasPrefix(k, "io.") {
					p.Labels[k] = v
				}
			}
			p.Deleted = state == node.Exited
		case "container":
			name := l[labelContainerName]
			found := false
			for i := range p.Containers {
				if p.Containers[i].Name == name {
					p.Containers[i].State, found = state, true
				}
			}
			if !found {
				p.Containers = append(p.Containers, node.Container{Name: name, State: state})
			}
		}
		send(uid)
	}
	if b, err := s.C.Ctr("task", "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(b)) {
			update(id, node.Running)
		}
	}
	for {
		var l string
		select {
		case l2, ok := <-lines:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("ctr events ended")
			}
			l = l2
		case <-ctx.Done():
			return nil
		}
		// "2026-12-03 12:27:51.915960699 +0000 UTC k8s.io /tasks/start {...}"
		f := strings.SplitN(l, " ", 7)
		if len(f) < 7 || f[4] != "k8s.io" {
			continue
		}
		var ev struct {
			ContainerID string `json:"container_id"`
		}
		if json.Unmarshal([]byte(f[6]), &ev) != nil || ev.ContainerID == "" {
			continue
		}
		switch f[5] {
		case "/tasks/start":
			update(ev.ContainerID, node.Running)
		case "/tasks/exit":
			update(ev.ContainerID, node.Exited)
		}
	}
}
