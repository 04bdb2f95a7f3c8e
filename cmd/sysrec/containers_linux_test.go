package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// engine runs a command in a fresh container of the busybox image
// under the OCI seccomp profile at seccomp, and returns its exit status
// and output.
type engine struct {
	name string
	run  func(t *testing.T, seccomp string, argv ...string) (int, string)
}

// engines gives the runtimes and engines of this machine, each set up
// (bundle, daemon, image) once: runc and crun directly, Docker
// (dockerd, runc), Podman with runc and Podman with crun (in a private
// mount namespace that shows a unified cgroup2 tree, and without
// cgroups: crun refuses this hybrid host, and on cgroup v2 its device
// filter needs CAP_SYS_RESOURCE for RLIMIT_MEMLOCK, which this machine
// does not grant).
func engines(t *testing.T) []engine {
	testenv.RequireRoot(t)
	var out []engine
	for _, rt := range []string{"runc", "crun"} {
		bin := testenv.RequireTool(t, rt)
		out = append(out, engine{name: rt, run: func(t *testing.T, seccomp string, argv ...string) (int, string) {
			dir := ocitest.Bundle(t, bin, argv...)
			section := seccompSection(t, seccomp)
			ocitest.Configure(t, dir, func(cfg map[string]any) {
				linux := cfg["linux"].(map[string]any)
				linux["seccomp"] = section
				linux["cgroupsPath"] = "/sysrec-test-" + rt
				// As Docker and Podman run it by default.
				cfg["process"].(map[string]any)["noNewPrivileges"] = false
			})
			return ocitest.Run(t, bin, dir, "sysrec-enforce-"+rt)
		}})
	}
	docker := ocitest.StartDocker(t)
	docker.Import(t, "sysrec-bb:local")
	out = append(out, engine{name: "docker", run: func(t *testing.T, seccomp string, argv ...string) (int, string) {
		return docker.Run(t, append([]string{"run", "--rm", "--network", "none", "--security-opt", "seccomp=" + seccomp, "sysrec-bb:local"}, argv...)...)
	}})
	podman := ocitest.NewPodman(t)
	podman.Import(t, "localhost/sysrec-bb:local")
	for _, rt := range []string{"runc", "crun"} {
		out = append(out, engine{name: "podman-" + rt, run: func(t *testing.T, seccomp string, argv ...string) (int, string) {
			args := append([]string{"--runtime", rt, "run", "--rm", "--security-opt", "seccomp=" + seccomp}, ocitest.RunFlags()...)
			if rt == "crun" && ocitest.Hybrid() {
				args = append(args, "--cgroups", "disabled")
			}
			args = append(append(args, "localhost/sysrec-bb:local"), argv...)
			cmd := podman.Command(args...)
			if rt == "crun" {
				a := ocitest.UnifiedArgv(cmd.Args...)
				cmd.Path, cmd.Args = "/usr/bin/unshare", a
			}
			return ocitest.Status(t, cmd)
		}})
	}
	return out
}

// TestContainerEnforce: a profile recorded from `busybox ls /` on the
// host, emitted with --format oci, runs `ls /` in a container under
// runc, crun, Docker and Podman (the runtimes' setup calls are added),
// and `ionice` (ioprio_set, never recorded) in the same image is denied.
// Without the setup calls Docker cannot even start the container.
func TestContainerEnforce(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	profile := filepath.Join(dir, "ls.json")
	oci := filepath.Join(dir, "ls.oci.json")
	bare := filepath.Join(dir, "ls.bare.json")
	mustSysrec(t, "record", "--progress", "never", "-o", profile, "--", "/bin/busybox", "ls", "/")
	mustSysrec(t, "emit", "--format", "oci", "-o", oci, profile)
	mustSysrec(t, "emit", "--format", "oci", "--runtime-setup", "none", "-o", bare, profile)

	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			kills := testenv.SeccompLog(t)
			code, out := e.run(t, oci, "/bin/ls", "/")
			if code != 0 || !strings.Contains(out, "bin") || !strings.Contains(out, "etc") {
				t.Fatalf("ls / under its profile: exit %d\n%s\n%s", code, out, kills())
			}
			code, out = e.run(t, oci, "/bin/ionice", "-c", "3", "/bin/true")
			if code == 0 {
				t.Fatalf("ionice (ioprio_set) was not denied: exit 0\n%s", out)
			}
			t.Logf("ionice: exit %d %s", code, strings.TrimSpace(out))
			if e.name == "docker" {
				code, out = e.run(t, bare, "/bin/ls", "/")
				if code == 0 || !strings.Contains(out, "cannot start a stopped process") {
					t.Errorf("without the runtime's setup calls: exit %d, want Docker's \"cannot start a stopped process\"\n%s", code, out)
				}
			}
		})
	}
}

// seccompSection reads an OCI seccomp JSON file as a config value.
func seccompSection(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// signalWriter collects output and closes seen once it contains marker.
type signalWriter struct {
	mu     sync.Mutex
	b      strings.Builder
	marker string
	seen   chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.seen != nil && strings.Contains(w.b.String(), w.marker) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// waitWorkload is a container's workload that waits for /tmp/go
// (created from the host through /proc/PID/root once the recording
// runs), then lists / and reads a file.
var waitWorkload = []string{"/bin/sh", "-c", "until [ -e /tmp/go ]; do sleep 0.05; done; ls /; cat /etc/hostname"}

// recordContainer records the running container name with `sysrec
// record --container` and returns the profile's path: it releases the
// workload once the recording has started (the first progress line)
// and waits for sysrec to end with the container.
func recordContainer(t *testing.T, name, engine string, pid int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".json")
	stderr := &signalWriter{marker: "sysrec: recording 1s,", seen: make(chan struct{})}
	seen := stderr.seen
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"record", "--progress", "always", "--container", name, "--engine", engine, "-o", out}, strings.NewReader(""), io.Discard, stderr)
	}()
	select {
	case <-seen:
	case code := <-done:
		t.Fatalf("sysrec record --container %s: exit %d before recording\n%s", name, code, stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("sysrec record --container %s: not recording after 60 s\n%s", name, stderr)
	}
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/root/tmp/go", pid), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sysrec record --container %s: exit %d\n%s", name, code, stderr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("sysrec record --container %s: still recording 60 s after the workload was released\n%s", name, stderr)
	}
	return out
}

// checkContainerProfile: the profile names the container and its image
// and has the workload's calls, and none of the runtime's init.
func checkContainerProfile(t *testing.T, path, name, image string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(p.Recorded.Command, " ")
	if p.Name != name || !strings.Contains(cmd, image) || !strings.Contains(cmd, "until [ -e /tmp/go ]") {
		t.Errorf("profile name %q, recorded command %q: want the container %s, its image %s and its command", p.Name, cmd, name, image)
	}
	for _, want := range []string{"getdents64", "execve", "wait4"} {
		if !slices.ContainsFunc(p.Syscalls, func(s profiles.Syscall) bool { return s.Name == want }) {
			t.Errorf("the workload's %s is missing from the profile", want)
		}
	}
	return p
}

// TestRecordContainer records a running container with --container
// through Docker, Podman and containerd, then runs the same workload
// under the emitted OCI profile (Docker, Podman): it passes, and
// ionice in the same image is denied.
func TestRecordContainer(t *testing.T) {
	testenv.RequireRoot(t)
	docker := ocitest.StartDocker(t)
	docker.Import(t, "sysrec-bb:local")
	t.Setenv("DOCKER_HOST", docker.Host)
	podman := ocitest.NewPodman(t)
	podman.Import(t, "localhost/sysrec-bb:local")
	for _, kv := range podman.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	// Docker's own containerd, namespace moby: what ctr sees there.
	t.Setenv("CONTAINERD_ADDRESS", filepath.Join(docker.Dir, "exec", "containerd", "containerd.sock"))
	t.Setenv("CONTAINERD_NAMESPACE", "moby")
	testenv.RequireTool(t, "ctr")

	for _, engine := range []string{"docker", "podman", "containerd"} {
		t.Run(engine, func(t *testing.T) {
			name := "sysrec-rec-" + engine
			var pid int
			var enforce func(seccomp string, argv ...string) (int, string)
			image := "sysrec-bb:local"
			switch engine {
			case "docker", "containerd":
				id := docker.Must(t, append([]string{"run", "-d", "--name", name, "--network", "none", image}, waitWorkload...)...)
				t.Cleanup(func() { docker.Run(t, "rm", "-f", name) })
				pid, _ = strconv.Atoi(docker.Must(t, "inspect", "-f", "{{.State.Pid}}", name))
				if engine == "containerd" {
					name = id // ctr knows containers by ID
				}
				enforce = func(seccomp string, argv ...string) (int, string) {
					return docker.Run(t, append([]string{"run", "--rm", "--network", "none", "--security-opt", "seccomp=" + seccomp, image}, argv...)...)
				}
			case "podman":
				image = "localhost/sysrec-bb:local"
				podman.Must(t, append(append([]string{"--runtime", "runc", "run", "-d", "--name", name}, ocitest.RunFlags()...), append([]string{image}, waitWorkload...)...)...)
				t.Cleanup(func() { podman.Run(t, "rm", "-f", name) })
				pid, _ = strconv.Atoi(podman.Must(t, "inspect", "-f", "{{.State.Pid}}", name))
				enforce = func(seccomp string, argv ...string) (int, string) {
					return podman.Run(t, append(append([]string{"--runtime", "runc", "run", "--rm", "--security-opt", "seccomp=" + seccomp}, ocitest.RunFlags()...), append([]string{image}, argv...)...)...)
				}
			}
			path := recordContainer(t, name, engine, pid)
			if engine == "containerd" {
				// containerd knows no image for Docker's containers.
				p, err := profiles.Load(path)
				if err != nil {
					t.Fatal(err)
				}
				if p.Name != name || !strings.Contains(strings.Join(p.Recorded.Command, " "), "until [ -e /tmp/go ]") {
					t.Errorf("profile name %q, command %q", p.Name, p.Recorded.Command)
				}
				return
			}
			checkContainerProfile(t, path, name, image)
			oci := filepath.Join(t.TempDir(), "oci.json")
			mustSysrec(t, "emit", "--format", "oci", "-o", oci, path)
			kills := testenv.SeccompLog(t)
			if code, out := enforce(oci, "/bin/sh", "-c", "ls /; cat /etc/hostname"); code != 0 || !strings.Contains(out, "etc") {
				t.Fatalf("the workload under its recorded profile: exit %d\n%s\n%s", code, out, kills())
			}
			if code, out := enforce(oci, "/bin/ionice", "-c", "3", "/bin/true"); code == 0 {
				t.Fatalf("ionice was not denied: exit 0\n%s", out)
			}
		})
	}
}
