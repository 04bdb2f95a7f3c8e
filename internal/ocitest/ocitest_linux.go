// Package ocitest gives tests real container engines and runtimes:
// busybox-static root filesystems and OCI bundles for runc and crun, a
// private dockerd, and podman with private storage. Nothing is pulled
// from a registry: images are imported from a root filesystem tar.
//
// Everything a test starts or creates is stopped and removed in
// t.Cleanup. A missing tool or a daemon that cannot start skips the
// test, or fails it under SYSREC_TEST_PRIVILEGED=1 (internal/testenv),
// with the reason.
package ocitest

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
)

// Applets are the busybox applets a root filesystem links.
var Applets = []string{"sh", "ls", "echo", "cat", "ionice", "true", "sleep", "wc", "head"}

// Rootfs makes a root filesystem with /bin/busybox (Debian
// busybox-static) and its Applets, in a directory the test owns.
func Rootfs(t testing.TB) string {
	t.Helper()
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		testenv.RequireTool(t, "busybox (apt-get install busybox-static)")
	}
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "hostname"), []byte("sysrec-container\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, app := range Applets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", app)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// RootfsTar writes root as a tar file for docker/podman import.
func RootfsTar(t testing.TB, root string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(tw, in)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// Bundle makes an OCI bundle (config.json from `RUNTIME spec`, and a
// busybox root filesystem) for runtime, running args.
func Bundle(t testing.TB, runtime string, args ...string) string {
	t.Helper()
	root := Rootfs(t)
	dir := filepath.Dir(root)
	cmd := exec.Command(runtime, "spec")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s spec: %v\n%s", runtime, err, out)
	}
	Configure(t, dir, func(cfg map[string]any) {
		proc := cfg["process"].(map[string]any)
		proc["args"] = args
		proc["terminal"] = false
		// No device cgroup: on cgroup v2 it is a BPF program, and crun
		// raises RLIMIT_MEMLOCK to load it, which needs
		// CAP_SYS_RESOURCE. Not what these tests are about.
		delete(cfg["linux"].(map[string]any), "resources")
	})
	return dir
}

// Configure rewrites the bundle's config.json through edit.
func Configure(t testing.TB, dir string, edit func(cfg map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	edit(cfg)
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Hybrid reports whether cgroup v1 is mounted at /sys/fs/cgroup (with
// cgroup2 below it), which crun refuses.
func Hybrid() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type != unix.CGROUP2_SUPER_MAGIC
}

// UnifiedArgv returns argv run so that it sees a unified cgroup v2 host:
// on a hybrid host, in a private mount namespace with cgroup2 mounted at
// /sys/fs/cgroup in place of the hybrid tree (crun refuses hybrid hosts:
// "cgroups in hybrid mode not supported, drop all controllers from
// cgroupv2").
func UnifiedArgv(argv ...string) []string {
	if !Hybrid() {
		return argv
	}
	// The hybrid tree is detached first, so cgroup2 is mounted once in
	// that namespace (sysrec finds the first cgroup2 in mountinfo).
	script := `mount --make-rprivate / && umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"`
	return append([]string{"unshare", "-m", "sh", "-c", script}, argv...)
}

// RuntimeArgv is the command line that runs runtime with args (crun in
// a unified view of cgroups, see UnifiedArgv).
func RuntimeArgv(runtime string, args ...string) []string {
	argv := append([]string{runtime}, args...)
	if filepath.Base(runtime) == "crun" {
		return UnifiedArgv(argv...)
	}
	return argv
}

// Delete removes container id of runtime, whatever state it is in.
func Delete(runtime, id string) {
	argv := RuntimeArgv(runtime, "delete", "--force", id)
	exec.Command(argv[0], argv[1:]...).Run()
}

// Run runs `runtime run --bundle dir id` and returns its exit status
// and combined output; the container is deleted afterwards.
func Run(t testing.TB, runtime, dir, id string) (int, string) {
	t.Helper()
	argv := RuntimeArgv(runtime, "run", "--bundle", dir, id)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	Delete(runtime, id)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("%s run: %v\n%s", runtime, err, out)
	}
	return 0, string(out)
}

// Version returns the first line of `tool --version`.
func Version(tool string) string {
	out, err := exec.Command(tool, "--version").Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// WaitState waits (at most 30 s) until `runtime state id` says status,
// or exited says the process that should get it there has ended.
func WaitState(runtime, id, status string, exited <-chan error) error {
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		argv := RuntimeArgv(runtime, "state", id)
		if b, err := exec.Command(argv[0], argv[1:]...).Output(); err == nil {
			var st struct{ Status string }
			if json.Unmarshal(b, &st) == nil {
				if st.Status == status {
					return nil
				}
				last = st.Status
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("ended before container %s was %s (last state %q): %v", id, status, last, err)
		case <-deadline:
			return fmt.Errorf("container %s not %s within 30 s (last state %q)", id, status, last)
		case <-tick.C:
		}
	}
}
