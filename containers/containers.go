// Package containers finds a running container's processes and what it
// runs, so that sysrec can record it: Docker through its Engine API on
// the daemon's socket ($DOCKER_HOST), Podman and containerd through
// their command-line tools (podman inspect, ctr, with their own
// environment: CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE), and, when no engine
// answers, the cgroup path conventions of the engines and runtimes
// (docker-ID.scope, /docker/ID, libpod-ID.scope, cri-containerd-ID.scope,
// crio-ID.scope).
//
// It does not record (see recorder) and it starts nothing.
package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Engines are the engines Find asks, in the order it asks them.
var Engines = []string{"docker", "podman", "containerd"}

// Container is a running container.
type Container struct {
	Engine string // docker, podman, containerd, or cgroup (found by path only)
	ID     string
	Name   string
	Image  string
	// Command is what the container runs (entrypoint and arguments),
	// when the engine says.
	Command []string
	// PID is the container's first process, as the host sees it.
	PID int
}

// Options say which engine to ask and how to reach it.
type Options struct {
	// Engine is docker, podman or containerd; empty asks each in turn,
	// then the cgroup tree.
	Engine string
	// DockerHost is the Docker daemon's address (unix://PATH); empty
	// means $DOCKER_HOST, then unix:///var/run/docker.sock.
	DockerHost string
	// CgroupRoot is where the cgroup2 tree is mounted, for the path
	// conventions; empty skips them.
	CgroupRoot string
}

// ErrNotFound is returned (wrapped) when no engine knows the container.
var ErrNotFound = errors.New("no such container")

// ErrNotRunning is returned (wrapped) for a container that exists but
// has no process.
var ErrNotRunning = errors.New("container is not running")

// Find returns the running container ref (a name or an ID, or a unique
// prefix of an ID where the engine accepts one).
func Find(ctx context.Context, ref string, o Options) (*Container, error) {
	if ref == "" {
		return nil, errors.New("find container: no name or ID given")
	}
	engines := Engines
	if o.Engine != "" {
		if o.Engine != "docker" && o.Engine != "podman" && o.Engine != "containerd" {
			return nil, fmt.Errorf("find container: unknown engine %q (want docker, podman or containerd)", o.Engine)
		}
		engines = []string{o.Engine}
	}
	var why []string
	for _, e := range engines {
		var c *Container
		var err error
		switch e {
		case "docker":
			c, err = docker(ctx, ref, o.DockerHost)
		case "podman":
			c, err = podman(ctx, ref)
		case "containerd":
			c, err = containerd(ctx, ref)
		}
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrNotRunning) {
			return nil, fmt.Errorf("find container %s: %w", ref, err)
		}
		why = append(why, fmt.Sprintf("%s: %v", e, err))
	}
	if o.Engine == "" && o.CgroupRoot != "" {
		c, err := byCgroupPath(o.CgroupRoot, ref)
		if err == nil {
			return c, nil
		}
		why = append(why, fmt.Sprintf("cgroup paths: %v", err))
	}
	return nil, fmt.Errorf("find container %s: %w (%s)", ref, ErrNotFound, strings.Join(why, "; "))
}

// dockerClient talks HTTP to the daemon's unix socket.
func dockerClient(host string) (*http.Client, error) {
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = "unix:///var/run/docker.sock"
	}
	path, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return nil, fmt.Errorf("docker host %s: only unix:// sockets are supported", host)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("docker daemon socket: %w", err)
	}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}, nil
}

// docker asks the Engine API: GET /containers/REF/json.
func docker(ctx context.Context, ref, host string) (*Container, error) {
	c, err := dockerClient(host)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://docker/containers/"+url.PathEscape(ref)+"/json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, ErrNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("docker API: %s", resp.Status)
	}
	var v struct {
		ID     string `json:"Id"`
		Name   string
		Path   string
		Args   []string
		Config struct{ Image string }
		State  struct {
			Running bool
			Pid     int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("docker API: %w", err)
	}
	out := &Container{Engine: "docker", ID: v.ID, Name: strings.TrimPrefix(v.Name, "/"), Image: v.Config.Image, PID: v.State.Pid,
		Command: append([]string{v.Path}, v.Args...)}
	if !v.State.Running || v.State.Pid == 0 {
		return nil, fmt.Errorf("docker %s: %w", out.Name, ErrNotRunning)
	}
	return out, nil
}

// podman asks `podman container inspect REF`.
func podman(ctx context.Context, ref string) (*Container, error) {
	bin, err := exec.LookPath("podman")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, bin, "container", "inspect", "--format", "json", ref).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "no such container") {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("podman container inspect: %w%s", err, stderrOf(err))
	}
	var vs []struct {
		ID        string `json:"Id"`
		Name      string
		ImageName string
		Path      string
		Args      []string
		State     struct {
			Running bool
			Pid     int
		}
	}
	if err := json.Unmarshal(out, &vs); err != nil || len(vs) != 1 {
		return nil, fmt.Errorf("podman container inspect: unexpected output: %v", err)
	}
	v := vs[0]
	c := &Container{Engine: "podman", ID: v.ID, Name: v.Name, Image: v.ImageName, PID: v.State.Pid, Command: append([]string{v.Path}, v.Args...)}
	if !v.State.Running || v.State.Pid == 0 {
		return nil, fmt.Errorf("podman %s: %w", c.Name, ErrNotRunning)
	}
	return c, nil
}

// containerd asks `ctr containers info` and `ctr task ls` (namespace
// and address from ctr's own environment, CONTAINERD_NAMESPACE and
// CONTAINERD_ADDRESS).
func containerd(ctx context.Context, ref string) (*Container, error) {
	bin, err := exec.LookPath("ctr")
	if err != nil {
		return nil, err
	}
	// ctr waits 10 s for a daemon that is not there.
	addr := os.Getenv("CONTAINERD_ADDRESS")
	if addr == "" {
		addr = "/run/containerd/containerd.sock"
	}
	if _, err := os.Stat(strings.TrimPrefix(addr, "unix://")); err != nil {
		return nil, fmt.Errorf("containerd socket: %w", err)
	}
	out, err := exec.CommandContext(ctx, bin, "containers", "info", ref).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "not found") {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("ctr containers info: %w%s", err, stderrOf(err))
	}
	var v struct {
		ID     string
		Image  string
		Labels map[string]string
		Spec   struct {
			Process struct{ Args []string }
		}
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("ctr containers info: %w", err)
	}
	c := &Container{Engine: "containerd", ID: v.ID, Name: v.ID, Image: v.Image, Command: v.Spec.Process.Args}
	if n := v.Labels["io.kubernetes.container.name"]; n != "" {
		c.Name = n
	}
	tasks, err := exec.CommandContext(ctx, bin, "task", "ls").Output()
	if err != nil {
		return nil, fmt.Errorf("ctr task ls: %w%s", err, stderrOf(err))
	}
	for _, line := range strings.Split(string(tasks), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == v.ID {
			if f[2] != "RUNNING" {
				return nil, fmt.Errorf("containerd %s is %s: %w", v.ID, f[2], ErrNotRunning)
			}
			if c.PID, err = strconv.Atoi(f[1]); err != nil {
				return nil, fmt.Errorf("ctr task ls: pid %q", f[1])
			}
			return c, nil
		}
	}
	return nil, fmt.Errorf("containerd %s has no task: %w", v.ID, ErrNotRunning)
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// cgroupPatterns are the directory names engines and runtimes give a
// container's cgroup, with ID standing for the container ID: systemd
// driver scopes and cgroupfs directories.
var cgroupPatterns = []string{"docker-ID.scope", "libpod-ID.scope", "libpod-ID", "cri-containerd-ID.scope", "crio-ID.scope", "ID"}

// byCgroupPath looks for the container's cgroup in the cgroup2 tree by
// the engines' naming conventions, ref being an ID or a prefix of at
// least 12 hex digits, and takes its first process.
func byCgroupPath(root, ref string) (*Container, error) {
	if len(ref) < 12 || strings.Trim(ref, "0123456789abcdef") != "" {
		return nil, errors.New("needs a container ID (12 or more hex digits) to match cgroup names")
	}
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if id := idOf(d.Name(), ref); id != "" {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no cgroup below %s is named after %s", root, ref)
	case 1:
	default:
		return nil, fmt.Errorf("%d cgroups match %s: %s", len(found), ref, strings.Join(found, ", "))
	}
	procs, err := os.ReadFile(filepath.Join(found[0], "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(procs)), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		// The processes may be in child cgroups (systemd's init.scope).
		return nil, fmt.Errorf("cgroup %s: %w", found[0], ErrNotRunning)
	}
	id := idOf(filepath.Base(found[0]), ref)
	return &Container{Engine: "cgroup", ID: id, Name: id, PID: pid}, nil
}

// idOf returns the container ID in a cgroup directory name that follows
// one of the patterns with an ID starting with ref, or "".
func idOf(name, ref string) string {
	for _, p := range cgroupPatterns {
		pre, suf, _ := strings.Cut(p, "ID")
		id, ok := strings.CutPrefix(name, pre)
		if !ok {
			continue
		}
		if id, ok = strings.CutSuffix(id, suf); ok && len(id) == 64 && strings.HasPrefix(id, ref) && strings.Trim(id, "0123456789abcdef") == "" {
			return id
		}
	}
	return ""
}
