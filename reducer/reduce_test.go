package reducer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

var x86, _ = linuxabi.LookupArch("x86_64")

// sample builds a sample of syscall name with recorded args.
func sample(name string, count uint64, args map[int]uint64) profiles.Sample {
	n, ok := x86.Number(name)
	if !ok {
		panic(name)
	}
	s := profiles.Sample{Nr: n, Name: name, Count: count, Exe: "app"}
	for _, spec := range policy.RecordedArgs(name) {
		s.Recorded[spec.Index] = true
	}
	for i, v := range args {
		s.Args[i] = v
	}
	return s
}

func rec(samples ...profiles.Sample) *profiles.Recording {
	return &profiles.Recording{Arch: "x86_64", Command: []string{"app"}, Samples: samples, Duration: time.Second}
}

func entry(t *testing.T, p *profiles.Profile, name string) profiles.Syscall {
	t.Helper()
	for _, s := range p.Syscalls {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no %s in profile", name)
	return profiles.Syscall{}
}

func TestGeneralise(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []profiles.Sample
		opts    Options
		check   string // the syscall to look at
		want    string // its entry, in FormatCall form
	}{
		{"enum: exact value set", []profiles.Sample{
			sample("socket", 1, map[int]uint64{0: 2, 1: 1}), sample("socket", 1, map[int]uint64{0: 1, 1: 2})},
			Options{}, "socket", "socket(domain ∈ {AF_UNIX, AF_INET}, type ∈ {SOCK_STREAM, SOCK_DGRAM}, protocol == 0)"},
		{"flags: only bits seen", []profiles.Sample{
			sample("mmap", 3, map[int]uint64{2: 1, 3: 0x22}), sample("mmap", 1, map[int]uint64{2: 3, 3: 0x22})},
			Options{}, "mmap", "mmap(prot ⊆ PROT_READ|PROT_WRITE, flags ⊆ MAP_ANONYMOUS|MAP_PRIVATE)"},
		{"flags with record mask: unrecorded bits stay free", []profiles.Sample{
			sample("openat", 1, map[int]uint64{2: 0}), sample("openat", 1, map[int]uint64{2: 0x241})},
			Options{}, "openat", "openat(flags ⊆ O_CREAT|O_TRUNC|O_WRONLY (+ unrecorded bits), mode ⊆ ~(S_ISGID|S_ISUID))"},
		{"too many values: dropped with a note", func() []profiles.Sample {
			var s []profiles.Sample
			for sig := range uint64(20) {
				s = append(s, sample("rt_sigaction", 1, map[int]uint64{0: sig}))
			}
			return s
		}(), Options{}, "rt_sigaction", "rt_sigaction"},
		{"args none", []profiles.Sample{sample("socket", 1, map[int]uint64{0: 2, 1: 1})}, Options{Args: ArgsNone}, "socket", "socket"},
		{"fd and pointer never constrained", []profiles.Sample{sample("read", 5, nil)}, Options{}, "read", "read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Reduce([]*profiles.Recording{rec(tc.samples...)}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := profiles.FormatCall(entry(t, p, tc.check)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestTooManyValuesNote(t *testing.T) {
	var s []profiles.Sample
	for sig := range uint64(20) {
		s = append(s, sample("rt_sigaction", 1, map[int]uint64{0: sig}))
	}
	p, err := Reduce([]*profiles.Recording{rec(s...)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "rt_sigaction"); !strings.Contains(e.Note, "20 distinct values") || e.Count != 20 {
		t.Errorf("entry %+v: want a note about 20 values and count 20", e)
	}
}

func TestBaseline(t *testing.T) {
	r := rec(sample("read", 1, nil))
	p, err := Reduce([]*profiles.Recording{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rt_sigreturn", "restart_syscall", "exit", "exit_group", "execve"} {
		if e := entry(t, p, name); e.Reason == "" {
			t.Errorf("baseline %s has no reason", name)
		}
	}
	p, err = Reduce([]*profiles.Recording{r}, Options{NoBaseline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Syscalls) != 1 {
		t.Errorf("NoBaseline: %d entries, want only read", len(p.Syscalls))
	}
}

func TestClone3ENOSYS(t *testing.T) {
	both := rec(sample("clone3", 1, nil), sample("clone", 1, map[int]uint64{0: 0x1200011}))
	p, err := Reduce([]*profiles.Recording{both}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActENOSYS || e.Reason == "" {
		t.Errorf("clone3: %+v, want errno:ENOSYS with a reason", e)
	}
	// glibc's pthread_create falls back to clone with thread flags.
	clone := entry(t, p, "clone")
	if len(clone.Args) != 1 || clone.Args[0].Mask&glibcThreadClone != glibcThreadClone {
		t.Errorf("clone not widened for glibc's fallback: %+v", clone)
	}
	only := rec(sample("clone3", 1, nil))
	p, err = Reduce([]*profiles.Recording{only}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActAllow {
		t.Errorf("clone3 without clone: %s, want allow (no fallback was seen)", e.EffectiveAction())
	}
	p, err = Reduce([]*profiles.Recording{both}, Options{KeepClone3: true})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActAllow {
		t.Errorf("KeepClone3: %s", e.EffectiveAction())
	}
}

func TestExeFilter(t *testing.T) {
	a, b := sample("read", 1, nil), sample("getpriority", 1, nil)
	b.Exe = "compile"
	a.Exe = "pkg.test"
	p, err := Reduce([]*profiles.Recording{rec(a, b)}, Options{Exe: "*.test", NoBaseline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Syscalls) != 1 || p.Syscalls[0].Name != "read" {
		t.Errorf("exe filter kept %+v", p.Syscalls)
	}
}

func TestGoRuntime(t *testing.T) {
	r := rec(sample("madvise", 1, map[int]uint64{2: 15}))
	p, err := Reduce([]*profiles.Recording{r}, Options{Runtime: RuntimeGo})
	if err != nil {
		t.Fatal(err)
	}
	got := profiles.FormatCall(entry(t, p, "madvise"))
	if !strings.Contains(got, "MADV_DONTNEED") || !strings.Contains(got, "MADV_NOHUGEPAGE") {
		t.Errorf("madvise not widened by the Go runtime set: %s", got)
	}
	entry(t, p, "sched_yield")
	if _, err := Reduce([]*profiles.Recording{r}, Options{Runtime: "java"}); err == nil {
		t.Error("unknown runtime accepted")
	}
}

func TestLostAndUnknown(t *testing.T) {
	r := rec(sample("read", 1, nil), profiles.Sample{Nr: 0x40000001, Count: 3})
	r.Lost = 7
	p, err := Reduce([]*profiles.Recording{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Recorded.Lost != 7 || p.Recorded.Unknown != 3 {
		t.Errorf("recorded %+v, want lost 7 and unknown 3", p.Recorded)
	}
}

// TestGolden pins the whole output, byte for byte (canonical form).
func TestGolden(t *testing.T) {
	r := rec(
		sample("socket", 2, map[int]uint64{0: 2, 1: 1}),
		sample("mmap", 9, map[int]uint64{2: 3, 3: 0x22}),
		sample("openat", 4, map[int]uint64{2: 0}),
		sample("read", 100, nil),
		sample("clone3", 1, nil), sample("clone", 1, map[int]uint64{0: 0x1200011}),
	)
	r.Samples[3].Errors = map[uint16]uint64{11: 2}
	p, err := Reduce([]*profiles.Recording{r, rec(sample("write", 5, nil))}, Options{Name: "golden"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/golden.json", got)
	again, _ := Reduce([]*profiles.Recording{r, rec(sample("write", 5, nil))}, Options{Name: "golden"})
	b, _ := again.Marshal()
	if !bytes.Equal(got, b) {
		t.Error("same input, different bytes")
	}
}

// BenchmarkReduce reduces 1M distinct keys (about 10M calls).
func BenchmarkReduce(b *testing.B) {
	var samples []profiles.Sample
	names := []string{"ioctl", "read", "mmap", "socket", "openat", "futex", "fcntl", "write"}
	for i := range 1_000_000 {
		s := sample(names[i%len(names)], 10, map[int]uint64{1: uint64(i % 5000), 2: uint64(i % 7), 3: uint64(i / 5000)})
		s.Exe = fmt.Sprint("exe", i%3)
		samples = append(samples, s)
	}
	r := rec(samples...)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Reduce([]*profiles.Recording{r}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSeen: each distinct tuple of recorded values is listed with its count.
func TestSeen(t *testing.T) {
	p, err := Reduce([]*profiles.Recording{rec(
		sample("socket", 3, map[int]uint64{0: 2, 1: 1}), sample("socket", 1, map[int]uint64{0: 1, 1: 2}), sample("socket", 2, map[int]uint64{0: 2, 1: 1}))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := entry(t, p, "socket").Seen
	want := map[string]uint64{"domain=AF_INET, type=SOCK_STREAM, protocol=0": 5, "domain=AF_UNIX, type=SOCK_DGRAM, protocol=0": 1}
	if len(got) != len(want) {
		t.Fatalf("seen %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("seen[%q] = %d, want %d", k, got[k], n)
		}
	}
}

// TestRuntimeCallsDoNotShiftFamilies: a timing-dependent call of the Go
// runtime (epoll_pwait) that one run made and the next did not must not
// change the profile: the runtime set counts as made for families and
// domains either way.
func TestRuntimeCallsDoNotShiftFamilies(t *testing.T) {
	for _, level := range []Level{LevelFamilies, LevelRelated} {
		base := []profiles.Sample{sample("read", 3, nil), sample("write", 2, nil), sample("exit_group", 1, nil)}
		with := rec(append(base, sample("epoll_pwait", 1, nil))...)
		without := rec(base...)
		reachable := map[string]string{"epoll_wait": "x", "poll": "x", "ppoll": "x", "select": "x", "pselect6": "x", "epoll_pwait2": "x"}
		names := func(r *profiles.Recording) []string {
			p, err := Reduce([]*profiles.Recording{r}, Options{Runtime: RuntimeGo, Level: level, Reachable: reachable})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range p.Syscalls {
				if s.EffectiveAction().Allows() {
					out = append(out, s.Name)
				}
			}
			return out
		}
		a, b := names(with), names(without)
		if strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%s: with epoll_pwait recorded %v\nwithout %v", level, a, b)
		}
	}
}

// TestThreadsOnly: unless a run created a process, clone may start
// threads (CLONE_VM|CLONE_THREAD) but not processes, at every level and
// through glibc's clone3 fallback; a run that forked keeps fork.
func TestThreadsOnly(t *testing.T) {
	const (
		thread = glibcThreadClone                 // pthread_create
		goThr  = 0x50f00                          // the Go runtime's threads
		fork   = 0x1200011                        // glibc's fork
		spawn  = linuxabi.CloneVM | 0x4000 | 0x11 // posix_spawn: CLONE_VM|CLONE_VFORK|SIGCHLD
	)
	x86, _ := linuxabi.LookupArch("x86_64")
	cloneNr, _ := x86.Number("clone")
	decide := func(p *profiles.Profile, flags uint64) bool {
		return p.Decide(linuxabi.SeccompData{Nr: int32(cloneNr), Arch: x86.Audit, Args: [6]uint64{flags}}, profiles.PhaseServing).Allows()
	}
	execs := func(n uint64) profiles.Sample { return sample("execve", n, nil) }
	for _, tc := range []struct {
		name    string
		samples []profiles.Sample
		runtime string
		created bool
	}{
		{"threads", []profiles.Sample{sample("clone", 2, map[int]uint64{0: thread})}, RuntimeGlibcThreads, false},
		{"go threads", []profiles.Sample{sample("clone", 2, map[int]uint64{0: goThr})}, RuntimeGo, false},
		{"clone3 threads, one process", []profiles.Sample{sample("clone3", 2, nil), execs(1), sample("exit_group", 1, nil)}, RuntimeGlibcThreads, false},
		{"no clone, glibc threads runtime", []profiles.Sample{sample("read", 1, nil)}, RuntimeGlibcThreads, false},
		{"fork", []profiles.Sample{sample("clone", 1, map[int]uint64{0: fork}), sample("clone", 1, map[int]uint64{0: thread})}, RuntimeGlibcThreads, true},
		{"vfork", []profiles.Sample{sample("vfork", 1, nil), sample("clone", 1, map[int]uint64{0: thread})}, RuntimeGlibcThreads, true},
		{"clone3 spawn, child execs", []profiles.Sample{sample("clone3", 1, nil), execs(2)}, RuntimeGlibcThreads, true},
		{"clone3 spawn, parent waits", []profiles.Sample{sample("clone3", 1, nil), execs(1), sample("wait4", 1, nil)}, RuntimeGlibcThreads, true},
	} {
		for _, level := range Levels {
			t.Run(tc.name+"/"+string(level), func(t *testing.T) {
				opts := Options{Level: level, Runtime: tc.runtime}
				if level.NeedsReachable() {
					opts.Reachable = map[string]string{"clone": "clone@libc.so.6", "fork": "fork@libc.so.6", "vfork": "vfork@libc.so.6"}
				}
				p, err := Reduce([]*profiles.Recording{rec(tc.samples...)}, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !decide(p, thread) && tc.runtime != RuntimeGo || tc.runtime == RuntimeGo && !decide(p, goThr) {
					t.Errorf("threads refused: %s", profiles.FormatCall(entry(t, p, "clone")))
				}
				for _, f := range []uint64{fork, spawn, 0, 0x11} {
					if got := decide(p, f); got != tc.created {
						t.Errorf("clone(%#x) allowed %v, want %v: %s", f, got, tc.created, profiles.FormatCall(entry(t, p, "clone")))
					}
				}
				if decide(p, thread|0x10000000) {
					t.Errorf("clone(CLONE_NEWUSER) allowed")
				}
				if !tc.created && (has(p, "fork") || has(p, "vfork")) {
					t.Errorf("fork or vfork allowed: %v", p.Syscalls)
				}
				// A merge with the same profile keeps the rule whole.
				m, err := profiles.Merge(p, p)
				if err != nil {
					t.Fatal(err)
				}
				if decide(m, fork) != tc.created || decide(m, thread|0x10000000) {
					t.Errorf("merged: %s", profiles.FormatCall(entry(t, m, "clone")))
				}
			})
		}
	}
}

// TestCompatSamples: calls recorded through i386 become i386 entries,
// exact at every level, with the i386 baseline; the native entries name
// x86_64, so that neither applies to the other's numbers (i386 dup is
// x86_64 socket's 41). A recording without i386 calls names no arch in
// its entries.
func TestCompatSamples(t *testing.T) {
	i386, _ := linuxabi.LookupArch("i386")
	compat := func(name string, args map[int]uint64) profiles.Sample {
		n, _ := i386.Number(name)
		s := profiles.Sample{Arch: "i386", Nr: n, Name: name, Count: 1, Exe: "app", Errors: map[uint16]uint64{9: 1}}
		for _, spec := range policy.RecordedArgsOn(i386, name) {
			s.Recorded[spec.Index] = true
		}
		for i, v := range args {
			s.Args[i] = v
		}
		return s
	}
	for _, level := range Levels {
		opts := Options{Level: level, Reachable: map[string]string{"openat": "x"}}
		p, err := Reduce([]*profiles.Recording{rec(sample("openat", 1, map[int]uint64{2: 0}),
			compat("dup", nil), compat("mmap", nil), compat("getrlimit", map[int]uint64{0: 7}))}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(p.Arch, ","); got != "i386,x86_64" {
			t.Errorf("%s: arch %s, want i386,x86_64", level, got)
		}
		var i386Keys []string
		for _, s := range p.Syscalls {
			switch {
			case s.Arch == "i386":
				i386Keys = append(i386Keys, profiles.FormatCall(s))
			case s.Arch != "x86_64":
				t.Errorf("%s: entry %s names no arch", level, profiles.FormatCall(s))
			case s.Name == "dup" || s.Name == "getrlimit":
				t.Errorf("%s: x86_64 entry %s from an i386 call", level, profiles.FormatCall(s))
			}
		}
		want := "i386:dup i386:exit i386:exit_group i386:getrlimit(resource == RLIMIT_NOFILE) i386:mmap i386:restart_syscall i386:rt_sigreturn i386:sigreturn"
		if got := strings.Join(i386Keys, " "); got != want {
			t.Errorf("%s: i386 entries\n%s\nwant\n%s", level, got, want)
		}
		if e := entry(t, p, "dup"); e.Errors["EBADF"] != 1 {
			t.Errorf("%s: i386 dup errors %v, want EBADF×1", level, e.Errors)
		}
	}
	p, err := Reduce([]*profiles.Recording{rec(sample("openat", 1, map[int]uint64{2: 0}))}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Syscalls {
		if s.Arch != "" {
			t.Errorf("native-only profile: entry %s names arch %s", s.Name, s.Arch)
		}
	}
}
