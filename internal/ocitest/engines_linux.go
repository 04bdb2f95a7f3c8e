package ocitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
)

// Docker is a private dockerd (its own data root, exec root and socket;
// no iptables, no bridge, cgroupfs driver) and the client that talks to
// it.
type Docker struct {
	Client string // the docker client shipped with the daemon
	Host   string // unix://... for DOCKER_HOST or -H
	Dir    string // everything the daemon writes
}

// StartDocker starts dockerd, with extra flags if given (a
// --config-file), and waits (at most a minute) until it answers /_ping.
// Cleanup stops it and removes its directories.
func StartDocker(t testing.TB, extra ...string) *Docker {
	t.Helper()
	testenv.RequireRoot(t)
	dockerd := testenv.RequireTool(t, "dockerd")
	// The client of the same package: another docker client earlier on
	// PATH may not speak this daemon's API version.
	client := filepath.Join("/usr/bin", "docker")
	if _, err := os.Stat(client); err != nil {
		client = testenv.RequireTool(t, "docker")
	}
	// Short paths: a unix socket path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "sysrec-docker")
	if err != nil {
		t.Fatal(err)
	}
	d := &Docker{Client: client, Host: "unix://" + filepath.Join(dir, "docker.sock"), Dir: dir}
	logPath := filepath.Join(dir, "dockerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd,
		"--host", d.Host,
		"--data-root", filepath.Join(dir, "root"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--iptables=false", "--ip-masq=false", "--bridge=none",
		"--exec-opt", "native.cgroupdriver=cgroupfs")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: the test's Ctrl-C is not the daemon's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		daemonFailed(t, "dockerd", fmt.Sprintf("start: %v", err), "")
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		stopDaemon(t, cmd, exited)
		logf.Close()
		unmountBelow(dir)
		os.RemoveAll(dir)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitPing(ctx, filepath.Join(dir, "docker.sock"), exited); err != nil {
		b, _ := os.ReadFile(logPath)
		daemonFailed(t, "dockerd", err.Error(), string(b))
	}
	return d
}

// daemonFailed fails (SYSREC_TEST_PRIVILEGED=1) or skips with the
// daemon's own last words.
func daemonFailed(t testing.TB, name, why, log string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	msg := fmt.Sprintf("%s cannot start here: %s\n%s", name, why, strings.Join(lines, "\n"))
	if testenv.Privileged() {
		t.Fatalf("SYSREC_TEST_PRIVILEGED=1 but %s", msg)
	}
	t.Skip(msg)
}

// waitPing waits until the Docker API at sock answers, the daemon
// exits, or ctx ends.
func waitPing(ctx context.Context, sock string, exited <-chan error) error {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	return waitHTTP(ctx, c, "http://docker/_ping", exited)
}

// waitHTTP waits until a daemon answers GET url with 200, exits, or ctx
// ends (the daemon says when it listens only in its log).
func waitHTTP(ctx context.Context, c *http.Client, url string, exited <-chan error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no answer on %s within a minute", url)
		case <-tick.C:
		}
	}
}

// stopDaemon sends SIGTERM and waits up to 30 s, then SIGKILL.
func stopDaemon(t testing.TB, cmd *exec.Cmd, exited <-chan error) {
	cmd.Process.Signal(unix.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30 s of SIGTERM: killed", cmd.Path)
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-exited
	}
}

// unmountBelow lazily unmounts whatever a daemon left mounted below dir.
func unmountBelow(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		unix.Unmount(points[i], unix.MNT_DETACH)
	}
}

// Command returns `docker -H HOST args...`.
func (d *Docker) Command(args ...string) *exec.Cmd {
	return exec.Command(d.Client, append([]string{"--host", d.Host}, args...)...)
}

// Run runs the docker client and returns its status and combined output.
func (d *Docker) Run(t testing.TB, args ...string) (int, string) {
	t.Helper()
	return Status(t, d.Command(args...))
}

// Must runs the docker client and fails the test unless it succeeds.
func (d *Docker) Must(t testing.TB, args ...string) string {
	t.Helper()
	code, out := d.Run(t, args...)
	if code != 0 {
		t.Fatalf("docker %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return strings.TrimSpace(out)
}

// Import imports a busybox image as ref (e.g. "bb:local").
func (d *Docker) Import(t testing.TB, ref string) {
	t.Helper()
	d.Must(t, "import", RootfsTar(t, Rootfs(t)), ref)
}

// Status runs cmd and returns its exit status and combined output.
func Status(t testing.TB, cmd *exec.Cmd) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	return 0, out.String()
}

// Podman is podman with private storage (root, runroot, tmpdir), the
// cgroupfs manager and file events, set through its own configuration
// files (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF in Env), so another
// podman given Env (sysrec's `podman container inspect`) sees the same
// containers. No daemon, no systemd.
type Podman struct {
	Bin string
	Dir string
	Env []string
}

// NewPodman prepares a private podman. Cleanup removes its containers,
// images and storage.
func NewPodman(t testing.TB) *Podman {
	t.Helper()
	testenv.RequireRoot(t)
	bin := testenv.RequireTool(t, "podman")
	testenv.RequireTool(t, "conmon")
	dir, err := os.MkdirTemp("", "sysrec-podman")
	if err != nil {
		t.Fatal(err)
	}
	storage := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "run"))
	engine := fmt.Sprintf("[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\ntmp_dir = %q\n", filepath.Join(dir, "tmp"))
	for name, text := range map[string]string{"storage.conf": storage, "containers.conf": engine} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Podman{Bin: bin, Dir: dir, Env: []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
	}}
	t.Cleanup(func() {
		p.Command("rm", "--all", "--force").Run()
		p.Command("rmi", "--all", "--force").Run()
		unmountBelow(dir)
		os.RemoveAll(dir)
	})
	return p
}

// Command returns `podman args...` with p's configuration.
func (p *Podman) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.Bin, args...)
	cmd.Env = append(os.Environ(), p.Env...)
	return cmd
}

// Run runs podman and returns its status and combined output.
func (p *Podman) Run(t testing.TB, args ...string) (int, string) {
	t.Helper()
	return Status(t, p.Command(args...))
}

// Must runs podman and fails the test unless it succeeds.
func (p *Podman) Must(t testing.TB, args ...string) string {
	t.Helper()
	code, out := p.Run(t, args...)
	if code != 0 {
		t.Fatalf("podman %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return strings.TrimSpace(out)
}

// Import imports a busybox image as ref (e.g. "localhost/bb:local").
func (p *Podman) Import(t testing.TB, ref string) {
	t.Helper()
	p.Must(t, "import", RootfsTar(t, Rootfs(t)), ref)
}

// RunFlags are the `podman run` flags every test container needs here:
// RLIMIT_NOFILE and RLIMIT_NPROC of 1024 or lower, never above this
// process's hard limits (podman raises them to 1048576 by default,
// which needs CAP_SYS_RESOURCE: "crun: setrlimit `RLIMIT_NOFILE`:
// Operation not permitted" where it is missing), and no network.
func RunFlags() []string {
	flags := []string{"--network", "none"}
	for _, l := range []struct {
		name string
		res  int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		var r unix.Rlimit
		n := uint64(1024)
		if unix.Getrlimit(l.res, &r) == nil {
			n = min(n, r.Max)
		}
		flags = append(flags, "--ulimit", fmt.Sprintf("%s=%d:%d", l.name, n, n))
	}
	return flags
}
