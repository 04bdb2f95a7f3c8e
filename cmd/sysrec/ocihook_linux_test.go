package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// buildSysrec builds the sysrec binary a runtime runs as a hook.
func buildSysrec(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sysrec-hook-bin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "sysrec")
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build sysrec: %v\n%s", err, out)
	}
	return bin
}

// waitProfile waits (at most 30 s) for the detached recorder's profile.
func waitProfile(t *testing.T, path string) *profiles.Profile {
	t.Helper()
	// The profile is renamed into place whole: once it exists, it loads.
	if err := testenv.WaitFile(path, 30*time.Second); err != nil {
		log, _ := os.ReadFile(path + ".log")
		t.Fatalf("no profile at %s 30 s after the container ended (%v); recorder log:\n%s", path, err, log)
	}
	p, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func syscallNames(p *profiles.Profile) []string {
	var out []string
	for _, s := range p.Syscalls {
		if s.Reason == "" && !slices.Contains(out, s.Name) {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// hookWorkload is short: the container is gone within milliseconds.
var hookWorkload = []string{"/bin/sh", "-c", "ls /; cat /etc/hostname"}

// TestOCIHook: sysrec oci-hook, as runc's and crun's createRuntime hook
// and as a Podman hooks.d hook, records a container that lives a few
// milliseconds completely: every syscall the same command makes on the
// host (recorded by sysrec record) is in the hook's profile, and none of
// the runtime's own setup (capset, setgroups, PR_CAPBSET_DROP) is.
func TestOCIHook(t *testing.T) {
	testenv.RequireRoot(t)
	bin := buildSysrec(t)
	// As Podman sets it: busybox sh calls uname when it is unset.
	t.Setenv("HOSTNAME", "sysrec-container")
	host := filepath.Join(t.TempDir(), "host.json")
	mustSysrec(t, "record", "--progress", "never", "--generalize", "exact", "--runtime", "none", "-o", host,
		"--", "/bin/busybox", "sh", "-c", "ls /; cat /etc/hostname")
	hp, err := profiles.Load(host)
	if err != nil {
		t.Fatal(err)
	}
	want := syscallNames(hp)

	check := func(t *testing.T, p *profiles.Profile) {
		t.Helper()
		got := syscallNames(p)
		var missing []string
		for _, n := range want {
			if !slices.Contains(got, n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			t.Errorf("the hook's profile lacks %v, which the same command made on the host\nhook: %v\nhost: %v", missing, got, want)
		}
		for _, setup := range []string{"capset", "capget", "setgroups", "setresuid", "pivot_root", "mount"} {
			if slices.Contains(got, setup) {
				t.Errorf("the runtime's setup call %s is in the hook's profile: %v", setup, got)
			}
		}
		if strings.Join(p.Recorded.Command, " ") != strings.Join(hookWorkload, " ") {
			t.Errorf("recorded command %q, want the container's %q", p.Recorded.Command, hookWorkload)
		}
		t.Logf("%d syscalls, host run %d; only in the container: %v", len(got), len(want), slices.DeleteFunc(slices.Clone(got), func(n string) bool { return slices.Contains(want, n) }))
	}

	for _, rt := range []string{"runc", "crun"} {
		t.Run(rt, func(t *testing.T) {
			rbin := testenv.RequireTool(t, rt)
			dir := ocitest.Bundle(t, rbin, hookWorkload...)
			out := filepath.Join(t.TempDir(), "hook.json")
			ocitest.Configure(t, dir, func(cfg map[string]any) {
				cfg["linux"].(map[string]any)["cgroupsPath"] = "/sysrec-hook-" + rt
				cfg["process"].(map[string]any)["noNewPrivileges"] = false
				cfg["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": bin, "args": []string{"sysrec", "oci-hook", "--output", out}}}}
			})
			if code, o := ocitest.Run(t, rbin, dir, "sysrec-hook-"+rt); code != 0 || !strings.Contains(o, "etc") {
				t.Fatalf("%s run with the hook: exit %d\n%s", rt, code, o)
			}
			check(t, waitProfile(t, out))
		})
	}
	t.Run("podman", func(t *testing.T) {
		podman := ocitest.NewPodman(t)
		podman.Import(t, "localhost/sysrec-bb:local")
		hooks := t.TempDir()
		hook, _ := json.Marshal(map[string]any{
			"version": "1.0.0",
			"hook":    map[string]any{"path": bin, "args": []string{"sysrec", "oci-hook"}},
			"when":    map[string]any{"annotations": map[string]string{"io.sysrec.profile": ".+"}},
			"stages":  []string{"prestart"},
		})
		if err := os.WriteFile(filepath.Join(hooks, "sysrec.json"), hook, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "podman.json")
		args := append([]string{"--hooks-dir", hooks, "--runtime", "runc", "run", "--rm", "--annotation", "io.sysrec.profile=" + out, "--annotation", "io.sysrec.name=podman-hooked"}, ocitest.RunFlags()...)
		podman.Must(t, append(append(args, "localhost/sysrec-bb:local"), hookWorkload...)...)
		p := waitProfile(t, out)
		if p.Name != "podman-hooked" {
			t.Errorf("profile name %q, want the annotation's podman-hooked", p.Name)
		}
		check(t, p)
	})
}
