package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

// Version is the newest profile schema version this package reads and
// writes. Version 2 added the filesystem, network and scopes sections,
// version 3 the phases (an entry's phase, the phases section); a profile
// is written as the oldest version that can say it, and older files are
// read as they always were.
const Version = 3

// Profile is a seccomp allowlist: a default action and, per syscall, the
// action to take when the listed argument rules match.
//
// Entries are evaluated in order; several entries may name the same
// syscall (an OR of argument rule sets). A syscall whose entries all fail
// to match, or that is not listed, gets DefaultAction.
type Profile struct {
	Version       int      `json:"version"`
	Name          string   `json:"name,omitempty"`
	Arch          []string `json:"arch"`
	DefaultAction Action   `json:"default_action"`
	// BadArchAction answers calls from an arch (or the x32 ABI) the
	// profile does not list. Unset means kill_process.
	BadArchAction Action `json:"bad_arch_action,omitzero"`
	// UnknownAction answers syscall numbers that no table of the arch
	// knows (including -1 and numbers above the table). Unset means
	// DefaultAction; errno:ENOSYS is what runc does so that new syscalls
	// fail soft and libc falls back.
	UnknownAction Action    `json:"unknown_action,omitzero"`
	Syscalls      []Syscall `json:"syscalls"`
	// Filesystem and Network are Landlock policies (version 2).
	Filesystem *Filesystem `json:"filesystem,omitempty"`
	Network    *Network    `json:"network,omitempty"`
	// Scopes confine the program's signals and abstract unix socket
	// connections to its own process tree (Landlock scopes, version 2).
	Scopes []Scope `json:"scopes,omitempty"`
	// NotAllowed lists syscalls the program can reach (static analysis)
	// that the profile still does not allow, and why: sensitive or
	// critical ones no run made, ordinary ones whose risky arguments
	// have no safe class. Information for show and diff; the filter
	// never sees it (version 2).
	NotAllowed []Withheld `json:"not_allowed,omitempty"`
	// Confidence is the Good–Turing estimate of how likely a new run is
	// to need a syscall no recorded run made (version 2).
	Confidence *Confidence `json:"confidence,omitempty"`
	// Phases is the rule that says when a process starts serving, and
	// what each executable did in each phase (version 3; see Phase).
	Phases   *Phases   `json:"phases,omitempty"`
	Recorded *Recorded `json:"recorded,omitempty"`
}

// Syscall is one profile entry.
type Syscall struct {
	Name string `json:"name"`
	// Arch limits the entry to one of the profile's arches; "" means
	// every arch the profile lists. The same name is another syscall on
	// another arch (i386 "mmap" takes a pointer to its arguments), so a
	// recorded entry of a profile with several arches names its own.
	Arch string `json:"arch,omitempty"`
	// Action is what a matching call gets; unset means allow.
	Action Action `json:"action,omitzero"`
	// Phase, when init, allows the call only while the calling process
	// has not started serving (Profile.Phases says when it does); after,
	// the call gets the default action (version 3).
	Phase Phase `json:"phase,omitempty"`
	// Args are ANDed; empty matches every call.
	Args []ArgRule `json:"args,omitempty"`
	// Count is how often the recording saw the call (information only).
	Count uint64 `json:"count,omitempty"`
	// Errors counts failed calls by errno name (information only).
	Errors map[string]uint64 `json:"errors,omitempty"`
	// Seen counts the calls of each distinct tuple of recorded argument
	// values, in symbolic form (information only).
	Seen map[string]uint64 `json:"seen,omitempty"`
	// Runs is in how many of the profile's recordings the call was
	// seen: "seen in Runs of Recorded.Recordings runs" (version 2).
	// Entries no run made (baseline, families, reachable) have none.
	Runs int `json:"runs,omitempty"`
	// Reason says why an entry that was not recorded is present
	// (baseline entries, clone3 → ENOSYS, family members, reachable).
	Reason string `json:"reason,omitempty"`
	// Note says why an argument was left unconstrained.
	Note string `json:"note,omitempty"`
}

// EffectiveAction is s.Action, or allow when unset.
func (s Syscall) EffectiveAction() Action {
	if s.Action.IsZero() {
		return ActAllow
	}
	return s.Action
}

// Recorded describes the run a profile was learned from.
type Recorded struct {
	Command    []string `json:"command,omitempty"`
	Kernel     string   `json:"kernel,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
	Lost       uint64   `json:"lost"`
	// Unknown counts calls with numbers no table names (x32, new
	// syscalls): the filter answers them with the default action.
	Unknown uint64 `json:"unknown_calls,omitempty"`
	// Compat counts calls made through another syscall ABI than the
	// native one (i386 through int $0x80 on x86_64) with file
	// recording on: their entries are in the profile under their arch,
	// their files and ports are not (Recording.Compat).
	Compat uint64 `json:"compat_calls,omitempty"`
	// Left counts the processes, per executable, that left the recorded
	// cgroup subtree while recorded: what they did afterwards is not in
	// the profile (Recording.Left).
	Left       []ExeCount `json:"left,omitempty"`
	ExitStatus int        `json:"exit_status"`
	Recordings int        `json:"recordings,omitempty"`
}

// Load reads and validates the profile at path.
func Load(path string) (*Profile, error) {
	b, err := readProfile(path)
	if err != nil {
		return nil, fmt.Errorf("load profile: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load profile %s: %w", path, err)
	}
	return p, nil
}

// readProfile reads at most MaxProfileSize bytes (and one more, to know
// there are more): /dev/zero or an endless pipe must not fill memory.
func readProfile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxProfileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxProfileSize {
		return nil, fmt.Errorf("%s: more than the %d bytes a profile may have", path, MaxProfileSize)
	}
	return b, nil
}

// Parse decodes and validates a profile. Unknown fields are errors: a
// misspelt field would otherwise silently widen or narrow a filter.
func Parse(b []byte) (*Profile, error) {
	if err := checkBounds(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, describeJSONError(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the profile object")
	}
	if err := p.Validate(); err != nil {
		return nil, placeFieldError(b, err)
	}
	return &p, nil
}

// Validate checks p and names the first bad field.
func (p *Profile) Validate() error {
	if p.Version < 1 || p.Version > Version {
		return fmt.Errorf("field version: unsupported version %d (this sysrec reads versions 1 to %d)", p.Version, Version)
	}
	if err := p.validateLandlock(); err != nil {
		return err
	}
	if err := p.validatePhases(); err != nil {
		return err
	}
	if p.Version < 2 && p.usesGeneralisation() {
		return fmt.Errorf("field version: not_allowed, confidence and runs need version 2, the profile says %d", p.Version)
	}
	if len(p.Arch) == 0 {
		return errors.New("field arch: no architecture listed")
	}
	var arches []*linuxabi.Arch
	for i, name := range p.Arch {
		a, err := linuxabi.LookupArch(name)
		if err != nil {
			return fmt.Errorf("field arch[%d]: %w", i, err)
		}
		arches = append(arches, a)
	}
	if p.DefaultAction.IsZero() {
		return errors.New("field default_action: missing")
	}
	for i, s := range p.Syscalls {
		in := arches
		if s.Arch != "" {
			a, err := entryArch(s.Arch, arches)
			if err != nil {
				return fmt.Errorf("field syscalls[%d].arch (%s): %w", i, s.Name, err)
			}
			in = []*linuxabi.Arch{a}
		}
		known := false
		for _, a := range in {
			if _, ok := a.Number(s.Name); ok {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("field syscalls[%d].name: %w", i, unknownSyscall(s.Name, in))
		}
		for _, a := range in {
			if len(s.Args) > 0 && a.ArgsDiffer(s.Name) {
				return fmt.Errorf("field syscalls[%d].args (%s): %s %s takes other arguments than the argument rules describe; give the entry \"arch\" of another arch, or no rules", i, s.Name, a.Name, s.Name)
			}
		}
		for j, r := range s.Args {
			if err := r.validate(); err != nil {
				return fmt.Errorf("field syscalls[%d].args[%d] (%s): %w", i, j, s.Name, err)
			}
		}
		if s.Runs < 0 {
			return fmt.Errorf("field syscalls[%d].runs: %d is negative", i, s.Runs)
		}
	}
	for i, w := range p.NotAllowed {
		known := false
		for _, a := range arches {
			if _, ok := a.Number(w.Name); ok {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("field not_allowed[%d].name: %w", i, unknownSyscall(w.Name, arches))
		}
		if _, err := policy.ParseTier(w.Tier); err != nil {
			return fmt.Errorf("field not_allowed[%d].tier: %w", i, err)
		}
	}
	return nil
}

// entryArch resolves an entry's arch, which must be one the profile
// lists.
func entryArch(name string, listed []*linuxabi.Arch) (*linuxabi.Arch, error) {
	a, err := linuxabi.LookupArch(name)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(listed, a) {
		return nil, fmt.Errorf("arch %q is not in the profile's arch list", name)
	}
	return a, nil
}

// AppliesTo reports whether s applies to calls of arch.
func (s Syscall) AppliesTo(arch *linuxabi.Arch) bool {
	if s.Arch == "" {
		return true
	}
	a, err := linuxabi.LookupArch(s.Arch)
	return err == nil && a == arch
}

// Key names s's syscall for grouping: its name, prefixed by its arch
// when it has one ("i386:mmap"), since that is another syscall.
func (s Syscall) Key() string {
	if s.Arch == "" {
		return s.Name
	}
	return s.Arch + ":" + s.Name
}

func unknownSyscall(name string, arches []*linuxabi.Arch) error {
	if len(name) > MaxNameLen {
		// No suggestion: the edit distance costs len(name) per name
		// compared, and nothing that long is close to a syscall.
		return fmt.Errorf("unknown syscall %q... (%d bytes)", name[:MaxNameLen], len(name))
	}
	best, bestD := "", 4
	for _, a := range arches {
		for _, cand := range a.Syscalls() {
			if d := editDistance(name, cand); d < bestD || (d == bestD && cand < best) {
				best, bestD = cand, d
			}
		}
	}
	if best != "" {
		return fmt.Errorf("unknown syscall %q (did you mean %q?)", name, best)
	}
	return fmt.Errorf("unknown syscall %q", name)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Normalize puts p in canonical order: syscalls sorted by name (entries
// of the same name keep their relative order, which is significant),
// rules sorted by index, values sorted and unique.
func (p *Profile) Normalize() {
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		sort.SliceStable(s.Args, func(a, b int) bool { return s.Args[a].Index < s.Args[b].Index })
		for j := range s.Args {
			slices.Sort(s.Args[j].Values)
			s.Args[j].Values = slices.Compact(s.Args[j].Values)
		}
	}
	sort.SliceStable(p.Syscalls, func(a, b int) bool { return p.Syscalls[a].Name < p.Syscalls[b].Name })
	p.normalizeLandlock()
	p.normalizePhases()
	sort.SliceStable(p.NotAllowed, func(a, b int) bool { return p.NotAllowed[a].Name < p.NotAllowed[b].Name })
	if p.Syscalls == nil {
		p.Syscalls = []Syscall{}
	}
}

// Marshal returns the canonical JSON encoding of p: the same profile
// always gives the same bytes.
func (p *Profile) Marshal() ([]byte, error) {
	c := p.Clone()
	c.Normalize()
	c.Version = c.schemaVersion()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return append(b, '\n'), nil
}

// Save writes p to path in canonical form, atomically: on any failure
// the file at path is left as it was.
func (p *Profile) Save(path string) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Arch = slices.Clone(p.Arch)
	c.Syscalls = make([]Syscall, len(p.Syscalls))
	for i, s := range p.Syscalls {
		s.Args = slices.Clone(s.Args)
		for j := range s.Args {
			s.Args[j].Values = slices.Clone(s.Args[j].Values)
		}
		s.Errors = maps.Clone(s.Errors)
		s.Seen = maps.Clone(s.Seen)
		c.Syscalls[i] = s
	}
	if p.Filesystem != nil {
		fs := *p.Filesystem
		fs.Rules = slices.Clone(fs.Rules)
		for i := range fs.Rules {
			fs.Rules[i].Access = slices.Clone(fs.Rules[i].Access)
		}
		fs.NotAllowed = slices.Clone(fs.NotAllowed)
		for i := range fs.NotAllowed {
			fs.NotAllowed[i].Access = slices.Clone(fs.NotAllowed[i].Access)
		}
		fs.Made = slices.Clone(fs.Made)
		c.Filesystem = &fs
	}
	if p.Network != nil {
		n := *p.Network
		n.Rules = slices.Clone(n.Rules)
		c.Network = &n
	}
	c.Scopes = slices.Clone(p.Scopes)
	c.NotAllowed = slices.Clone(p.NotAllowed)
	if p.Confidence != nil {
		conf := *p.Confidence
		c.Confidence = &conf
	}
	if p.Phases != nil {
		ph := *p.Phases
		ph.Transition.After = slices.Clone(ph.Transition.After)
		ph.Executables = slices.Clone(ph.Executables)
		for i, e := range ph.Executables {
			ph.Executables[i].Init = slices.Clone(e.Init)
			ph.Executables[i].Serving = slices.Clone(e.Serving)
		}
		c.Phases = &ph
	}
	if p.Recorded != nil {
		r := *p.Recorded
		r.Command = slices.Clone(r.Command)
		c.Recorded = &r
	}
	return &c
}
