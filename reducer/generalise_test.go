package reducer

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

func has(p *profiles.Profile, name string) bool {
	for _, s := range p.Syscalls {
		if s.Name == name {
			return true
		}
	}
	return false
}

// TestFamiliesLevel: what LevelFamilies makes of one recording.
func TestFamiliesLevel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []profiles.Sample
		check   string
		want    string // FormatCall of the entry
		reason  string // a substring of its reason ("" for a seen entry)
	}{
		{"harmless argument: recorded, not constrained", []profiles.Sample{sample("lseek", 2, map[int]uint64{2: 0})},
			"lseek", "lseek", ""},
		{"signals are harmless", []profiles.Sample{sample("rt_sigaction", 2, map[int]uint64{0: 2})},
			"rt_sigaction", "rt_sigaction", ""},
		{"futex: the non-PI class", []profiles.Sample{sample("futex", 2, map[int]uint64{1: 0})},
			"futex", "futex(op ∈ {FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET})", ""},
		{"futex: a PI op seen stays, no other is added", []profiles.Sample{sample("futex", 2, map[int]uint64{1: 6})},
			"futex", "futex(op ∈ {FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, FUTEX_LOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET})", ""},
		{"openat read-only: no write bits", []profiles.Sample{sample("openat", 2, map[int]uint64{2: 0})},
			"openat", "openat(flags ⊆ O_EXCL|O_PATH (+ unrecorded bits), mode ⊆ ~(S_ISGID|S_ISUID))", ""},
		{"openat writing: both write modes, append, truncate", []profiles.Sample{sample("openat", 2, map[int]uint64{2: 0x1})},
			"openat", "openat(flags ⊆ ~(O_CREAT|O_TMPFILE), mode ⊆ ~(S_ISGID|S_ISUID))", ""},
		{"open joins the family of openat, with its rule", []profiles.Sample{sample("openat", 2, map[int]uint64{2: 0x1})},
			"open", "open(flags ⊆ ~(O_CREAT|O_TMPFILE), mode ⊆ ~(S_ISGID|S_ISUID))", "family open: a variant of openat"},
		{"fdatasync joins fsync", []profiles.Sample{sample("fsync", 1, nil)},
			"fdatasync", "fdatasync", "family sync: a variant of fsync"},
		{"renameat2 joins rename", []profiles.Sample{sample("rename", 1, nil)},
			"renameat2", "renameat2", "family rename"},
		{"W^X: combinations, not their union", []profiles.Sample{
			sample("mmap", 3, map[int]uint64{2: 5, 3: 0x2}), sample("mmap", 3, map[int]uint64{2: 3, 3: 0x22})},
			"mmap", "mmap(prot & 0x7 ∈ {PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ|PROT_WRITE, PROT_EXEC|PROT_READ})", ""},
		{"clone: no namespace flags", []profiles.Sample{sample("clone", 1, map[int]uint64{0: 0x1200011})},
			"clone", "clone(flags ⊆ ~(CLONE_NEWCGROUP|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWUTS))", ""},
		{"socket: only what was seen", []profiles.Sample{sample("socket", 1, map[int]uint64{0: 2, 1: 1})},
			"socket", "socket(domain == AF_INET, type == SOCK_STREAM, protocol == 0)", ""},
		{"ioctl: tty queries and what was seen", []profiles.Sample{sample("ioctl", 1, map[int]uint64{1: 0x40049409})},
			"ioctl", "ioctl(request ∈ {FIGETBSZ, TCGETS, TIOCGPGRP, TIOCOUTQ, TIOCGWINSZ, FIONREAD, FIONBIO, TIOCGETD, TIOCGSID, FIONCLEX, FIOCLEX, FICLONE, TIOCGPTN, FS_IOC_GETFLAGS, TCGETS2})", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Reduce([]*profiles.Recording{rec(tc.samples...)}, Options{Level: LevelFamilies})
			if err != nil {
				t.Fatal(err)
			}
			e := entry(t, p, tc.check)
			if got := profiles.FormatCall(e); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if tc.reason == "" && e.Reason != "" || !strings.Contains(e.Reason, tc.reason) {
				t.Errorf("reason %q, want %q", e.Reason, tc.reason)
			}
		})
	}
}

// TestLevelsNeverAddSensitive: whatever was seen, the entries a level
// adds (no run made them) are ordinary and carry a reason, and the
// entries seen are never widened to a higher tier than exact gives them.
func TestLevelsNeverAddSensitive(t *testing.T) {
	reachable := map[string]string{}
	for _, n := range x86.Syscalls() {
		reachable[n] = n + "@libc.so.6"
	}
	var samples []profiles.Sample
	for _, f := range policy.Families() {
		if _, ok := x86.Number(f.Members[0]); ok {
			samples = append(samples, sample(f.Members[0], 1, nil))
		}
	}
	samples = append(samples,
		sample("socket", 1, map[int]uint64{0: 1, 1: 1}), sample("clone", 1, map[int]uint64{0: 0x3d0f00}),
		sample("mmap", 1, map[int]uint64{2: 5}), sample("ioctl", 1, map[int]uint64{1: 0x5401}),
		sample("setuid", 1, nil), sample("execve", 1, nil))
	exact, err := Reduce([]*profiles.Recording{rec(samples...)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []Level{LevelFamilies, LevelRelated, LevelReachable} {
		for _, rt := range []string{RuntimeNone, RuntimeGlibcThreads, RuntimePython, RuntimeGo} {
			p, err := Reduce([]*profiles.Recording{rec(samples...)}, Options{Level: level, Reachable: reachable, Runtime: rt})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Syscalls {
				tier, why := profiles.EntryTier(s)
				if !s.EffectiveAction().Allows() {
					continue
				}
				if s.Count == 0 && (tier != policy.Ordinary || s.Reason == "") {
					t.Errorf("%s/%s: added %s is %s (%s), reason %q", level, rt, profiles.FormatCall(s), tier, why, s.Reason)
				}
				if s.Count > 0 {
					et, _ := profiles.EntryTier(entry(t, exact, s.Name))
					if tier > et {
						t.Errorf("%s/%s: %s is %s, exact gives %s", level, rt, profiles.FormatCall(s), tier, et)
					}
				}
			}
			if level.NeedsReachable() && len(p.NotAllowed) == 0 {
				t.Errorf("%s: every syscall reachable, none withheld", rt)
			}
		}
	}
}

func TestReachableLevel(t *testing.T) {
	reachable := map[string]string{
		"fdatasync":  "fdatasync@libc.so.6 ← 0x4f2a0@libsqlite3.so.0",
		"ptrace":     "ptrace@libc.so.6",
		"socket":     "socket@libc.so.6",
		"setsockopt": "setsockopt@libc.so.6",
		"clone":      "clone@libc.so.6",
		"mprotect":   "mprotect@libc.so.6",
		"setuid":     "setuid@libc.so.6",
		"read":       "read@libc.so.6",
		"vfork":      "vfork@libc.so.6",
	}
	if _, err := Reduce([]*profiles.Recording{rec(sample("read", 1, nil))}, Options{Level: LevelReachable}); err == nil {
		t.Fatal("reachable level without a reachable set accepted")
	}
	p, err := Reduce([]*profiles.Recording{rec(sample("read", 1, nil))}, Options{Level: LevelReachable, Reachable: reachable})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, reason string }{
		{"fdatasync", "fdatasync", "reachable via fdatasync@libc.so.6 ← 0x4f2a0@libsqlite3.so.0"},
		// No run created a process: threads only.
		{"clone", "clone(flags ⊇ CLONE_THREAD|CLONE_VM, flags ⊆ ~(CLONE_NEWCGROUP|CLONE_NEWIPC|CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWUTS))", "reachable via clone@libc.so.6"},
		{"mprotect", "mprotect(prot & 0x7 ∈ {PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ|PROT_WRITE})", "reachable via"},
		{"read", "read", ""},
	} {
		e := entry(t, p, tc.name)
		if got := profiles.FormatCall(e); got != tc.want || !strings.HasPrefix(e.Reason, tc.reason) || (tc.reason == "") != (e.Reason == "") {
			t.Errorf("%s: %s (%q), want %s (%q)", tc.name, got, e.Reason, tc.want, tc.reason)
		}
	}
	withheld := map[string]profiles.Withheld{}
	for _, w := range p.NotAllowed {
		withheld[w.Name] = w
	}
	for name, tier := range map[string]string{"ptrace": "critical", "setuid": "sensitive", "socket": "ordinary", "setsockopt": "ordinary", "vfork": "ordinary"} {
		w, ok := withheld[name]
		if !ok || w.Tier != tier || !strings.HasPrefix(w.Reason, "reachable via "+name+"@libc.so.6; ") {
			t.Errorf("%s: withheld %+v, want tier %s", name, w, tier)
		}
		if has(p, name) {
			t.Errorf("%s is allowed", name)
		}
	}
	if !strings.HasSuffix(withheld["vfork"].Reason, "creates a process, and no run did") {
		t.Errorf("vfork's reason: %s", withheld["vfork"].Reason)
	}
	if !strings.Contains(withheld["socket"].Reason, "no safe class for its domain, type, protocol") {
		t.Errorf("socket's reason: %s", withheld["socket"].Reason)
	}
}

// TestRelatedLevel: static analysis picks, among the family members and
// domain neighbours of what ran, those the binary can reach.
func TestRelatedLevel(t *testing.T) {
	reachable := map[string]string{
		"readlink":  "readlink@libc.so.6 ← copy_internal@cp",
		"fdatasync": "fdatasync@libc.so.6 ← 0x4f2a0@libsqlite3.so.0",
		"lstat":     "lstat@libc.so.6",
		"chmod":     "chmod@libc.so.6",
		"mremap":    "mremap@libc.so.6",
		"socket":    "socket@libc.so.6",
		"ptrace":    "ptrace@libc.so.6",
		"open":      "open@libc.so.6",
	}
	r := rec(sample("newfstatat", 1, nil), sample("write", 1, nil), sample("openat", 1, map[int]uint64{2: 0}))
	if _, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelRelated}); err == nil {
		t.Fatal("related level without a reachable set accepted")
	}
	p, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelRelated, Reachable: reachable})
	if err != nil {
		t.Fatal(err)
	}
	for name, reason := range map[string]string{
		"readlink":  "domain metadata-read: related to newfstatat, which a run made; reachable via readlink@libc.so.6 ← copy_internal@cp",
		"fdatasync": "domain file-write: related to write, which a run made; reachable via fdatasync@libc.so.6",
		"lstat":     "family stat: a variant of newfstatat, which a run made; reachable via lstat@libc.so.6",
		"open":      "family open: a variant of openat, which a run made; reachable via open@libc.so.6",
	} {
		if e := entry(t, p, name); !strings.HasPrefix(e.Reason, reason) {
			t.Errorf("%s: reason %q, want %q", name, e.Reason, reason)
		}
	}
	if got := profiles.FormatCall(entry(t, p, "open")); got != "open(flags ⊆ O_EXCL|O_PATH (+ unrecorded bits), mode ⊆ ~(S_ISGID|S_ISUID))" {
		t.Errorf("open gets %s, want openat's rule", got)
	}
	for _, name := range []string{"chmod", "mremap", "socket", "ptrace", "stat", "pwrite64"} {
		if has(p, name) {
			t.Errorf("%s allowed: no run made anything of its domain, or it is not reachable, or not ordinary", name)
		}
	}
	if len(p.NotAllowed) != 1 || p.NotAllowed[0].Name != "ptrace" {
		t.Errorf("not_allowed %+v, want ptrace alone", p.NotAllowed)
	}
}

// TestGlibcRuntime: a glibc program with threads gets clone3 → ENOSYS
// and the calls of threads that a quiet run may not make.
func TestGlibcRuntime(t *testing.T) {
	r := rec(sample("clone3", 1, nil), sample("read", 1, nil))
	for _, tc := range []struct {
		level       Level
		futex, mmap string
	}{
		{LevelExact, "futex(op ∈ {FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET})",
			"mmap(prot ⊆ PROT_READ|PROT_WRITE, flags ⊆ MAP_ANONYMOUS|MAP_NORESERVE|MAP_PRIVATE|MAP_STACK)"},
		{LevelFamilies, "futex(op ∈ {FUTEX_WAIT, FUTEX_WAKE, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET})",
			"mmap(prot & 0x7 ∈ {PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ|PROT_WRITE})"},
	} {
		p, err := Reduce([]*profiles.Recording{r}, Options{Level: tc.level, Runtime: RuntimeGlibcThreads})
		if err != nil {
			t.Fatal(err)
		}
		if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActENOSYS {
			t.Errorf("%s: clone3 %s, want errno:ENOSYS (glibc falls back to clone)", tc.level, e.EffectiveAction())
		}
		if e := entry(t, p, "clone"); e.Reason == "" || len(e.Args) != 1 {
			t.Errorf("%s: clone %s (%q)", tc.level, profiles.FormatCall(e), e.Reason)
		}
		for name, want := range map[string]string{"futex": tc.futex, "mmap": tc.mmap} {
			e := entry(t, p, name)
			if got := profiles.FormatCall(e); got != want || !strings.HasPrefix(e.Reason, "glibc") {
				t.Errorf("%s: %s (%q), want %s", tc.level, got, e.Reason, want)
			}
		}
		for _, name := range []string{"set_robust_list", "rseq", "madvise", "munmap", "mprotect"} {
			entry(t, p, name)
		}
	}
	// A glibc program without threads: clone3's fallback, nothing more.
	p, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelFamilies, Runtime: RuntimeGlibc})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActENOSYS || has(p, "set_robust_list") || !has(p, "futex") {
		t.Errorf("glibc without threads: clone3 %s, set_robust_list %v, futex %v", e.EffectiveAction(), has(p, "set_robust_list"), has(p, "futex"))
	}
	entry(t, p, "clone")
	// Without the runtime, clone3 alone stays allowed: nothing says the
	// program falls back.
	p, err = Reduce([]*profiles.Recording{r}, Options{Level: LevelFamilies})
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActAllow {
		t.Errorf("clone3 without evidence of glibc: %s", e.EffectiveAction())
	}
}

// TestRuns: per entry, the recordings that made the call, and the
// Good–Turing estimate over them.
func TestRuns(t *testing.T) {
	recs := []*profiles.Recording{
		rec(sample("read", 1, nil), sample("write", 1, nil), sample("mkdir", 1, nil)),
		rec(sample("read", 2, nil), sample("write", 1, nil)),
		rec(sample("read", 1, nil), sample("fsync", 1, nil), sample("read", 1, nil)),
	}
	p, err := Reduce(recs, Options{NoBaseline: true})
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]int{"read": 3, "write": 2, "mkdir": 1, "fsync": 1} {
		if e := entry(t, p, name); e.Runs != k {
			t.Errorf("%s seen in %d runs, want %d", name, e.Runs, k)
		}
	}
	if c := p.Confidence; c == nil || c.Runs != 3 || c.SingleRun != 2 || c.Observed != 4 {
		t.Errorf("confidence %+v", c)
	}
	one, err := Reduce(recs[:1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if one.Confidence != nil || entry(t, one, "read").Runs != 0 {
		t.Error("a single recording writes runs or confidence (version 2 fields) it cannot inform")
	}
}

func TestLevelValidate(t *testing.T) {
	if err := (Options{Level: "loose"}).Validate(); err == nil || !strings.Contains(err.Error(), `level "loose"`) {
		t.Errorf("unknown level: %v", err)
	}
	if err := (Options{Runtime: RuntimePython}).Validate(); err != nil {
		t.Errorf("python runtime: %v", err)
	}
}

func TestRuntimeOf(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if got := RuntimeOf(self); got != RuntimeGo {
		t.Errorf("RuntimeOf(test binary) = %q, want go", got)
	}
	if got := RuntimeOf(filepath.Join(t.TempDir(), "missing")); got != RuntimeNone {
		t.Errorf("RuntimeOf(missing) = %q", got)
	}
	py := testenv.RequireTool(t, "python3")
	if real, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		py = strings.TrimSpace(string(real))
	}
	if got := RuntimeOf(py); got != RuntimePython {
		t.Errorf("RuntimeOf(%s) = %q, want python", py, got)
	}
	if got := RuntimeOf(testenv.RequireTool(t, "node")); got != RuntimeNode {
		t.Errorf("RuntimeOf(node) = %q, want node", got)
	}
}

// TestNodeRuntime: node's profile has glibc's thread calls and V8's
// sched_yield, which one run makes and the next may not, at every level.
func TestNodeRuntime(t *testing.T) {
	r := rec(sample("clone3", 1, nil), sample("read", 1, nil))
	for _, level := range Levels {
		p, err := Reduce([]*profiles.Recording{r}, Options{Level: level, Runtime: RuntimeNode, Reachable: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		if e := entry(t, p, "sched_yield"); !strings.HasPrefix(e.Reason, "node runtime") {
			t.Errorf("%s: sched_yield reason %q", level, e.Reason)
		}
		if e := entry(t, p, "clone3"); e.EffectiveAction() != profiles.ActENOSYS {
			t.Errorf("%s: clone3 %s, want errno:ENOSYS", level, e.EffectiveAction())
		}
		for _, n := range []string{"set_robust_list", "rseq", "futex", "dup"} {
			entry(t, p, n)
		}
	}
	p, err := Reduce([]*profiles.Recording{r}, Options{Runtime: RuntimeGlibcThreads})
	if err != nil {
		t.Fatal(err)
	}
	if has(p, "sched_yield") {
		t.Error("a glibc program that is not node gets sched_yield")
	}
}

// TestSendFlags: beside a network section the send calls may not set
// MSG_FASTOPEN (it connects without Landlock's connect check) unless a
// run did; without one their flags are free above the exact level.
func TestSendFlags(t *testing.T) {
	withFiles := func(r *profiles.Recording) *profiles.Recording {
		r.Files = []profiles.FileAccess{fa("/etc/hosts", 1, "read_file")}
		r.Ports = []profiles.PortAccess{{Port: 443, Access: 2, Count: 1}}
		return r
	}
	for _, tc := range []struct {
		name  string
		rec   *profiles.Recording
		level Level
		want  map[string]string // FormatCall by syscall
	}{
		{"network section", withFiles(rec(sample("sendto", 3, map[int]uint64{3: 0x4000}))), LevelFamilies, map[string]string{
			"sendto":   "sendto(flags ⊆ ~(MSG_FASTOPEN))",
			"sendmsg":  "sendmsg(flags ⊆ ~(MSG_FASTOPEN))",
			"sendmmsg": "sendmmsg(flags ⊆ ~(MSG_FASTOPEN))"}},
		{"fast open seen", withFiles(rec(sample("sendto", 1, map[int]uint64{3: linuxabi.MsgFastOpen}))), LevelFamilies, map[string]string{
			"sendto":  "sendto",
			"sendmsg": "sendmsg"}},
		{"exact", withFiles(rec(sample("sendto", 1, map[int]uint64{3: 0x4000}))), LevelExact, map[string]string{
			"sendto": "sendto(flags ⊆ MSG_NOSIGNAL)"}},
		{"no network section", rec(sample("sendto", 3, map[int]uint64{3: 0x4000})), LevelFamilies, map[string]string{
			"sendto":  "sendto",
			"sendmsg": "sendmsg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Reduce([]*profiles.Recording{tc.rec}, Options{Level: tc.level})
			if err != nil {
				t.Fatal(err)
			}
			if (p.Network != nil) != (tc.rec.Files != nil) {
				t.Fatalf("network section %v", p.Network)
			}
			for name, want := range tc.want {
				if got := profiles.FormatCall(entry(t, p, name)); got != want {
					t.Errorf("%s: got %s, want %s", name, got, want)
				}
			}
			if tc.rec.Files == nil && !strings.Contains(entry(t, p, "sendto").Note, "MSG_FASTOPEN matters only beside a network section") {
				t.Errorf("sendto note %q", entry(t, p, "sendto").Note)
			}
		})
	}
}

// TestGlibcErrorPath: a glibc program recorded on an input that worked
// may still print why it failed on the next one: perror's dup of stderr,
// F_GETFL on the copy and its close are in every glibc runtime's set, at
// every level; no other fcntl command comes with them at exact.
func TestGlibcErrorPath(t *testing.T) {
	r := rec(sample("read", 1, nil), sample("write", 1, nil))
	for _, rt := range []string{RuntimeGlibc, RuntimeGlibcThreads, RuntimePython, RuntimeNode} {
		for _, level := range []Level{LevelExact, LevelFamilies} {
			p, err := Reduce([]*profiles.Recording{r}, Options{Level: level, Runtime: rt})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"dup", "fcntl", "close"} {
				if e := entry(t, p, name); !strings.HasPrefix(e.Reason, "glibc perror") {
					t.Errorf("%s/%s: %s reason %q", rt, level, name, e.Reason)
				}
			}
			f := entry(t, p, "fcntl")
			if got := profiles.FormatCall(f); level == LevelExact && got != "fcntl(cmd == F_GETFL)" {
				t.Errorf("%s/%s: %s, want F_GETFL alone", rt, level, got)
			}
			for _, cmd := range []uint64{3, 8 /* F_SETOWN */} {
				if allowed := f.Args[0].Match(cmd, 32); allowed != (cmd == 3) {
					t.Errorf("%s/%s: fcntl cmd %d allowed %v", rt, level, cmd, allowed)
				}
			}
		}
	}
	p, err := Reduce([]*profiles.Recording{r}, Options{Runtime: RuntimeGo})
	if err != nil {
		t.Fatal(err)
	}
	if has(p, "dup") || has(p, "fcntl") {
		t.Error("a Go program gets glibc's error path")
	}
}

// TestJobs: at LevelRelated a run that showed a job gets the rest of it
// where the binary can reach it (policy.Jobs): a writer may rename,
// remove, chmod and set the times of what it writes; a writer that read
// extended attributes copies them and the owner. A read-only run gets no
// write, and opening and inspecting files does not list directories.
func TestJobs(t *testing.T) {
	all := map[string]string{}
	for _, n := range []string{"rename", "renameat", "renameat2", "unlink", "unlinkat", "fchmod", "chmod", "utimensat",
		"umask", "getpid", "fsetxattr", "setxattr", "fremovexattr", "fchown", "fchownat", "getdents64", "ptrace", "mount"} {
		all[n] = n + "@libc.so.6"
	}
	const (
		rdonly = 0
		trunc  = 0x241 // O_WRONLY|O_CREAT|O_TRUNC: sort -o, sed -i, patch
		logApp = 0x441 // O_WRONLY|O_CREAT|O_APPEND: a server's log
	)
	write := []string{"rename", "renameat", "unlinkat", "fchmod", "utimensat", "umask", "getpid", "getdents64"}
	attrs := []string{"fsetxattr", "setxattr", "fchown", "fchownat"}
	for _, tc := range []struct {
		name      string
		samples   []profiles.Sample
		reachable map[string]string
		want, not []string
	}{
		{"in-place edit", []profiles.Sample{sample("openat", 1, map[int]uint64{2: trunc}), sample("write", 1, nil), sample("fstat", 1, nil)},
			all, write, append(slices.Clone(attrs), "ptrace", "mount")},
		{"server log", []profiles.Sample{sample("openat", 1, map[int]uint64{2: logApp}), sample("newfstatat", 1, nil)},
			all, []string{"renameat", "unlinkat"}, attrs},
		{"read-only", []profiles.Sample{sample("openat", 1, map[int]uint64{2: rdonly}), sample("read", 1, nil), sample("fstat", 1, nil)},
			all, nil, append(slices.Clone(write), append(slices.Clone(attrs), "getdents64")...)},
		{"attribute-preserving copy", []profiles.Sample{sample("openat", 2, map[int]uint64{2: trunc}), sample("flistxattr", 1, nil), sample("fgetxattr", 1, nil)},
			all, append(slices.Clone(write), attrs...), []string{"ptrace"}},
		{"attributes read, nothing written", []profiles.Sample{sample("openat", 1, map[int]uint64{2: rdonly}), sample("listxattr", 1, nil)},
			all, nil, append(slices.Clone(write), attrs...)},
		{"writer that cannot reach them", []profiles.Sample{sample("openat", 1, map[int]uint64{2: trunc}), sample("fstat", 1, nil)},
			map[string]string{"renameat": "renameat@libc.so.6"}, []string{"renameat"}, []string{"rename", "unlinkat", "fchmod", "getdents64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rec(tc.samples...)
			p, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelRelated, Reachable: tc.reachable})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.want {
				if e := entry(t, p, n); !strings.HasPrefix(e.Reason, "job ") || !strings.HasSuffix(e.Reason, "reachable via "+n+"@libc.so.6") {
					if f, _ := policy.FamilyOf(n); !strings.HasPrefix(e.Reason, "family "+f.Name) {
						t.Errorf("%s: reason %q", n, e.Reason)
					}
				}
			}
			for _, n := range tc.not {
				if has(p, n) {
					t.Errorf("%s allowed: %q", n, entry(t, p, n).Reason)
				}
			}
			// With files recorded, the copy of attributes reads libattr's
			// list of those not to copy; other jobs do not.
			withFiles := *r
			withFiles.Files = catFiles
			fp, err := Reduce([]*profiles.Recording{&withFiles}, Options{Level: LevelRelated, Reachable: tc.reachable})
			if err != nil {
				t.Fatal(err)
			}
			xattrConf := slices.ContainsFunc(fp.Filesystem.Rules, func(r profiles.PathRule) bool { return r.Path == "/etc/xattr.conf" })
			if want := slices.Contains(tc.want, "fsetxattr"); xattrConf != want {
				t.Errorf("/etc/xattr.conf readable: %v, want %v", xattrConf, want)
			}
			// A mode no run set may not make a set-ID file.
			if has(p, "fchmod") {
				if r := entry(t, p, "fchmod").Args; len(r) != 1 || r[0].Match(0o4755, 32) || !r[0].Match(0o644, 32) {
					t.Errorf("fchmod %s, want permission bits only", profiles.FormatCall(entry(t, p, "fchmod")))
				}
			}
			// Jobs belong to LevelRelated: the families level adds none.
			fam, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelFamilies})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"umask", "fchmod", "getdents64", "fsetxattr", "getpid"} {
				if has(fam, n) {
					t.Errorf("families level allows %s", n)
				}
			}
		})
	}
}

// TestReachableAllows: what check says of a refused call: the reachable
// level allows an ordinary call the binary can reach in its safe class,
// and nothing allows a write open or a sensitive call no run made.
func TestReachableAllows(t *testing.T) {
	reach := map[string]string{"unlink": "unlink@libc.so.6", "openat": "openat@libc.so.6", "ptrace": "ptrace@libc.so.6", "fchmod": "fchmod@libc.so.6"}
	for _, tc := range []struct {
		s   profiles.Sample
		ok  bool
		why string
	}{
		{sample("unlink", 1, nil), true, "reachable via unlink@libc.so.6"},
		{sample("rename", 1, nil), false, "cannot reach it"},
		{sample("ptrace", 1, nil), false, "critical"},
		{sample("openat", 1, map[int]uint64{2: 0}), true, "reachable via openat"},
		{sample("openat", 1, map[int]uint64{2: 0x241}), false, "its flags is outside the safe class"},
		{sample("fchmod", 1, map[int]uint64{1: 0o644}), true, "reachable via fchmod"},
		{sample("fchmod", 1, map[int]uint64{1: 0o4755}), false, "its mode is outside the safe class"},
	} {
		ok, why := ReachableAllows(tc.s, reach)
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %v %q, want %v %q", profiles.DescribeSample(tc.s), ok, why, tc.ok, tc.why)
		}
	}
}

// TestListing: at LevelRelated a program that may list a directory its
// command line names (a web root, a tree to walk, a directory named
// where a file was) gets getdents64 where it can reach it; one whose
// listing rights name no argument does not.
func TestListing(t *testing.T) {
	reachable := map[string]string{"getdents64": "getdents64@libc.so.6 ← opendir@libc.so.6", "openat": "x", "read": "x"}
	for _, tc := range []struct {
		name  string
		argv  []string
		files []profiles.FileAccess
		want  bool
	}{
		{"a web root it served files from", []string{"srv", "/w/www"}, []profiles.FileAccess{fa("/w/www/index.html", 1, "read_file"), fa("/w/www/a.css", 1, "read_file")}, true},
		// A file it names may be a directory next time (wc -c dir,
		// grep -r): $ARGS reads both.
		{"a file it names", []string{"tool", "in.txt"}, []profiles.FileAccess{fa("/w/in.txt", 1, "read_file")}, true},
		{"a file it does not name", []string{"tool"}, []profiles.FileAccess{fa("/w/in.txt", 1, "read_file")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fsRec(tc.files...)
			r.Samples = []profiles.Sample{sample("openat", 2, nil), sample("read", 2, nil)}
			r.Command, r.Dir = tc.argv, "/w"
			p, err := Reduce([]*profiles.Recording{r}, Options{Level: LevelRelated, Reachable: reachable})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(p.Syscalls, func(s profiles.Syscall) bool { return s.Name == "getdents64" })
			if (i >= 0) != tc.want {
				t.Fatalf("getdents64 allowed: %v, want %v (%+v)", i >= 0, tc.want, p.Filesystem.Rules)
			}
			if i >= 0 && !strings.Contains(p.Syscalls[i].Reason, "job list-named") {
				t.Errorf("reason %q", p.Syscalls[i].Reason)
			}
		})
	}
}
