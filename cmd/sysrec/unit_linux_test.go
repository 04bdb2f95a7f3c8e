package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
)

// TestRecordUnit: record --unit NAME follows system.slice/NAME.service,
// where systemd runs a service (made here by hand: no systemd runs as
// PID 1), until it empties; the profile has what the service did after
// the recording attached (cat's execve and open), and its systemd drop-in
// parses under systemd-analyze verify with exactly the profile's calls.
func TestRecordUnit(t *testing.T) {
	testenv.RequireRoot(t)
	analyze := testenv.RequireTool(t, "systemd-analyze")
	mount, err := recorder.CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	unit := "sysrec-unit-test-" + strconv.Itoa(os.Getpid())
	slice := filepath.Join(mount, "system.slice")
	madeSlice := false
	if _, err := os.Stat(slice); os.IsNotExist(err) {
		madeSlice = true
	}
	cg := filepath.Join(slice, unit+".service")
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(cg)
		if madeSlice {
			os.Remove(slice)
		}
	})
	// The "service": it waits on stdin, then runs cat.
	svc := exec.Command("/bin/sh", "-c", "read x; exec cat /etc/hostname")
	stdin, err := svc.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Process.Kill(); svc.Wait() })
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(svc.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	profile := filepath.Join(dir, "unit.json")
	out, stop := background(t, "record", "--unit", unit, "--progress", "always", "--fs", "off", "-o", profile)
	if !out.waitFor("sysrec: recording", 30*time.Second) {
		stop()
		t.Fatalf("record --unit did not start recording:\n%s", out.String())
	}
	stdin.Close() // the service goes on and ends
	if err := svc.Wait(); err != nil {
		t.Fatalf("service: %v", err)
	}
	if !out.waitFor("profile written to", 30*time.Second) {
		stop()
		t.Fatalf("record --unit did not end when the unit's cgroup emptied:\n%s", out.String())
	}
	if code := stop(); code != 0 {
		t.Fatalf("record --unit: exit %d\n%s", code, out.String())
	}
	p, err := profiles.Load(profile)
	if err != nil {
		t.Fatal(err)
	}
	names := syscallNames(p)
	for _, want := range []string{"execve", "openat"} {
		if !slices.Contains(names, want) {
			t.Errorf("the unit's profile lacks %s (cat ran after the recording attached): %v", want, names)
		}
	}

	dropin := filepath.Join(dir, "sysrec.conf")
	mustSysrec(t, "emit", "--format", "systemd", "-o", dropin, profile)
	svcFile := filepath.Join(dir, unit+".service")
	if err := os.WriteFile(svcFile, []byte("[Service]\nExecStart=/bin/sh -c 'read x; exec cat /etc/hostname'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(svcFile+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dropin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(svcFile+".d", "sysrec.conf"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	verify := exec.Command(analyze, "verify", "--man=no", svcFile)
	verify.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
	vout, err := verify.CombinedOutput()
	if err != nil || strings.Contains(string(vout), "sysrec.conf") {
		t.Errorf("systemd-analyze verify: %v\n%s\n%s", err, vout, b)
	}
	var filter []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SystemCallFilter="); ok {
			filter = append(filter, strings.Fields(v)...)
		}
	}
	var want []string
	for _, s := range p.Syscalls {
		if s.Action.IsZero() || s.Action.Kind == profiles.Allow || s.Action.Kind == profiles.Log ||
			s.Name == "clone3" && strings.Contains(string(b), "\nRestrictNamespaces=") {
			want = append(want, s.Name)
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(filter, want) {
		t.Errorf("SystemCallFilter= %v\nthe profile lets through %v", filter, want)
	}
}
