package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// imageWorkload lives a few milliseconds in its container.
var imageWorkload = []string{"/bin/sh", "-c", "ls /; cat /etc/hostname"}

// TestRecordImage: record --image runs a busybox image (imported from a
// root filesystem) under Docker (dockerd with sysrec oci-runtime as its
// "sysrec" runtime) and Podman (a hooks.d hook), and the short-lived
// container is recorded from its first syscall: ls's getdents64 and
// cat's openat are in the profile, the runtime's setup calls are not.
// The run line it prints, run by a shell, runs the workload under the
// OCI profile it wrote; the same line with ionice (ioprio_set, never
// recorded) instead of the workload is killed.
func TestRecordImage(t *testing.T) {
	testenv.RequireRoot(t)
	bin := buildSysrec(t)
	for _, engine := range []string{"docker", "podman"} {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			var env []string
			var image string
			var flags []string
			switch engine {
			case "docker":
				config := filepath.Join(dir, "daemon.json")
				rt, _ := json.Marshal(map[string]any{"runtimes": map[string]any{"sysrec": map[string]any{
					"path": bin, "runtimeArgs": []string{"oci-runtime", "--output-dir=" + filepath.Join(dir, "hook"), "--"}}}})
				if err := os.WriteFile(config, rt, 0o644); err != nil {
					t.Fatal(err)
				}
				d := ocitest.StartDocker(t, "--config-file", config)
				image = "sysrec-bb:local"
				d.Import(t, image)
				// The daemon's own client first on PATH.
				env = []string{"DOCKER_HOST=" + d.Host, "PATH=" + filepath.Dir(d.Client) + ":" + os.Getenv("PATH")}
				flags = []string{"--network=none"}
			case "podman":
				p := ocitest.NewPodman(t)
				image = "localhost/sysrec-bb:local"
				p.Import(t, image)
				// crun refuses this hybrid host; runc does not.
				conf := strings.TrimPrefix(p.Env[0], "CONTAINERS_CONF=")
				f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.WriteString("runtime = \"runc\"\n")
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				env = p.Env
				flags = ocitest.RunFlags()
			}
			profile := filepath.Join(dir, "bb.json")
			args := []string{"record", "--image", image, "--engine", engine, "-o", profile}
			for _, f := range flags {
				args = append(args, "--engine-flag="+f)
			}
			cmd := exec.Command(bin, append(append(args, "--"), imageWorkload...)...)
			cmd.Env = append(os.Environ(), env...)
			code, out := ocitest.Status(t, cmd)
			if code != 0 || !strings.Contains(out, "etc") || !strings.Contains(out, "proc") {
				t.Fatalf("record --image: exit %d\n%s", code, out)
			}
			p, err := profiles.Load(profile)
			if err != nil {
				t.Fatal(err)
			}
			names := syscallNames(p)
			for _, want := range []string{"execve", "getdents64", "openat"} {
				if !slices.Contains(names, want) {
					t.Errorf("the profile lacks %s, which the workload made: %v", want, names)
				}
			}
			for _, setup := range []string{"capset", "setgroups", "pivot_root", "mount"} {
				if slices.Contains(names, setup) {
					t.Errorf("the runtime's setup call %s is in the profile: %v", setup, names)
				}
			}
			if p.Name != "sysrec-bb" {
				t.Errorf("profile name %q, want the image's sysrec-bb", p.Name)
			}
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "  "+engine+" run ") {
					line = strings.TrimSpace(l)
				}
			}
			if !strings.Contains(line, "--security-opt seccomp="+filepath.Join(dir, "bb.oci.json")) {
				t.Fatalf("no %s run line with the OCI profile in\n%s", engine, out)
			}
			run := exec.Command("/bin/sh", "-c", line)
			run.Env = cmd.Env
			if code, out := ocitest.Status(t, run); code != 0 || !strings.Contains(out, "proc") {
				t.Errorf("the printed line %s: exit %d\n%s", line, code, out)
			}
			workload := profiles.ShellJoin(imageWorkload)
			if !strings.HasSuffix(line, " "+image+" "+workload) {
				t.Fatalf("the printed line does not end with the image and workload: %s", line)
			}
			stray := strings.TrimSuffix(line, workload) + "/bin/ionice -c 3 /bin/true"
			run = exec.Command("/bin/sh", "-c", stray)
			run.Env = cmd.Env
			code, sout := ocitest.Status(t, run)
			if code != 159 {
				t.Errorf("ionice (ioprio_set) under the printed line's profile: exit %d, want 159 (killed by SIGSYS): %s\n%s", code, stray, sout)
			}
			t.Logf("%d syscalls; ionice: exit %d %s", len(names), code, strings.TrimSpace(sout))
		})
	}
}
