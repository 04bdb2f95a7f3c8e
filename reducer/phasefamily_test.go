package reducer

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestPhasesFamilyKeepsInitValues: an entry's phase holds for every value
// it allows at the levels that pool a family's values too. A server that
// made fchmod(fd, 04755) (set-user-ID) at start-up and fchmod(fd, 0644)
// while serving must not be allowed the set-user-ID mode once it serves;
// nor openat's write flags only init used.
func TestPhasesFamilyKeepsInitValues(t *testing.T) {
	const in, out = profiles.PhaseInit, profiles.PhaseServing
	const oWrCreat, atFdCwd = 0x41, 0xffffffffffffff9c
	r := rec(
		phasedSample("server", in, "execve", 1, nil),
		phasedSample("server", in, "socket", 1, map[int]uint64{0: 2, 1: 1}),
		phasedSample("server", in, "listen", 1, nil),
		phasedSample("server", in, "fchmod", 1, map[int]uint64{1: 04755}),
		phasedSample("server", in, "openat", 1, map[int]uint64{2: oWrCreat}),
		phasedSample("server", out, "epoll_wait", 4, nil),
		phasedSample("server", out, "fchmod", 3, map[int]uint64{1: 0644}),
		phasedSample("server", out, "openat", 3, map[int]uint64{2: 0}),
	)
	tr := profiles.DefaultTransition()
	r.Transition = &tr
	type call struct {
		phase profiles.Phase
		name  string
		args  []uint64
		allow bool
	}
	calls := []call{
		{in, "fchmod", []uint64{3, 04755}, true},
		{out, "fchmod", []uint64{3, 0644}, true},
		{out, "fchmod", []uint64{3, 04755}, false},
		{in, "openat", []uint64{atFdCwd, 0, oWrCreat}, true},
		{out, "openat", []uint64{atFdCwd, 0, 0}, true},
		{out, "openat", []uint64{atFdCwd, 0, oWrCreat}, false},
	}
	for _, level := range []Level{LevelExact, LevelFamilies, LevelRelated} {
		for _, mode := range []string{"", PhasesAll} {
			p, err := Reduce([]*profiles.Recording{r}, Options{Name: "server", Level: level, Runtime: RuntimeNone, Phases: mode, Reachable: map[string]string{"fchmod": "libc", "openat": "libc", "socket": "libc"}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range calls {
				if c.name == "openat" && mode != PhasesAll {
					continue // no door
				}
				nr, _ := x86.Number(c.name)
				d := linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit}
				copy(d.Args[:], c.args)
				if a := p.Decide(d, c.phase); (a.Kind == profiles.Allow) != c.allow {
					t.Errorf("%s, phases %q: %s%#o in %s: %s, want allowed %v\n%s", level, mode, c.name, c.args, c.phase, a, c.allow, profiles.Format(p))
				}
			}
		}
	}
}

// TestPhasesExitsAreNoForks: the processes a server forked at start-up
// (a master's workers) that start threads while serving (glibc's
// pthread_create: clone3) and exit at the end of the recording make
// exit_group twice outside init. createdProcess(serving) counts that as
// a sign of a process made while serving, so the entry of clone for
// every phase loses CLONE_VM|CLONE_THREAD: a worker may fork once it
// serves though none did. Its exit is no fork.
func TestPhasesExitsAreNoForks(t *testing.T) {
	const in, out = profiles.PhaseInit, profiles.PhaseServing
	const fork = 0x1200011 // glibc's fork: CHILD_SETTID|CHILD_CLEARTID|SIGCHLD
	r := rec(
		phasedSample("server", in, "execve", 1, nil),
		phasedSample("server", in, "socket", 1, map[int]uint64{0: 2, 1: 1}),
		phasedSample("server", in, "listen", 1, nil),
		phasedSample("server", in, "clone", 2, map[int]uint64{0: fork}),
		phasedSample("server", out, "epoll_wait", 40, nil),
		phasedSample("server", out, "clone3", 8, nil),
		phasedSample("server", out, "exit_group", 2, nil),
	)
	tr := profiles.DefaultTransition()
	r.Transition = &tr
	nr, _ := x86.Number("clone")
	for _, level := range []Level{LevelExact, LevelFamilies, LevelRelated} {
		p, err := Reduce([]*profiles.Recording{r}, Options{Name: "server", Level: level, Runtime: RuntimeGlibcThreads,
			Reachable: map[string]string{"clone": "libc", "clone3": "libc", "socket": "libc"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			phase profiles.Phase
			flags uint64
			allow bool
		}{{in, fork, true}, {out, glibcThreadClone, true}, {out, fork, false}} {
			d := linuxabi.SeccompData{Nr: int32(nr), Arch: x86.Audit}
			d.Args[0] = c.flags
			if a := p.Decide(d, c.phase); (a.Kind == profiles.Allow) != c.allow {
				t.Errorf("%s: clone(%#x) in %s: %s, want allowed %v\n%s", level, c.flags, c.phase, a, c.allow, profiles.Format(p))
			}
		}
	}
}
