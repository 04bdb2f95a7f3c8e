package recorder

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// runLandlocked runs argv under p with Landlock required and returns
// its exit status and output.
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
	cmd.Landlock, cmd.LandlockMode = p.Landlock(), enforce.LandlockRequired
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
