package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

func TestMain(m *testing.M) {
	enforce.HelperMain() // Run re-execs this binary as the helper
	if mode := os.Getenv(testeeEnv); mode != "" {
		os.Exit(testee(mode, os.Args[1:]))
	}
	testtarget.Main(m)
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// recordTarget records `target normal` into dir/name.
func recordTarget(ctx context.Context, target, path string) (*profiles.Profile, error) {
	var out bytes.Buffer
	res, err := Record(ctx, RecordOptions{
		Recorder: recorder.Options{Command: []string{target, "normal"}, Stdout: &out, Stderr: &out},
		Reduce:   reducer.Options{Runtime: RuntimeAuto},
		Output:   path,
	})
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out.Bytes())
	}
	if res.Recording.Lost != 0 {
		return nil, fmt.Errorf("%s: %d calls lost", path, res.Recording.Lost)
	}
	return res.Profile, nil
}

// calls lists a profile's entries without counts: what it allows.
func calls(p *profiles.Profile) []string {
	var out []string
	for _, s := range p.Syscalls {
		out = append(out, profiles.FormatCall(s)+" "+s.EffectiveAction().String())
	}
	slices.Sort(out)
	return out
}

// TestConcurrent runs eight recordings at once, then eight enforced runs
// at once: each profile allows what the solo recording allows, every run
// passes, and nothing (cgroup, BPF link or map fd, pipe) is left behind.
func TestConcurrent(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	dir := t.TempDir()
	fds := openFDs(t)
	ctx := context.Background()
	solo, err := recordTarget(ctx, target, filepath.Join(dir, "solo.json"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	got := make([]*profiles.Profile, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = recordTarget(ctx, target, filepath.Join(dir, fmt.Sprintf("p%d.json", i)))
		}()
	}
	wg.Wait()
	want := calls(solo)
	for i := range n {
		if errs[i] != nil {
			t.Errorf("recording %d: %v", i, errs[i])
			continue
		}
		if c := calls(got[i]); !slices.Equal(c, want) {
			t.Errorf("recording %d differs from the solo recording:\n got %q\nwant %q", i, c, want)
		}
	}
	exits := make([]enforce.Exit, n)
	outs := make([]bytes.Buffer, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exits[i], errs[i] = Run(ctx, solo, []string{target, "normal"}, RunOptions{Stdio: Stdio{Out: &outs[i], Err: &outs[i]}, Landlock: enforce.LandlockBestEffort})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || exits[i].Status != 0 {
			t.Errorf("run %d: status %d, %v\n%s", i, exits[i].Status, errs[i], outs[i].Bytes())
		}
	}
	if after := openFDs(t); after != fds {
		t.Errorf("%d file descriptors before, %d after", fds, after)
	}
	mount, err := recorder.CgroupMount()
	if err != nil {
		t.Fatal(err)
	}
	left, err := filepath.Glob(filepath.Join(mount, fmt.Sprintf("sysrec-%d-*", os.Getpid())))
	if err != nil || len(left) > 0 {
		t.Errorf("cgroups left behind: %v %v", left, err)
	}
}

// TestFullDisk: a recording whose profile no longer fits (a full disk
// after the run) is rescued to a temporary file, and the profile it
// would have replaced (--merge-into) is intact.
func TestFullDisk(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	full := t.TempDir()
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(full, 0) })
	rescue := t.TempDir()
	t.Setenv("TMPDIR", rescue)
	old := filepath.Join(full, "app.json")
	if _, err := recordTarget(context.Background(), target, old); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	// Fill the disk up, leaving less room than a profile needs.
	filler, err := os.Create(filepath.Join(full, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := filler.Write(make([]byte, 64<<10)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v, want ENOSPC", err)
	}
	if err := filler.Close(); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	_, err = Record(context.Background(), RecordOptions{
		Recorder:  recorder.Options{Command: []string{target, "normal"}, Stdout: &out, Stderr: &out},
		Reduce:    reducer.Options{Runtime: RuntimeAuto},
		MergeInto: old,
	})
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "saved to "+rescue) {
		t.Fatalf("record onto a full disk: %v", err)
	}
	after, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the old profile changed")
	}
	saved, err := filepath.Glob(filepath.Join(rescue, "sysrec-rescued-*.json"))
	if err != nil || len(saved) != 1 {
		t.Fatalf("rescued files: %v %v", saved, err)
	}
	if _, err := profiles.Load(saved[0]); err != nil {
		t.Fatalf("rescued profile: %v", err)
	}
}

// TestGoSignature: a Go program started through a shell (the command is
// not a Go binary) still gets the Go runtime's timing-dependent calls.
func TestGoSignature(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	var out bytes.Buffer
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: []string{"/bin/sh", "-c", "exec " + target + " normal"}, Stdout: &out, Stderr: &out},
		Reduce:   reducer.Options{Runtime: RuntimeAuto},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	found := false
	for _, s := range res.Profile.Syscalls {
		if strings.HasPrefix(s.Reason, "go runtime") {
			found = true
		}
	}
	if !found {
		t.Errorf("profile of a Go program started by sh has no Go runtime entries:\n%s", profiles.Format(res.Profile))
	}
}

// TestRecordPhases: Record tracks phases by default, with the rule
// ServingAfter gives, and not under PhasesOff: the recording carries
// the rule, and target serve's getpriority (after its first blocking
// wait) and getppid (before its listen) are in the phase it says.
func TestRecordPhases(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	def := profiles.DefaultTransition()
	for _, tc := range []struct {
		name         string
		phases       string
		servingAfter []string
		want         *profiles.Transition
		getppid      profiles.Phase
		getpriority  profiles.Phase
	}{
		{"default", "", nil, &def, profiles.PhaseInit, profiles.PhaseServing},
		{"serving after getppid", PhasesDoors, []string{"getppid"}, &profiles.Transition{After: []string{"getppid"}}, profiles.PhaseServing, profiles.PhaseServing},
		{"off", PhasesOff, nil, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := Record(context.Background(), RecordOptions{
				Recorder: recorder.Options{Command: []string{target, "serve"}, Stdout: &out, Stderr: &out, MaxKeys: recorder.DefaultMaxKeys},
				Reduce:   reducer.Options{Runtime: RuntimeAuto},
				Output:   filepath.Join(t.TempDir(), "p.json"),
				Phases:   tc.phases, ServingAfter: tc.servingAfter,
			})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.Bytes())
			}
			rec := res.Recording
			if (rec.Transition == nil) != (tc.want == nil) || tc.want != nil && !rec.Transition.Equal(*tc.want) {
				t.Errorf("recording's transition %+v, want %+v", rec.Transition, tc.want)
			}
			got := map[string]profiles.Phase{}
			for _, s := range rec.Samples {
				if s.Name == "getppid" || s.Name == "getpriority" {
					got[s.Name] = s.Phase
				}
			}
			if got["getppid"] != tc.getppid || got["getpriority"] != tc.getpriority {
				t.Errorf("getppid in %q, getpriority in %q; want %q, %q", got["getppid"], got["getpriority"], tc.getppid, tc.getpriority)
			}
		})
	}
}
