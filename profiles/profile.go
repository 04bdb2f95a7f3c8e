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
	"strings"
)

// Version is the profile schema version this package reads and writes.
const Version = 1

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
	Recorded      *Recorded `json:"recorded,omitempty"`
}

// Syscall is one profile entry.
type Syscall struct {
	Name string `json:"name"`
	// Action is what a matching call gets; unset means allow.
	Action Action `json:"action,omitzero"`
	// Args are ANDed; empty matches every call.
	Args []ArgRule `json:"args,omitempty"`
	// Count is how often the recording saw the call (information only).
	Count uint64 `json:"count,omitempty"`
	// Errors counts failed calls by errno name (information only).
	Errors map[string]uint64 `json:"errors,omitempty"`
	// Seen counts the calls of each distinct tuple of recorded argument
	// values, in symbolic form (information only).
	Seen map[string]uint64 `json:"seen,omitempty"`
	// Reason says why an entry that was not recorded is present
	// (baseline entries, clone3 → ENOSYS).
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

// Op is an argument comparison.
type Op string

const (
	// In: (arg & Mask) is one of Values. Mask 0 means every bit of the
	// argument's width.
	OpIn Op = "in"
	// Subset: arg has no bit set outside Mask (flags ⊆ Mask).
	OpSubset Op = "subset"
	// Range: Min <= arg <= Max, unsigned.
	OpRange Op = "range"
)

// ArgRule constrains one argument. Comparisons use the argument's width:
// 32-bit (C int) arguments compare their low 32 bits only, because the
// kernel does not promise how the upper half of a register holding an int
// is filled (AT_FDCWD arrives both sign-extended and not).
type ArgRule struct {
	Index  int      `json:"index"`
	Op     Op       `json:"op"`
	Mask   uint64   `json:"mask,omitempty"`
	Values []uint64 `json:"values,omitempty"`
	Min    uint64   `json:"min,omitempty"`
	Max    uint64   `json:"max,omitempty"`
	// Width is 32 or 64; 0 means take it from the argument table (64
	// for arguments the table does not know).
	Width int `json:"width,omitempty"`
}

// Recorded describes the run a profile was learned from.
type Recorded struct {
	Command    []string `json:"command,omitempty"`
	Kernel     string   `json:"kernel,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
	Lost       uint64   `json:"lost"`
	// Unknown counts calls with numbers no table names (x32, new
	// syscalls): the filter answers them with the default action.
	Unknown    uint64 `json:"unknown_calls,omitempty"`
	ExitStatus int    `json:"exit_status"`
	Recordings int    `json:"recordings,omitempty"`
}

// WidthOf returns the width in bits that rule r on syscall uses.
func WidthOf(syscall string, r ArgRule) int {
	if r.Width != 0 {
		return r.Width
	}
	if spec, ok := LookupArg(syscall, r.Index); ok {
		return spec.Width
	}
	return 64
}

// Match reports whether the argument value v satisfies r at width bits.
func (r ArgRule) Match(v uint64, width int) bool {
	if width == 32 {
		v &= 0xffffffff
	}
	switch r.Op {
	case OpIn:
		m := r.Mask
		if m == 0 {
			m = ^uint64(0)
		}
		if width == 32 {
			m &= 0xffffffff
		}
		return slices.Contains(r.Values, v&m)
	case OpSubset:
		m := r.Mask
		if width == 32 {
			m |= 0xffffffff00000000
		}
		return v&^m == 0
	case OpRange:
		return r.Min <= v && v <= r.Max
	}
	return false
}

// Load reads and validates the profile at path.
func Load(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load profile: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load profile %s: %w", path, err)
	}
	return p, nil
}

// Parse decodes and validates a profile. Unknown fields are errors: a
// misspelt field would otherwise silently widen or narrow a filter.
func Parse(b []byte) (*Profile, error) {
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
		return nil, err
	}
	return &p, nil
}

func describeJSONError(b []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %s: %s is not %s", te.Field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
		return fmt.Errorf("line %d: %w", line, err)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s", msg)
	}
	return err
}

// Validate checks p and names the first bad field.
func (p *Profile) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("field version: unsupported version %d (this sysrec reads version %d)", p.Version, Version)
	}
	if len(p.Arch) == 0 {
		return errors.New("field arch: no architecture listed")
	}
	var arches []*Arch
	for i, name := range p.Arch {
		a, err := LookupArch(name)
		if err != nil {
			return fmt.Errorf("field arch[%d]: %w", i, err)
		}
		arches = append(arches, a)
	}
	if p.DefaultAction.IsZero() {
		return errors.New("field default_action: missing")
	}
	for i, s := range p.Syscalls {
		known := false
		for _, a := range arches {
			if _, ok := a.Number(s.Name); ok {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("field syscalls[%d].name: %w", i, unknownSyscall(s.Name, arches))
		}
		for j, r := range s.Args {
			if err := r.validate(); err != nil {
				return fmt.Errorf("field syscalls[%d].args[%d] (%s): %w", i, j, s.Name, err)
			}
		}
	}
	return nil
}

func (r ArgRule) validate() error {
	if r.Index < 0 || r.Index > 5 {
		return fmt.Errorf("index %d out of range 0..5", r.Index)
	}
	if r.Width != 0 && r.Width != 32 && r.Width != 64 {
		return fmt.Errorf("width %d is not 32 or 64", r.Width)
	}
	switch r.Op {
	case OpIn:
		if len(r.Values) == 0 {
			return errors.New(`op "in" needs at least one value`)
		}
	case OpSubset:
		if len(r.Values) != 0 {
			return errors.New(`op "subset" takes a mask, not values`)
		}
	case OpRange:
		if r.Min > r.Max {
			return fmt.Errorf("range min %d > max %d", r.Min, r.Max)
		}
	default:
		return fmt.Errorf("unknown op %q (want in, subset, range)", r.Op)
	}
	return nil
}

func unknownSyscall(name string, arches []*Arch) error {
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
	if p.Syscalls == nil {
		p.Syscalls = []Syscall{}
	}
}

// Marshal returns the canonical JSON encoding of p: the same profile
// always gives the same bytes.
func (p *Profile) Marshal() ([]byte, error) {
	c := p.Clone()
	c.Normalize()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode profile: %w", err)
	}
	return append(b, '\n'), nil
}

// Save writes p to path in canonical form.
func (p *Profile) Save(path string) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return nil
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
	if p.Recorded != nil {
		r := *p.Recorded
		r.Command = slices.Clone(r.Command)
		c.Recorded = &r
	}
	return &c
}
