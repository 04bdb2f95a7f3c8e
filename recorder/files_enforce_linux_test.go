package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/reducer"
)

// The enforced runs below re-execute this test binary as sysrec's
// helper; init runs before TestMain, so the helper never reaches it.
func init() { enforce.HelperMain() }

// landlockProfile is a profile that allows every syscall and restricts
// files and ports to what rec's reduction grants.
func landlockProfile(t *testing.T, recs []*Recording, level reducer.FSLevel) *profiles.Profile {
	t.Helper()
	fs, net, err := reducer.Filesystem(recs, reducer.FSOptions{Level: level, Home: os.Getenv("HOME")})
	if err != nil {
		t.Fatal(err)
	}
	if fs == nil {
		t.Fatal("no filesystem section")
	}
	return &profiles.Profile{Version: profiles.Version, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow, Syscalls: []profiles.Syscall{}, Filesystem: fs, Network: net}
}

// runLandlocked runs argv under p, its templates instantiated from argv
// as sysrec run does, with Landlock required and returns its exit
// status and output.
func runLandlocked(t *testing.T, p *profiles.Profile, argv ...string) (int, string) {
	t.Helper()
	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := enforce.Command(filter, argv)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inst, warnings, err := p.Instantiate(profiles.Invocation{Args: argv, Dir: wd, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Logf("%v: %s", argv, w)
	}
	cmd.Landlock, cmd.LandlockMode = inst.Landlock(), enforce.LandlockRequired
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ex, err := cmd.Run(ctx)
	if err != nil {
		t.Fatalf("run %v: %v", argv, err)
	}
	return ex.Status, out.String()
}

func denied(out string) bool {
	return strings.Contains(out, "Permission denied") || strings.Contains(out, "PermissionError") || strings.Contains(out, "permission denied")
}

// TestFilesEnforced records, reduces at the default level and enforces:
// the recorded job runs, the same program reaching elsewhere is refused
// (EACCES) though seccomp allows every call.
func TestFilesEnforced(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("cat", func(t *testing.T) {
		p := landlockProfile(t, []*Recording{recordFiles(t, fileMaxDepth, "cat", "/etc/hostname")}, reducer.DefaultFSLevel)
		want, _ := os.ReadFile("/etc/hostname")
		if st, out := runLandlocked(t, p, "cat", "/etc/hostname"); st != 0 || out != string(want) {
			t.Errorf("cat /etc/hostname: exit %d, %q", st, out)
		}
		if st, out := runLandlocked(t, p, "cat", "/etc/passwd"); st == 0 || !strings.Contains(out, "/etc/passwd: Permission denied") {
			t.Errorf("cat /etc/passwd: exit %d, %q; want EACCES", st, out)
		}
	})
	t.Run("writer", func(t *testing.T) {
		dir := realPath(t, t.TempDir())
		os.Mkdir(filepath.Join(dir, "out"), 0o755)
		p := landlockProfile(t, []*Recording{recordFiles(t, fileMaxDepth, "sh", "-c", `echo hi > "$1/out/a"`, "sh", dir)}, reducer.DefaultFSLevel)
		if st, out := runLandlocked(t, p, "sh", "-c", `echo hi > "$1/out/b"`, "sh", dir); st != 0 {
			t.Errorf("write another file into out: exit %d, %q", st, out)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "out", "b")); err != nil || string(b) != "hi\n" {
			t.Errorf("out/b: %q, %v", b, err)
		}
		if st, out := runLandlocked(t, p, "sh", "-c", `echo hi > "$1/elsewhere"`, "sh", dir); st == 0 || !denied(out) {
			t.Errorf("write outside out: exit %d, %q; want EACCES", st, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
			t.Error("elsewhere was created")
		}
	})
	t.Run("tcp", func(t *testing.T) {
		python := testenv.RequireTool(t, "python3")
		ports := listen(t, 2)
		client := `import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close(); print("connected")`
		p := landlockProfile(t, []*Recording{recordFiles(t, fileMaxDepth, python, "-c", client, ports[0])}, reducer.DefaultFSLevel)
		if st, out := runLandlocked(t, p, python, "-c", client, ports[0]); st != 0 || !strings.Contains(out, "connected") {
			t.Errorf("connect to the recorded port: exit %d, %q", st, out)
		}
		if st, out := runLandlocked(t, p, python, "-c", client, ports[1]); st == 0 || !denied(out) {
			t.Errorf("connect to another port: exit %d, %q; want EACCES", st, out)
		}
	})
}

// listen opens n TCP listeners on the loopback that accept and close
// until the test ends, and returns their ports.
func listen(t *testing.T, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return ports
}

// nginxConf writes an nginx configuration serving dir/www on port with
// everything nginx writes kept in dir, and an /etc location that reads
// outside the served tree.
func nginxConf(t *testing.T, dir string, port string) string {
	t.Helper()
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "other.html"} {
		if err := os.WriteFile(filepath.Join(www, f), []byte("<p>"+f+"</p>\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	include /etc/nginx/mime.types;
	server {
		listen 127.0.0.1:%[2]s;
		root %[1]s/www;
		location /etc/ { alias /etc/; }
	}
}
`, dir, port)
	p := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// freePort returns a TCP port nothing listens on (as of now).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitNginx waits until nginx in dir is listening: it writes its pid
// file after it has opened its listening sockets, so a connection made
// after that waits in the backlog until a worker accepts it.
func waitNginx(t *testing.T, dir string) {
	t.Helper()
	if err := testenv.WaitFile(filepath.Join(dir, "nginx.pid"), 10*time.Second); err != nil {
		t.Fatalf("nginx did not start: %v", err)
	}
}

// httpGet fetches path from nginx on port and returns the status code.
func httpGet(t *testing.T, port, path string) int {
	t.Helper()
	// No keep-alive: no connection (fd) outlives the test.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://127.0.0.1:" + port + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestFilesNginx records nginx serving one page, then runs it under the
// learned Landlock profile: another page of the same tree is served (no
// denial), a location reading outside the recorded tree is refused.
func TestFilesNginx(t *testing.T) {
	testenv.RequireRoot(t)
	nginx := testenv.RequireTool(t, "nginx")
	dir := realPath(t, t.TempDir())
	// The workers run as nobody: let them reach the served tree.
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := nginxConf(t, dir, port)
	stop := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: workers finish and exit
	}
	rec := recordFilesDuring(t, fileMaxDepth, func(cmd *exec.Cmd) {
		waitNginx(t, dir)
		if code := httpGet(t, port, "/index.html"); code != 200 {
			t.Errorf("recording: GET /index.html: %d", code)
		}
		stop(cmd)
	}, nginx, "-c", conf)
	t.Logf("nginx: %d paths, %d ports, %d unresolved", len(rec.Files), len(rec.Ports), rec.FilesUnresolved)
	p := landlockProfile(t, []*Recording{rec}, reducer.DefaultFSLevel)
	for _, r := range p.Filesystem.Rules {
		t.Logf("rule %-50s %s", r.Path, strings.Join(r.Access, ","))
	}
	for _, r := range p.Network.Rules {
		t.Logf("rule %s %d", r.Access, r.Port)
	}

	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := enforce.Command(filter, []string{nginx, "-c", conf})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Landlock, cmd.LandlockMode = p.Landlock(), enforce.LandlockRequired
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The recorded nginx removed its pid file when it quit.
	if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("nginx.pid left by the recorded run: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := cmd.Run(ctx); done <- err }()
	waitNginx(t, dir)
	for _, c := range []struct {
		path string
		want int
	}{{"/index.html", 200}, {"/other.html", 200}, {"/", 200}, {"/etc/hostname", 403}} {
		if got := httpGet(t, port, c.path); got != c.want {
			t.Errorf("under the profile: GET %s: %d, want %d", c.path, got, c.want)
		}
	}
	cancel() // SIGTERM: nginx exits
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	if n := strings.Count(string(log), "Permission denied"); n != 1 || !strings.Contains(string(log), `"/etc/hostname" failed (13: Permission denied)`) {
		t.Errorf("error log: want exactly the /etc/hostname denial:\n%s%s", log, out.String())
	}
}
