package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
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
			code, out := e.run(t, oci, "/bin/ls", "/")
			if code != 0 || !strings.Contains(out, "bin") || !strings.Contains(out, "etc") {
				t.Fatalf("ls / under its profile: exit %d\n%s", code, out)
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
