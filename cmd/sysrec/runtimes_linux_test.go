package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/recorder"
)

// sysrec runs a sysrec command line in process and returns its status
// and combined output.
func sysrec(args ...string) (int, string) {
	var out syncBuffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &out)
	return code, out.String()
}

// mustSysrec runs a sysrec command line that must succeed.
func mustSysrec(t *testing.T, args ...string) string {
	t.Helper()
	code, out := sysrec(args...)
	if code != 0 {
		t.Fatalf("sysrec %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// setProcess rewrites the bundle's config: command, no terminal, and the
// seccomp section (nil: none).
func setProcess(t *testing.T, dir, cgroup string, seccomp json.RawMessage, args ...string) {
	ocitest.Configure(t, dir, func(cfg map[string]any) {
		proc := cfg["process"].(map[string]any)
		proc["args"] = args
		proc["terminal"] = false
		linux := cfg["linux"].(map[string]any)
		delete(linux, "seccomp")
		// No device cgroup: on cgroup v2 it is a BPF program, and loading
		// it needs a higher RLIMIT_MEMLOCK than some hosts allow. Not what
		// this test is about.
		delete(linux, "resources")
		// Inside the cgroup sysrec records: by default the runtime puts
		// the container in a cgroup of its own at the root, outside the
		// recording.
		linux["cgroupsPath"] = cgroup + "/container"
		if seccomp != nil {
			linux["seccomp"] = seccomp
		}
	})
}

// runtimeCmd is the command line that runs runtime with args. crun
// refuses hybrid cgroup hosts (cgroup v1 at /sys/fs/cgroup, v2 below
// it): there it runs in a private mount namespace with cgroup2 mounted
// at /sys/fs/cgroup, which it then treats as a unified host.
func runtimeCmd(runtime string, args ...string) []string {
	var st unix.Statfs_t
	if filepath.Base(runtime) != "crun" || (unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC) {
		return append([]string{runtime}, args...)
	}
	script := `mount --make-rprivate / && mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"`
	return append([]string{"unshare", "-m", "sh", "-c", script, runtime}, args...)
}

func runContainer(t *testing.T, runtime, dir, id string) (int, string) {
	argv := runtimeCmd(runtime, "run", "--bundle", dir, id)
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	del := runtimeCmd(runtime, "delete", "--force", id)
	exec.Command(del[0], del[1:]...).Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("%s run: %v\n%s", runtime, err, out)
	}
	return 0, string(out)
}

// TestRuntimes records a container's run, emits the OCI profile and has
// runc and crun enforce it: the recorded command runs, a call it never
// made (ioprio_set, from busybox ionice) fails with EPERM.
func TestRuntimes(t *testing.T) {
	for _, runtime := range []string{"runc", "crun"} {
		t.Run(runtime, func(t *testing.T) {
			testenv.RequireRoot(t)
			bin := testenv.RequireTool(t, runtime)
			dir := ocitest.Bundle(t, bin)
			// Names of this run's own, so runs at once (or one that died
			// and left state behind) do not clash.
			id := fmt.Sprintf("sysrec-test-%s-%d", runtime, os.Getpid())
			profile := filepath.Join(t.TempDir(), "container.json")
			oci := filepath.Join(t.TempDir(), "seccomp.json")

			// Everything the runtime's init does after installing the
			// filter is recorded too, so record the whole run, in a
			// cgroup the container is then placed in. --strict: the
			// runtime moving its init into the container's cgroup
			// below it is no loss.
			cgroup := "/" + id
			t.Cleanup(func() {
				if mount, err := recorder.CgroupMount(); err == nil {
					os.Remove(filepath.Join(mount, cgroup, "container"))
					os.Remove(filepath.Join(mount, cgroup))
				}
			})
			setProcess(t, dir, cgroup, nil, "sh", "-c", "echo allowed; cat /etc/hostname")
			mustSysrec(t, append([]string{"record", "--strict", "--progress", "never", "--cgroup", cgroup, "--default-action", "errno", "-o", profile, "--"}, runtimeCmd(bin, "run", "--bundle", dir, id)...)...)
			del := runtimeCmd(bin, "delete", "--force", id)
			exec.Command(del[0], del[1:]...).Run()
			mustSysrec(t, "emit", "--format", "oci", "-o", oci, profile)
			seccomp, err := os.ReadFile(oci)
			if err != nil {
				t.Fatal(err)
			}

			setProcess(t, dir, cgroup, seccomp, "sh", "-c", "echo allowed; cat /etc/hostname")
			kills := testenv.SeccompLog(t)
			if code, out := runContainer(t, bin, dir, id); code != 0 || !strings.Contains(out, "allowed") {
				_, show := sysrec("show", profile)
				t.Fatalf("recorded command under its profile: exit %d\n%s\n%s\nprofile:\n%s", code, out, kills(), show)
			}
			setProcess(t, dir, cgroup, seccomp, "ionice", "-c", "3", "true")
			code, out := runContainer(t, bin, dir, id)
			if code == 0 || !strings.Contains(out, "ioprio_set") || !strings.Contains(out, "not permitted") {
				t.Fatalf("ioprio_set was not denied: exit %d\n%s", code, out)
			}
		})
	}
}

// TestBwrap: the raw filter loads in bubblewrap (--seccomp FD), which
// installs it right before exec'ing the target.
func TestBwrap(t *testing.T) {
	testenv.RequireRoot(t)
	bwrap := testenv.RequireTool(t, "bwrap")
	target := testtarget.Path(t)
	dir := t.TempDir()
	profile, filter := filepath.Join(dir, "p.json"), filepath.Join(dir, "p.bpf")
	mustSysrec(t, "record", "--progress", "never", "--exe", "target", "-o", profile, "--", target, "normal")
	mustSysrec(t, "emit", "--format", "bpf", "-o", filter, profile)

	for _, tc := range []struct {
		mode string
		want int
	}{{"normal", 0}, {"stray", 128 + 31}} {
		f, err := os.Open(filter)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--seccomp", "3", target, tc.mode)
		cmd.ExtraFiles = []*os.File{f}
		out, _ := cmd.CombinedOutput()
		f.Close()
		if got := cmd.ProcessState.ExitCode(); got != tc.want && !(tc.want != 0 && got != 0 && !cmd.ProcessState.Success()) {
			t.Errorf("bwrap target %s: exit %d, want %d\n%s", tc.mode, got, tc.want, out)
		}
		if tc.mode == "stray" && strings.Contains(string(out), "priority") {
			t.Errorf("stray target got past getpriority under bwrap:\n%s", out)
		}
	}
}
