package reducer

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// ArgLevel says how much of the arguments a profile constrains.
type ArgLevel string

const (
	ArgsTable ArgLevel = "table" // every argument of the argument table
	ArgsNone  ArgLevel = "none"  // syscalls only, as OCI default profiles are
)

// DefaultMaxValues is how many distinct values of an enum argument a
// rule lists before it is dropped as not worth constraining.
const DefaultMaxValues = 16

// Level says how far Reduce generalises beyond the calls it saw. Every
// entry a level adds carries its reason; no level adds a sensitive or
// critical syscall, or argument value, that no run made.
type Level string

const (
	// LevelExact allows what the recordings saw, with every argument of
	// the table constrained to the values seen (generalised per
	// argument, as always). The zero Level.
	LevelExact Level = "exact"
	// LevelFamilies adds to what was seen its ordinary-tier variants
	// (openat seen: open allowed; fsync seen: fdatasync), constrains only
	// the arguments whose values differ in risk, widened by their safe
	// classes (futex wait/wake ops, tty queries, read-only open bits),
	// and answers clone3 with ENOSYS whenever libc is known to fall back.
	LevelFamilies Level = "families"
	// LevelRelated lets static analysis choose: of the family members
	// of what ran and of the other ordinary syscalls in the same domains
	// (reading files, changing metadata, naming files, memory, ...; see
	// policy.Domains), it adds those the binary and its libraries can
	// reach (Options.Reachable), each with its provenance. Family members
	// it cannot reach are left out. Sensitive and critical reachable
	// syscalls are listed in not_allowed.
	LevelRelated Level = "related"
	// LevelReachable adds to LevelFamilies every ordinary-tier syscall
	// the binary and its libraries can reach (Options.Reachable), each
	// with its provenance, and lists the sensitive and critical reachable
	// ones it withholds in the profile's not_allowed section.
	LevelReachable Level = "reachable"
)

// Levels lists the levels, roughly narrowest first (related leaves out
// the family members families adds blindly, so neither contains the
// other).
var Levels = []Level{LevelExact, LevelFamilies, LevelRelated, LevelReachable}

// NeedsReachable reports whether level l needs Options.Reachable.
func (l Level) NeedsReachable() bool { return l == LevelRelated || l == LevelReachable }

// DefaultLevel is the level sysrec record uses unless told otherwise,
// chosen by the held-out runs of the corpus (docs/generalisation.md).
const DefaultLevel = LevelRelated

// riskyMaxValues bounds the distinct values a rule on a risk-bearing
// argument lists above the exact level: dropping such a rule opens the
// door it guards, so it stays up to this many values (each costs two
// filter instructions).
const riskyMaxValues = 64

// Options tune Reduce. The zero value reduces at LevelExact with the
// argument table, the baseline and kill_process.
type Options struct {
	// Level is how far to generalise; "" means LevelExact (library
	// callers such as check's fragments get what was seen). The CLI
	// passes DefaultLevel.
	Level Level
	// Reachable maps the syscalls the target can reach, from static
	// analysis, to the provenance of each ("fdatasync@libc.so.6 ←
	// 0x4f2a0@libsqlite3.so.0"). LevelReachable needs it.
	Reachable map[string]string
	Args      ArgLevel // "" means ArgsTable
	// MaxValues bounds the distinct values of an enum/int rule; more and
	// the argument is left unconstrained (the entry's note says so).
	MaxValues int
	// NoBaseline leaves out the baseline syscalls that were not recorded.
	NoBaseline bool
	// KeepClone3 keeps clone3 allowed. By default, when clone3 and clone
	// were both seen, clone3 is answered ENOSYS: its flags are behind a
	// pointer BPF cannot read, and libc then falls back to clone, whose
	// flags the filter checks.
	KeepClone3 bool
	// DefaultAction for everything not allowed; zero means kill_process.
	DefaultAction profiles.Action
	Name          string
	// Exe keeps only calls made by executables whose name (comm) matches
	// this path.Match pattern; "" keeps all.
	Exe string
	// Runtime adds the timing-dependent calls of a language runtime the
	// target uses (RuntimeGo), so a profile learned from one run does not
	// kill the next. Ignored when NoBaseline is set.
	Runtime string
	// FS is how far the filesystem section generalises the files the
	// recordings saw ("" means DefaultFSLevel); Home is the target's
	// $HOME, never widened to as a whole. Recordings made without file
	// recording give no filesystem or network section.
	FS   FSLevel
	Home string
	// Phases is which calls recorded only before their process served
	// are refused once it serves: "" (PhasesDoors) the doors an exploit
	// uses (policy.PhaseDoor), PhasesAll every call policy.AnyPhase does
	// not keep. Recordings without a transition give no phases either way.
	Phases string
	// Phased keeps the recordings' phases even when no process served:
	// a check fragment of a profile with phases, whose violations made
	// in init must stay init entries when merged into it (without a
	// phases section they would be entries for every phase).
	Phased bool
}

// Phase scopes (Options.Phases).
const (
	PhasesDoors = "doors"
	PhasesAll   = "all"
)

// Validate reports options Reduce would refuse, so a caller can check
// them before a recording it would otherwise lose.
func (o Options) Validate() error {
	if o.Args != "" && o.Args != ArgsTable && o.Args != ArgsNone {
		return fmt.Errorf("argument level %q (want table or none)", o.Args)
	}
	if o.Phases != "" && o.Phases != PhasesDoors && o.Phases != PhasesAll {
		return fmt.Errorf("phase scope %q (want doors or all)", o.Phases)
	}
	if o.Level != "" && !slices.Contains(Levels, o.Level) {
		return fmt.Errorf("generalisation level %q (want exact, families, related or reachable)", o.Level)
	}
	if o.Level.NeedsReachable() && o.Reachable == nil {
		return fmt.Errorf("generalisation level %s needs the reachable syscalls (static analysis of the target)", o.Level)
	}
	if o.FS != "" && !slices.Contains(FSLevels, o.FS) {
		return fmt.Errorf("filesystem level %q (want exact or dirs)", o.FS)
	}
	if o.Exe != "" {
		if _, err := path.Match(o.Exe, ""); err != nil {
			return fmt.Errorf("exe pattern %q: %w", o.Exe, err)
		}
	}
	if _, err := runtimeBaseline(o.Runtime, []string{"x86_64"}, profiles.ActKillProcess, LevelExact); err != nil {
		return err
	}
	return nil
}

type baselineEntry struct{ name, reason string }

// baseline is what every process needs whether or not one recording saw
// it: the calls that end a process or return from a signal handler (a
// recording may simply not have received a signal) and the exec that
// starts the target after the filter is installed.
var baseline = []baselineEntry{
	{"rt_sigreturn", "baseline: returning from any signal handler; a run that received no signal never shows it"},
	{"restart_syscall", "baseline: the kernel restarts an interrupted sleep with it after a signal"},
	{"exit", "baseline: thread exit"},
	{"exit_group", "baseline: process exit"},
	{"execve", "baseline: sysrec run, runc and bwrap install the filter before they exec the target"},
	{"write", "baseline: a program says what it found on stdout and why it failed on stderr; a run that printed nothing never shows it (cmp on equal files)"},
}

// glibcThreadClone is the clone flag set glibc's pthread_create passes to
// clone when clone3 fails with ENOSYS (CLONE_VM|CLONE_FS|CLONE_FILES|
// CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|
// CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID).
const glibcThreadClone = 0x3d0f00

// glibcClone adds what glibc's fork (CLONE_CHILD_SETTID|
// CLONE_CHILD_CLEARTID|SIGCHLD) and posix_spawn (CLONE_VM|CLONE_VFORK|
// SIGCHLD) pass to clone when clone3 fails with ENOSYS: any exit signal.
const glibcClone = glibcThreadClone | 0x4000 | 0x1000000 | 0xff

// maxSeen bounds the distinct argument tuples a profile lists per syscall.
const maxSeen = 32

type group struct {
	name    string
	arch    *linuxabi.Arch // of a compat call; nil: the recording's arch
	count   uint64
	runs    int // recordings that made the call
	lastRec int // 1 + index of the last recording counted in runs
	seen    map[string]uint64
	errors  map[uint16]uint64
	values  map[int]map[uint64]bool // arg index -> values seen
	flagSet map[int]uint64          // arg index -> union of bits seen
	// outsideInit: some call was made by a serving process, or by one
	// whose phase was not tracked; served holds the argument tuples of
	// those calls (profiles.SeenKey).
	outsideInit bool
	served      map[string]bool
	// byKey holds, for a syscall with keyed arguments (policy.KeyOf),
	// the values seen at each value of the key argument.
	byKey map[uint64]*group
}

func newGroup(name string, arch *linuxabi.Arch) *group {
	return &group{name: name, arch: arch, errors: map[uint16]uint64{}, seen: map[string]uint64{}, values: map[int]map[uint64]bool{}, flagSet: map[int]uint64{}}
}

// add counts sample s of recording ri (0-based) in g.
func (g *group) add(s profiles.Sample, ri int, args ArgLevel) {
	g.count += s.Count
	if g.lastRec != ri+1 {
		g.runs, g.lastRec = g.runs+1, ri+1
	}
	if args == ArgsTable && len(g.specs()) > 0 {
		g.seen[profiles.SeenKey(s.Name, s.Args)] += s.Count
	}
	for e, n := range s.Errors {
		g.errors[e] += n
	}
	g.addValues(s)
}

// addValues adds the recorded argument values of s to g, and to the
// values seen at s's key value.
func (g *group) addValues(s profiles.Sample) {
	g.addOwn(s)
	if key, _, ok := policy.KeyOf(g.name); ok && s.Recorded[key] {
		if g.byKey == nil {
			g.byKey = map[uint64]*group{}
		}
		sub := g.byKey[s.Args[key]]
		if sub == nil {
			sub = &group{name: g.name, arch: g.arch, values: map[int]map[uint64]bool{}, flagSet: map[int]uint64{}}
			g.byKey[s.Args[key]] = sub
		}
		sub.addOwn(s)
	}
}

func (g *group) addOwn(s profiles.Sample) {
	for i, rec := range s.Recorded {
		if !rec {
			continue
		}
		if g.values[i] == nil {
			g.values[i] = map[uint64]bool{}
		}
		g.values[i][s.Args[i]] = true
		g.flagSet[i] |= s.Args[i]
	}
}

// Reduce merges recordings into one profile.
func Reduce(recs []*profiles.Recording, opts Options) (*profiles.Profile, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("reduce: no recordings")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("reduce: %w", err)
	}
	if opts.Args == "" {
		opts.Args = ArgsTable
	}
	if opts.MaxValues <= 0 {
		opts.MaxValues = DefaultMaxValues
	}
	if opts.DefaultAction.IsZero() {
		opts.DefaultAction = profiles.ActKillProcess
	}

	p := &profiles.Profile{
		Version:       profiles.Version,
		Name:          opts.Name,
		DefaultAction: opts.DefaultAction,
		Recorded:      &profiles.Recorded{Command: recs[0].Command, Kernel: recs[0].Kernel, ExitStatus: recs[0].ExitStatus, Recordings: len(recs)},
	}
	if opts.Level == "" {
		opts.Level = LevelExact
	}
	relaxed := opts.Level != LevelExact
	groups := map[string]*group{}
	// Calls through another ABI than the recording's (Sample.Arch), by
	// arch and name: other syscalls than the native ones of the name.
	compat := map[string]map[string]*group{}
	var duration time.Duration
	// Some run created a process; some process created one while it
	// served (or while its phase was not tracked).
	created, createdServing := false, false
	phases := phaseSets{keep: opts.Phased}
	for ri, r := range recs {
		if err := phases.recording(r); err != nil {
			return nil, fmt.Errorf("reduce: %w", err)
		}
		created = created || createdProcess(r, opts.Exe, false)
		createdServing = createdServing || createdProcess(r, opts.Exe, true)
		if _, err := linuxabi.LookupArch(r.Arch); err != nil {
			return nil, fmt.Errorf("reduce: %w", err)
		}
		if !slices.Contains(p.Arch, r.Arch) {
			p.Arch = append(p.Arch, r.Arch)
		}
		duration += r.Duration
		p.Recorded.Lost += r.Lost
		p.Recorded.Compat += r.Compat
		p.Recorded.Left = profiles.AddExeCounts(p.Recorded.Left, r.Left)
		for _, s := range r.Samples {
			if !keepExe(opts.Exe, s.Exe) {
				continue
			}
			if s.Name == "" {
				// x32 or a number no table names: the filter denies those
				// anyway; say how many there were.
				p.Recorded.Unknown += s.Count
				continue
			}
			into, arch := groups, (*linuxabi.Arch)(nil)
			if s.Arch != "" && s.Arch != r.Arch {
				a, err := linuxabi.LookupArch(s.Arch)
				if err != nil {
					return nil, fmt.Errorf("reduce: sample %s: %w", s.Name, err)
				}
				if compat[a.Name] == nil {
					compat[a.Name] = map[string]*group{}
				}
				into, arch = compat[a.Name], a
			}
			g := into[s.Name]
			if g == nil {
				g = newGroup(s.Name, arch)
				into[s.Name] = g
			}
			g.add(s, ri, opts.Args)
			if s.Phase != profiles.PhaseInit {
				g.outsideInit = true
				if g.served == nil {
					g.served = map[string]bool{}
				}
				g.served[profiles.SeenKey(s.Name, s.Args)] = true
			}
			if r.Transition != nil {
				key := s.Name
				if arch != nil {
					key = arch.Name + ":" + s.Name
				}
				phases.sample(s, key)
			}
		}
	}
	p.Recorded.DurationMS = duration.Milliseconds()
	sort.Strings(p.Arch)
	p.Phases = phases.section()

	// clone3's flags are behind a pointer: answer it ENOSYS when libc is
	// known to fall back to clone, whose flags the filter checks: clone
	// was seen too, or the runtime is glibc's (whose fallback is clone
	// with the flags of glibcClone).
	clone3ENOSYS := !opts.KeepClone3 && groups["clone3"] != nil && (groups["clone"] != nil || isGlibc(opts.Runtime))
	famValues := familyValues(groups)
	// The runtime set is in the profile whatever this run's timing made:
	// it counts as made for families and domains, or they would vary
	// from run to run.
	rtNames := map[string]bool{}
	if !opts.NoBaseline {
		rt, err := runtimeBaseline(opts.Runtime, p.Arch, p.DefaultAction, opts.Level)
		if err != nil {
			return nil, fmt.Errorf("reduce: %w", err)
		}
		if rt != nil {
			for _, s := range rt.Syscalls {
				if s.EffectiveAction().Allows() {
					rtNames[s.Name] = true
				}
			}
		}
	}
	ph := phaser{on: p.Phases != nil, all: opts.Phases == PhasesAll, groups: groups, rt: rtNames, recs: recs, exe: opts.Exe, args: opts.Args, splits: map[*group][]phased{}}
	famServing := famValues
	if ph.on {
		famServing = familyValues(ph.servingGroups(groups))
	}
	famPools := famPool(func(family string, phase profiles.Phase) map[string]*argValues {
		if phase == profiles.PhaseInit {
			return famValues[family]
		}
		return famServing[family]
	})
	// threads reports whether clone's entries in phase may start
	// threads only (threadsOnly): no run created a process, or, for
	// what serving is allowed, none did while serving.
	threads := func(phase profiles.Phase) bool {
		return opts.Args == ArgsTable && (!created || ph.on && !createdServing && phase != profiles.PhaseInit)
	}
	// entries builds the entries of the calls of g, in phase.
	entries := func(g *group, phase profiles.Phase) []profiles.Syscall {
		n := g.name
		s := g.entry(len(recs))
		s.Phase = phase
		var es []profiles.Syscall
		if f, ok := policy.FamilyOf(n); ok && opts.Args == ArgsTable && relaxed {
			// Family members pool their values (no keyed syscall is in
			// a family: policy tests it).
			s.Args, s.Note, _ = riskRules(n, famPools(f.Name, phase), opts.MaxValues)
		} else if opts.Args == ArgsTable && relaxed {
			es = withHarmlessNote(keyedEntries(g, s, relaxedRules(opts.MaxValues), true), g)
		} else if opts.Args == ArgsTable {
			es = keyedEntries(g, s, exactRules(opts.MaxValues), false)
			if n == "clone" && clone3ENOSYS {
				widenCloneForGlibc(&es[0])
			}
		}
		if es == nil {
			if opts.Args == ArgsTable && relaxed && s.Seen == nil {
				s.Note = joinNotes(s.Note, harmlessNote(g))
			}
			es = []profiles.Syscall{s}
		}
		if n == "clone" && threads(phase) {
			// Here already, not only in threadsOnly below: an init
			// entry of the forks is kept apart from the threads'
			// entry for every phase only while their rules differ.
			for i := range es {
				es[i].Args = requireBits(slices.Clone(es[i].Args), cloneThreads)
			}
		}
		return es
	}
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		g := groups[n]
		if n == "clone3" && clone3ENOSYS {
			s := g.entry(len(recs))
			s.Action = profiles.ActENOSYS
			s.Reason = "clone3 passes its flags behind a pointer the filter cannot check: ENOSYS makes libc fall back to clone, whose flags it does check"
			p.Syscalls = append(p.Syscalls, s)
			continue
		}
		p.Syscalls = append(p.Syscalls, ph.entries(g, entries)...)
	}
	// clone3's calls come back as clone: the clone entry of glibc's
	// fallback, in clone3's phase, unless a clone entry of that phase
	// is there (the recorded ones are widened by it).
	if phase := ph.of("clone", "clone3"); clone3ENOSYS && (groups["clone"] == nil ||
		phase == profiles.PhaseAny && !slices.ContainsFunc(p.Syscalls, func(s profiles.Syscall) bool { return s.Name == "clone" && s.Phase == phase })) {
		s := profiles.Syscall{Name: "clone", Reason: "clone3 is answered ENOSYS: glibc falls back to clone, whose flags the filter checks",
			Phase: phase}
		if opts.Args == ArgsTable {
			s.Args = []profiles.ArgRule{{Index: 0, Op: profiles.OpSubset, Mask: glibcClone}}
			if relaxed {
				s.Args, _, _ = riskRules("clone", nil, opts.MaxValues)
			}
		}
		p.Syscalls = append(p.Syscalls, s)
	}
	if relaxed {
		p.Syscalls = append(p.Syscalls, familyMembers(p.Arch, groups, ph, famPools, opts)...)
	}
	if opts.Level == LevelRelated {
		p.Syscalls = append(p.Syscalls, domainMembers(p, groups, ph, famPools, opts)...)
	}
	if !opts.NoBaseline {
		addBaseline(p, groups, ph)
		rt, err := runtimeBaseline(opts.Runtime, p.Arch, p.DefaultAction, opts.Level)
		if err != nil {
			return nil, fmt.Errorf("reduce: %w", err)
		}
		if rt != nil {
			if opts.Args == ArgsNone {
				for i := range rt.Syscalls {
					rt.Syscalls[i].Args = nil
				}
			}
			if threads(profiles.PhaseAny) {
				// Before the merge: a thread start of the runtime's
				// that may fork would cover the recorded forks' init
				// entry, and the merge would keep it alone.
				threadsOnly(rt, created)
			}
			recorded := p.Recorded
			if p, err = profiles.Merge(p, rt); err != nil {
				return nil, fmt.Errorf("reduce: %w", err)
			}
			p.Recorded = recorded
		}
	}
	if opts.Level.NeedsReachable() {
		addReachable(p, opts)
	}
	if threads(profiles.PhaseAny) {
		threadsOnly(p, created)
	}
	if err := addCompat(p, compat, len(recs), opts, ph); err != nil {
		return nil, fmt.Errorf("reduce: %w", err)
	}
	if len(recs) > 1 {
		p.Confidence = profiles.ComputeConfidence(p)
	} else {
		// One run: every entry was seen in it; say so only when another
		// run is merged in (runs and confidence are version 2 fields).
		p.Confidence = nil
		for i := range p.Syscalls {
			p.Syscalls[i].Runs = 0
		}
	}
	fs, net, err := Filesystem(recs, FSOptions{Level: opts.FS, Home: opts.Home, Exe: opts.Exe, Baseline: !opts.NoBaseline, Runtime: opts.Runtime})
	if err != nil {
		return nil, fmt.Errorf("reduce: %w", err)
	}
	p.Filesystem, p.Network = fs, net
	if opts.Level.NeedsReachable() {
		addListing(p, opts)
		if fs != nil && !opts.NoBaseline {
			fs.Rules = addPathBaseline(fs.Rules, jobFiles(groups))
		}
	}
	p.Scopes = Scopes(recs, opts.Exe)
	if relaxed && p.Network == nil {
		unconstrainNetworkArgs(p)
	}
	p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("reduce: %w", err)
	}
	return p, nil
}

// createdProcess reports whether recording r shows a process being
// created by an executable exe keeps: fork or vfork, clone without
// CLONE_THREAD, or clone3 (whose flags no one sees) in a run with signs
// of a second process: a second execve or exit_group, or a wait for a
// child. serving looks only at the calls made outside init, where the
// target's own exec is not (so one execve is a sign), and where an exit
// is no sign: every process of a server exits while serving when the
// recording stops it, those forked in init too.
func createdProcess(r *profiles.Recording, exe string, serving bool) bool {
	var clone3, waited bool
	var execs, exits uint64
	if serving {
		execs = 1 // the target's, made in init
	}
	for _, s := range r.Samples {
		if !keepExe(exe, s.Exe) || (s.Arch != "" && s.Arch != r.Arch) {
			continue // compat calls get exact entries of their own
		}
		if serving && s.Phase == profiles.PhaseInit {
			continue
		}
		switch s.Name {
		case "fork", "vfork":
			return true
		case "clone":
			if s.Recorded[0] && s.Args[0]&linuxabi.CloneThread == 0 {
				return true
			}
		case "clone3":
			clone3 = true
		case "execve", "execveat":
			execs += s.Count
		case "exit_group":
			if !serving {
				exits += s.Count
			}
		case "wait4", "waitid", "waitpid":
			waited = true
		}
	}
	return clone3 && (execs > 1 || exits > 1 || waited)
}

// threadsOnly makes p's clone entries require CLONE_VM|CLONE_THREAD, and
// moves fork and vfork entries no run made to not_allowed: no run
// created a process, so clone may start threads (which the Go and glibc
// runtimes, and families, allow) but not processes. inInit says runs
// created processes, but only in init: then the rule holds for the
// entries for every phase (what serving is allowed), and the fork and
// vfork entries no run made among them are for init only.
func threadsOnly(p *profiles.Profile, inInit bool) {
	note := "CLONE_VM|CLONE_THREAD required (threads only): no run created a process"
	if inInit {
		note = "CLONE_VM|CLONE_THREAD required (threads only) in serving: no process created one"
	}
	out := p.Syscalls[:0]
	for _, s := range p.Syscalls {
		switch {
		case !s.EffectiveAction().Allows():
		case inInit && s.Phase == profiles.PhaseInit:
		case inInit && (s.Name == "fork" || s.Name == "vfork") && s.Count == 0:
			s.Phase = profiles.PhaseInit
			s.Note = joinNotes(s.Note, "init only: creates a process, and only init did")
		case (s.Name == "fork" || s.Name == "vfork") && s.Count == 0:
			p.NotAllowed = append(p.NotAllowed, profiles.Withheld{Name: s.Name, Tier: policy.Ordinary.String(),
				Reason: s.Reason + "; creates a process, and no run did"})
			continue
		case s.Name == "clone":
			s.Args = requireBits(slices.Clone(s.Args), cloneThreads)
			if !strings.Contains(s.Note, note) {
				s.Note = joinNotes(s.Note, note)
			}
		}
		out = append(out, s)
	}
	p.Syscalls = out
}

// cloneThreads are the clone flags of every thread start.
const cloneThreads = linuxabi.CloneVM | linuxabi.CloneThread

// requireBits adds "bits req set" to the rules on clone's flags: folded
// into the one rule on them, so that a merge joins it with other
// profiles' rules instead of dropping it.
func requireBits(rules []profiles.ArgRule, req uint64) []profiles.ArgRule {
	for i, r := range rules {
		if r.Index != 0 {
			continue
		}
		switch r.Op {
		case profiles.OpSubset:
			if req&^r.Mask != 0 {
				return rules // threads were not allowed either
			}
			rules[i] = profiles.ArgRule{Index: 0, Op: profiles.OpIn, Mask: ^r.Mask | req, Values: []uint64{req}, Width: r.Width}
		case profiles.OpIn:
			m := r.ValueMask(64)
			var vals []uint64
			for _, v := range r.Values {
				if v&req&m == req&m {
					vals = append(vals, v|req)
				}
			}
			if vals == nil {
				return rules // threads were not allowed either
			}
			rules[i] = profiles.ArgRule{Index: 0, Op: profiles.OpIn, Mask: m | req, Values: vals, Width: r.Width}
		default:
			continue
		}
		return rules
	}
	return append(rules, profiles.ArgRule{Index: 0, Op: profiles.OpIn, Mask: req, Values: []uint64{req}})
}

// entry is the profile entry of g before any rule: what the recordings
// (nrecs of them) saw of the call.
func (g *group) entry(nrecs int) profiles.Syscall {
	s := profiles.Syscall{Name: g.name, Count: g.count}
	if nrecs > 1 {
		s.Runs = g.runs
	}
	if len(g.seen) > 0 && len(g.seen) <= maxSeen {
		s.Seen = g.seen
	}
	if len(g.errors) > 0 {
		s.Errors = map[string]uint64{}
		for e, c := range g.errors {
			s.Errors[linuxabi.ErrnoName(e)] += c
		}
	}
	return s
}

// specs are the recorded arguments of g's syscall on its arch.
func (g *group) specs() []policy.Arg {
	if g.arch != nil {
		return policy.RecordedArgsOn(g.arch, g.name)
	}
	return policy.RecordedArgs(g.name)
}

// compatBaseline is what a process that calls through a compat ABI
// needs of it whether or not one recording saw it: returning from a
// signal handler of that ABI, ending, restarting a sleep.
var compatBaseline = []baselineEntry{
	{"sigreturn", "baseline: returning from a signal handler set up through this arch's calls"},
	{"rt_sigreturn", baseline[0].reason},
	{"restart_syscall", baseline[1].reason},
	{"exit", baseline[2].reason},
	{"exit_group", baseline[3].reason},
}

// addCompat adds the calls recorded through another ABI than the
// recordings' (i386 on x86_64) as entries of their own arch, and that
// arch to p: exact at every level (no families, domains, reachable or
// runtime entries, which are judgements about the native table), their
// arguments constrained to the values seen where the table describes
// them there, plus compatBaseline. The native entries then name their
// arch, so neither set applies to the other's calls.
func addCompat(p *profiles.Profile, compat map[string]map[string]*group, nrecs int, opts Options, ph phaser) error {
	if len(compat) == 0 {
		return nil
	}
	if len(p.Arch) != 1 {
		return fmt.Errorf("calls of another ABI in recordings of several arches (%v): whose compat calls they are is ambiguous", p.Arch)
	}
	native := p.Arch[0]
	for i := range p.Syscalls {
		p.Syscalls[i].Arch = native
	}
	for _, an := range slices.Sorted(maps.Keys(compat)) {
		arch, err := linuxabi.LookupArch(an)
		if err != nil {
			return err
		}
		p.Arch = append(p.Arch, an)
		groups := compat[an]
		for _, n := range slices.Sorted(maps.Keys(groups)) {
			p.Syscalls = append(p.Syscalls, ph.entries(groups[n], func(g *group, phase profiles.Phase) []profiles.Syscall {
				s := g.entry(nrecs)
				s.Arch, s.Phase = an, phase
				if opts.Args == ArgsTable {
					return keyedEntries(g, s, exactRules(opts.MaxValues), false)
				}
				return []profiles.Syscall{s}
			})...)
		}
		if opts.NoBaseline {
			continue
		}
		for _, b := range compatBaseline {
			if _, ok := arch.Number(b.name); ok && groups[b.name] == nil {
				p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: b.name, Arch: an, Reason: b.reason})
			}
		}
	}
	sort.Strings(p.Arch)
	return nil
}

// rules generalises the values seen of each table argument.
func rules(g *group, maxValues int) ([]profiles.ArgRule, string) {
	var out []profiles.ArgRule
	var notes []string
	for _, spec := range g.specs() {
		vals := g.values[spec.Index]
		if len(vals) == 0 {
			continue
		}
		switch spec.Kind {
		case linuxabi.KindFlags:
			// Only bits seen may be set; bits the recorder masks out
			// (O_CLOEXEC...) say nothing about rights and stay free.
			mask := g.flagSet[spec.Index] | ^spec.Mask()
			mask &= linuxabi.WidthMask(spec.Width)
			if g.arch != nil {
				mask &= linuxabi.WidthMask(g.arch.Bits())
			}
			out = append(out, profiles.ArgRule{Index: spec.Index, Op: profiles.OpSubset, Mask: mask})
		default:
			if len(vals) > maxValues {
				notes = append(notes, fmt.Sprintf("%s not constrained: %d distinct values (more than %d)", spec.Name, len(vals), maxValues))
				continue
			}
			r := profiles.ArgRule{Index: spec.Index, Op: profiles.OpIn}
			if spec.RecordMask != 0 {
				r.Mask = spec.Mask()
			}
			for v := range vals {
				r.Values = append(r.Values, v)
			}
			slices.Sort(r.Values)
			out = append(out, r)
		}
	}
	note := ""
	for i, n := range notes {
		if i > 0 {
			note += "; "
		}
		note += n
	}
	return out, note
}

func widenCloneForGlibc(s *profiles.Syscall) {
	for i := range s.Args {
		if s.Args[i].Index == 0 && s.Args[i].Op == profiles.OpSubset {
			s.Args[i].Mask |= glibcThreadClone
			s.Reason = "flags widened by glibc's pthread_create flags: it calls clone when clone3 gets ENOSYS"
		}
	}
}

func addBaseline(p *profiles.Profile, seen map[string]*group, ph phaser) {
	for _, b := range baseline {
		if seen[b.name] != nil {
			continue
		}
		known := false
		for _, an := range p.Arch {
			a, _ := linuxabi.LookupArch(an)
			if _, ok := a.Number(b.name); ok {
				known = true
			}
		}
		if known {
			s := profiles.Syscall{Name: b.name, Reason: b.reason}
			if b.name == "execve" && ph.on {
				// The exec that starts the target, in init; an exec
				// once it serves is what phases are for.
				s.Phase = profiles.PhaseInit
			}
			p.Syscalls = append(p.Syscalls, s)
		}
	}
}
