package reducer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// phasedSample is sample made by exe in phase.
func phasedSample(exe string, phase profiles.Phase, name string, count uint64, args map[int]uint64) profiles.Sample {
	s := sample(name, count, args)
	s.Exe, s.Phase = exe, phase
	return s
}

// serverRecording is a daemon as the recorder tags it: server opens its
// socket and forks in init, then serves; helper, a process that never
// served, only writes and renames.
func serverRecording() *profiles.Recording {
	const in, out = profiles.PhaseInit, profiles.PhaseServing
	r := rec(
		phasedSample("server", in, "execve", 1, nil),
		phasedSample("server", in, "openat", 3, map[int]uint64{2: 0}),
		phasedSample("server", in, "read", 3, nil),
		phasedSample("server", in, "mmap", 4, map[int]uint64{2: 3, 3: 0x22}),
		phasedSample("server", in, "futex", 1, map[int]uint64{1: 0x81}),
		phasedSample("server", in, "socket", 1, map[int]uint64{0: 2, 1: 1}),
		phasedSample("server", in, "bind", 1, nil),
		phasedSample("server", in, "listen", 1, nil),
		phasedSample("server", in, "clone", 1, map[int]uint64{0: 0x1200011}),
		phasedSample("server", in, "epoll_wait", 1, nil),
		phasedSample("server", out, "epoll_wait", 40, nil),
		phasedSample("server", out, "accept4", 20, nil),
		phasedSample("server", out, "read", 20, nil),
		phasedSample("server", out, "write", 20, nil),
		phasedSample("server", out, "close", 20, nil),
		phasedSample("helper", in, "write", 2, nil),
		phasedSample("helper", in, "rename", 1, nil),
	)
	t := profiles.DefaultTransition()
	r.Transition = &t
	return r
}

func phaseOf(t *testing.T, p *profiles.Profile, name string) profiles.Phase {
	t.Helper()
	return entry(t, p, name).Phase
}

func TestPhases(t *testing.T) {
	doors, err := Reduce([]*profiles.Recording{serverRecording()}, Options{Name: "server", Level: LevelFamilies, Runtime: RuntimeGlibc})
	if err != nil {
		t.Fatal(err)
	}
	all, err := Reduce([]*profiles.Recording{serverRecording()}, Options{Name: "server", Level: LevelFamilies, Runtime: RuntimeGlibc, Phases: PhasesAll})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		doors, all profiles.Phase
		why        string
	}{
		{"socket", profiles.PhaseInit, profiles.PhaseInit, "a door made in init only"},
		{"bind", profiles.PhaseInit, profiles.PhaseInit, "a door made in init only"},
		{"clone", profiles.PhaseInit, profiles.PhaseInit, "the fork of the workers, in init"},
		{"execve", profiles.PhaseInit, profiles.PhaseInit, "the exec that started it"},
		{"rename", profiles.PhaseAny, profiles.PhaseInit, "made by a process that never served; not a door"},
		{"renameat", profiles.PhaseAny, profiles.PhaseInit, "family of rename, which only init made; not a door"},
		{"open", profiles.PhaseAny, profiles.PhaseInit, "family of openat, which only init made; not a door"},
		{"read", profiles.PhaseAny, profiles.PhaseAny, "made in serving too"},
		{"pread64", profiles.PhaseAny, profiles.PhaseAny, "family of read, made in serving"},
		{"accept", profiles.PhaseAny, profiles.PhaseAny, "family of accept4, made in serving"},
		{"mmap", profiles.PhaseAny, profiles.PhaseAny, "policy: an allocator's, at any moment"},
		{"futex", profiles.PhaseAny, profiles.PhaseAny, "policy, and glibc's runtime set"},
		{"mremap", profiles.PhaseAny, profiles.PhaseAny, "glibc's runtime set"},
		{"rt_sigreturn", profiles.PhaseAny, profiles.PhaseAny, "baseline"},
	} {
		if got := phaseOf(t, doors, tc.name); got != tc.doors {
			t.Errorf("doors: %s: phase %q, want %q (%s)", tc.name, got, tc.doors, tc.why)
		}
		if got := phaseOf(t, all, tc.name); got != tc.all {
			t.Errorf("all: %s: phase %q, want %q (%s)", tc.name, got, tc.all, tc.why)
		}
	}
	p := doors
	if p.Phases == nil || !p.Phases.Transition.Equal(profiles.DefaultTransition()) || len(p.Phases.Executables) != 2 {
		t.Fatalf("phases section: %+v", p.Phases)
	}
	helper := p.Phases.Executables[0]
	if helper.Exe != "helper" || len(helper.Serving) != 0 || strings.Join(helper.Init, " ") != "rename write" {
		t.Errorf("helper's sets: %+v", helper)
	}
	if server := p.Phases.Executables[1]; strings.Join(server.Serving, " ") != "accept4 close epoll_wait read write" {
		t.Errorf("server's serving set: %+v", server)
	}
}

// TestPhasesBaselineExec: the baseline's execve, for a recording that
// did not see the exec, is the launcher's, made in init.
func TestPhasesBaselineExec(t *testing.T) {
	r := serverRecording()
	r.Samples = r.Samples[1:]
	p, err := Reduce([]*profiles.Recording{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := entry(t, p, "execve"); s.Phase != profiles.PhaseInit || !strings.HasPrefix(s.Reason, "baseline") {
		t.Errorf("execve: %+v", s)
	}
}

// TestNoServingNoPhases: a recording whose processes never served, or
// that tracked no phases, reduces to the profile it always did.
func TestNoServingNoPhases(t *testing.T) {
	r := serverRecording()
	var initOnly []profiles.Sample
	for _, s := range r.Samples {
		if s.Phase == profiles.PhaseInit {
			initOnly = append(initOnly, s)
		}
	}
	r.Samples = initOnly
	untracked := rec()
	for _, s := range initOnly {
		s.Phase = ""
		untracked.Samples = append(untracked.Samples, s)
	}
	for _, level := range Levels {
		opts := Options{Level: level, Reachable: map[string]string{"pread64": "libc"}}
		a, err := Reduce([]*profiles.Recording{r}, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Reduce([]*profiles.Recording{untracked}, opts)
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := a.Marshal()
		jb, _ := b.Marshal()
		if a.Phases != nil || !bytes.Equal(ja, jb) {
			t.Errorf("%s: a recording that never served gives another profile than one without phases:\n%s\n%s", level, ja, jb)
		}
	}
}

// TestPhasesRecordingsAgree: recordings tagged with different
// transitions cannot make one profile; a recording that tracked none
// makes its calls any-phase.
func TestPhasesRecordingsAgree(t *testing.T) {
	a, b := serverRecording(), serverRecording()
	b.Transition = &profiles.Transition{After: []string{"poll"}}
	if _, err := Reduce([]*profiles.Recording{a, b}, Options{}); err == nil || !strings.Contains(err.Error(), "different transitions") {
		t.Fatalf("Reduce: %v", err)
	}
	untracked := rec(sample("socket", 1, map[int]uint64{0: 2, 1: 1}))
	p, err := Reduce([]*profiles.Recording{a, untracked}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if phaseOf(t, p, "socket") != profiles.PhaseAny || phaseOf(t, p, "bind") != profiles.PhaseInit {
		t.Errorf("socket %q (a run without phases made it), bind %q", phaseOf(t, p, "socket"), phaseOf(t, p, "bind"))
	}
}

func TestPhasesGolden(t *testing.T) {
	p, err := Reduce([]*profiles.Recording{serverRecording()}, Options{Name: "phases", Level: LevelFamilies, Runtime: RuntimeGlibc})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/phases.json", got)
}
