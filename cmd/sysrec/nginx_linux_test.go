package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
)

// syncBuffer collects a command's output while it runs.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed by the next write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output contains marker, woken by each write,
// at most timeout; it reports whether the marker came.
func (s *syncBuffer) waitFor(marker string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), marker) {
			s.mu.Unlock()
			return true
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// background runs a sysrec command line until stop is called, which
// cancels it (SIGTERM to its target) and returns its exit status. A test
// that ends early stops it too, so no target outlives the test.
func background(t *testing.T, args ...string) (out *syncBuffer, stop func() int) {
	b := startBackground(t, args...)
	return b.out, b.stop
}

// backgroundCmd is a sysrec command line running in the test process.
type backgroundCmd struct {
	out    *syncBuffer
	cancel context.CancelFunc
	exited chan struct{} // closed when the command has returned code
	code   int
}

func startBackground(t *testing.T, args ...string) *backgroundCmd {
	ctx, cancel := context.WithCancel(context.Background())
	b := &backgroundCmd{out: &syncBuffer{}, cancel: cancel, exited: make(chan struct{})}
	go func() {
		b.code = run(ctx, args, strings.NewReader(""), b.out, b.out)
		close(b.exited)
	}()
	t.Cleanup(func() { b.stop() })
	return b
}

// stop cancels the command and returns its exit status.
func (b *backgroundCmd) stop() int {
	b.cancel()
	<-b.exited
	return b.code
}

// wait waits at most timeout for the command to end by itself and
// returns its exit status; false when it did not end.
func (b *backgroundCmd) wait(timeout time.Duration) (int, bool) {
	select {
	case <-b.exited:
		return b.code, true
	case <-time.After(timeout):
		return 0, false
	}
}

// nginxPrefix lays out an nginx prefix from testdata/nginx with a free
// loopback port.
func nginxPrefix(t *testing.T) (dir, addr string) {
	dir = t.TempDir()
	// nginx workers run as nobody: they must reach the prefix.
	for d := dir; d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	conf, err := os.ReadFile("../../testdata/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	conf = bytes.ReplaceAll(conf, []byte("@PORT@"), []byte(port))
	conf = bytes.ReplaceAll(conf, []byte("@UPSTREAM@"), []byte(filepath.Join(dir, "upstream.sock")))
	index, err := os.ReadFile("../../testdata/nginx/html/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"html", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "html", "index.html"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, addr
}

// serve waits until nginx in dir is listening (it writes its pid file
// after opening its listening sockets), then sends n requests for / and
// checks every answer.
func serve(t *testing.T, dir, addr string, n int) {
	t.Helper()
	if err := testenv.WaitFile(filepath.Join(dir, "logs", "nginx.pid"), 10*time.Second); err != nil {
		t.Fatalf("nginx did not come up: %v", err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range n {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "hello from nginx") {
			t.Fatalf("request %d: %s %q", i, resp.Status, body)
		}
	}
}

// TestNginx records nginx serving requests, then serves the same
// requests under the recorded profile with kill_process: nothing may be
// killed. A request path never exercised while recording (proxying to a
// unix socket) is denied: the worker is killed by SIGSYS. It records at
// the exact level: the proxy path's first call the recording never made
// is epoll_ctl(EPOLL_CTL_MOD), harmless variation that the default
// level allows (nginx's start-up already opens unix sockets, for nscd).
func TestNginx(t *testing.T) {
	testenv.RequireRoot(t)
	nginx := testenv.RequireTool(t, "nginx")
	dir, addr := nginxPrefix(t)
	profile := filepath.Join(t.TempDir(), "nginx.json")
	cmdline := []string{nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf")}

	out, stop := background(t, append([]string{"record", "--progress", "never", "--generalize", "exact", "-o", profile, "--"}, cmdline...)...)
	serve(t, dir, addr, 200)
	if code := stop(); code != 0 {
		t.Fatalf("record exited %d:\n%s", code, out)
	}
	t.Logf("record:\n%s", out)
	if _, err := os.Stat(filepath.Join(dir, "logs", "nginx.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("nginx.pid left by the recorded nginx: %v", err)
	}

	out, stop = background(t, append([]string{"run", "--profile", profile, "--"}, cmdline...)...)
	serve(t, dir, addr, 200)
	if strings.Contains(out.String(), "signal 31") {
		t.Fatalf("nginx killed under its own profile:\n%s", out)
	}

	resp, err := http.Get("http://" + addr + "/proxy")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 502 || resp.StatusCode == 200 {
			t.Errorf("unexercised proxy path answered %s %q: the unix socket was not denied", resp.Status, body)
		}
	}
	if !out.waitFor("exited on signal 31", 5*time.Second) {
		t.Errorf("no worker killed by SIGSYS for the unexercised path:\n%s", out)
	}
	if code := stop(); code != 0 {
		t.Errorf("nginx under sysrec run exited %d:\n%s", code, out)
	}
}
