package containers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeDocker serves the one Engine API call Find makes on a unix socket.
func fakeDocker(t *testing.T, running bool) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sysrec-fake-docker")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/containers/web/json" && r.URL.Path != "/containers/"+testID+"/json" {
			http.NotFound(w, r)
			return
		}
		state := `"Running":false,"Pid":0`
		if running {
			state = `"Running":true,"Pid":4242`
		}
		w.Write([]byte(`{"Id":"` + testID + `","Name":"/web","Path":"/bin/sh","Args":["-c","serve"],"Config":{"Image":"bb:local"},"State":{` + state + `}}`))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func TestFindDocker(t *testing.T) {
	host := fakeDocker(t, true)
	c, err := Find(context.Background(), "web", Options{Engine: "docker", DockerHost: host})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != testID || c.Name != "web" || c.Image != "bb:local" || c.PID == 0 || strings.Join(c.Command, " ") != "/bin/sh -c serve" {
		t.Errorf("got %+v", c)
	}
	if _, err := Find(context.Background(), "db", Options{Engine: "docker", DockerHost: host}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown container: %v, want ErrNotFound", err)
	}
	stopped := fakeDocker(t, false)
	if _, err := Find(context.Background(), "web", Options{Engine: "docker", DockerHost: stopped}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stopped container: %v, want ErrNotRunning", err)
	}
	if _, err := Find(context.Background(), "web", Options{Engine: "rkt"}); err == nil || !strings.Contains(err.Error(), "unknown engine") {
		t.Errorf("unknown engine: %v", err)
	}
}

// TestFindByCgroupPath: with no engine answering, a container is found
// by its cgroup's name under any engine's convention.
func TestFindByCgroupPath(t *testing.T) {
	for _, dir := range []string{"system.slice/docker-ID.scope", "docker/ID", "machine.slice/libpod-ID.scope", "kubepods/besteffort/pod1/cri-containerd-ID.scope", "libpod_parent/libpod-ID"} {
		t.Run(dir, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, strings.ReplaceAll(dir, "ID", testID))
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "cgroup.procs"), []byte("77\n78\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", t.TempDir()) // no podman, no ctr
			c, err := Find(context.Background(), testID[:12], Options{DockerHost: "unix://" + filepath.Join(root, "none.sock"), CgroupRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			if c.PID != 77 || c.ID != testID || c.Engine != "cgroup" {
				t.Errorf("got %+v", c)
			}
		})
	}
	root := t.TempDir()
	if _, err := Find(context.Background(), "web", Options{DockerHost: "unix://" + filepath.Join(root, "none.sock"), CgroupRoot: root}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "12 or more hex digits") {
		t.Errorf("a name with no engine: %v", err)
	}
}
