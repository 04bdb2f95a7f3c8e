package reducer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
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

// TestPhasedFragment: with Phased (a check fragment of a profile with
// phases), a recording whose calls were all made in init keeps them init
// entries, so merged into the profile they do not become entries for
// every phase (the second review: a start-up socket(AF_INET) merged from
// a fragment was allowed in serving).
func TestPhasedFragment(t *testing.T) {
	r := serverRecording()
	var initOnly []profiles.Sample
	for _, s := range r.Samples {
		if s.Phase == profiles.PhaseInit {
			initOnly = append(initOnly, s)
		}
	}
	r.Samples = initOnly
	frag, err := Reduce([]*profiles.Recording{r}, Options{NoBaseline: true, Phased: true})
	if err != nil {
		t.Fatal(err)
	}
	if frag.Phases == nil || phaseOf(t, frag, "socket") != profiles.PhaseInit {
		t.Fatalf("fragment: phases %+v, socket %q", frag.Phases, phaseOf(t, frag, "socket"))
	}
	base, err := Reduce([]*profiles.Recording{serverRecording()}, Options{NoBaseline: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := profiles.Merge(base, frag)
	if err != nil {
		t.Fatal(err)
	}
	if got := phaseOf(t, m, "socket"); got != profiles.PhaseInit {
		t.Errorf("merged: socket %q, want init", got)
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

// TestPhasesPerValue: an entry's phase holds for every value it allows.
// A door serving made with some values keeps the values only init made
// for init (socket's AF_INET of the listener beside serving's AF_UNIX),
// clone's entries for every phase start threads only unless a process
// was created while serving, and a runtime that starts threads on its
// own keeps its thread start (and clone3, when its threads start with
// it) for every phase.
func TestPhasesPerValue(t *testing.T) {
	const in, out = profiles.PhaseInit, profiles.PhaseServing
	const (
		afUnix, afInet, stream = 1, 2, 1
		fork                   = 0x1200011 // glibc's fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
		thread                 = glibcThreadClone
		goThread               = 0x50f00 // the Go runtime's newosproc
	)
	server := func(ss ...profiles.Sample) []profiles.Sample {
		return append([]profiles.Sample{
			phasedSample("server", in, "execve", 1, nil),
			phasedSample("server", in, "socket", 1, map[int]uint64{0: afInet, 1: stream}),
			phasedSample("server", in, "listen", 1, nil),
			phasedSample("server", out, "epoll_wait", 4, nil),
		}, ss...)
	}
	type call struct {
		phase profiles.Phase
		name  string
		args  []uint64
		allow bool
	}
	for _, tc := range []struct {
		name    string
		runtime string
		samples []profiles.Sample
		calls   []call
	}{
		{"init socket family stays init", RuntimeNone, server(phasedSample("server", out, "socket", 3, map[int]uint64{0: afUnix, 1: stream})),
			[]call{{in, "socket", []uint64{afInet, stream}, true}, {out, "socket", []uint64{afUnix, stream}, true},
				{out, "socket", []uint64{afInet, stream}, false}}},
		{"fork in init, threads in serving", RuntimeGlibcThreads, server(
			phasedSample("server", in, "clone", 1, map[int]uint64{0: fork}),
			phasedSample("server", in, "clone", 2, map[int]uint64{0: thread}),
			phasedSample("server", out, "clone", 2, map[int]uint64{0: thread})),
			[]call{{in, "clone", []uint64{fork}, true}, {out, "clone", []uint64{thread}, true}, {out, "clone", []uint64{fork}, false}}},
		{"fork in serving", RuntimeNone, server(
			phasedSample("server", in, "clone", 2, map[int]uint64{0: thread}),
			phasedSample("server", out, "clone", 1, map[int]uint64{0: fork})),
			[]call{{out, "clone", []uint64{fork}, true}}},
		{"go: fork and threads in init", RuntimeGo, server(
			phasedSample("server", in, "clone", 1, map[int]uint64{0: 17}),
			phasedSample("server", in, "clone", 4, map[int]uint64{0: goThread})),
			[]call{{in, "clone", []uint64{17}, true}, {out, "clone", []uint64{goThread}, true}, {out, "clone", []uint64{17}, false}}},
		{"cgo: threads through clone3 in init", RuntimeGo, server(phasedSample("server", in, "clone3", 4, nil)),
			[]call{{out, "clone3", nil, true}}},
		{"cgo: fork in init, threads through clone3", RuntimeGo, server(
			phasedSample("server", in, "clone", 1, map[int]uint64{0: 17}),
			phasedSample("server", in, "clone3", 4, nil)),
			[]call{{in, "clone", []uint64{17}, true}, {out, "clone", []uint64{thread}, true}, {out, "clone", []uint64{17}, false}}},
		{"no runtime threads: clone3 of init", RuntimeNone, server(phasedSample("server", in, "clone3", 4, nil)),
			[]call{{in, "clone3", nil, true}, {out, "clone3", nil, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rec(tc.samples...)
			tr := profiles.DefaultTransition()
			r.Transition = &tr
			reach := map[string]string{"socket": "libc", "socketpair": "libc", "clone": "libc", "clone3": "libc", "fork": "libc", "vfork": "libc"}
			for _, level := range []Level{LevelExact, LevelFamilies, LevelRelated} {
				p, err := Reduce([]*profiles.Recording{r}, Options{Name: "server", Level: level, Runtime: tc.runtime, Reachable: reach})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range tc.calls {
					nr, _ := x86.Number(c.name)
					d := linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit}
					copy(d.Args[:], c.args)
					if a := p.Decide(d, c.phase); (a.Kind == profiles.Allow) != c.allow {
						t.Errorf("%s: %s%#x in %s: %s, want allowed %v\n%s", level, c.name, c.args, c.phase, a, c.allow, profiles.Format(p))
					}
				}
			}
		})
	}
}
