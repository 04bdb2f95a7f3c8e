package emit

import (
	"encoding/json"
	"fmt"
	"math/bits"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// The OCI runtime spec's seccomp section (runc, crun, Docker, Podman).
type ociSeccomp struct {
	DefaultAction   string       `json:"defaultAction"`
	DefaultErrnoRet *uint        `json:"defaultErrnoRet,omitempty"`
	Architectures   []string     `json:"architectures"`
	Syscalls        []ociSyscall `json:"syscalls"`
}

type ociSyscall struct {
	Names    []string `json:"names"`
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []ociArg `json:"args,omitempty"`
}

type ociArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

var ociActions = map[profiles.ActionKind]string{
	profiles.Allow:       "SCMP_ACT_ALLOW",
	profiles.KillProcess: "SCMP_ACT_KILL_PROCESS",
	profiles.KillThread:  "SCMP_ACT_KILL_THREAD",
	profiles.Trap:        "SCMP_ACT_TRAP",
	profiles.Errno:       "SCMP_ACT_ERRNO",
	profiles.UserNotif:   "SCMP_ACT_NOTIFY",
	profiles.Trace:       "SCMP_ACT_TRACE",
	profiles.Log:         "SCMP_ACT_LOG",
}

var ociArches = map[string]string{
	"x86_64": "SCMP_ARCH_X86_64", "i386": "SCMP_ARCH_X86", "aarch64": "SCMP_ARCH_AARCH64",
	"arm": "SCMP_ARCH_ARM", "riscv64": "SCMP_ARCH_RISCV64",
}

// OCI returns p as the seccomp section of an OCI runtime config
// (linux.seccomp), which runc, crun, Docker and Podman load, with the
// runtimes' own setup calls added as opts.RuntimeSetup says (see
// WithRuntimeSetup).
//
// The output decides every call of a listed arch as p does. OCI entries
// are not evaluated in order: runc and crun hand them to libseccomp,
// which ORs the entries of one action and leaves overlapping entries of
// different actions to its own rules; an entry whose action is the
// default is dropped; and two comparisons of one argument in an entry
// are ORed, not ANDed (runc's "revert to old behavior", crun #2237). So
// every argument rule becomes a union of masked-equality blocks
// ((arg & mask) == value: an "in" value, a "subset" rule's forbidden
// bits, a range's aligned power-of-two blocks), each entry is cut into
// what its earlier entries of other actions leave to it (first match
// wins in p), and each resulting conjunction, one comparison per
// argument, is one OCI entry. Those entries never overlap across
// actions. A syscall whose rules need more than maxOCIAlternatives
// entries is refused with its name.
//
// What OCI cannot say: calls from an arch p does not list (and x86_64's
// x32 numbers) get libseccomp's bad-arch action, kill_thread, where p
// says kill_process (so a bad_arch_action other than kill_process is
// refused); numbers no syscall table names get the default action
// (runc answers numbers above the newest syscall the profile names with
// ENOSYS), whatever p's unknown_action says.
func OCI(p *profiles.Profile, opts Options) ([]byte, error) {
	out, err := ociProfile(p, opts)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode oci seccomp: %w", err)
	}
	return append(b, '\n'), nil
}

// ociProfile converts p to the OCI structure OCI writes and SPO reuses.
func ociProfile(p *profiles.Profile, opts Options) (ociSeccomp, error) {
	if err := p.Validate(); err != nil {
		return ociSeccomp{}, err
	}
	p, err := WithRuntimeSetup(p, opts.RuntimeSetup)
	if err != nil {
		return ociSeccomp{}, err
	}
	if len(p.Arch) > 1 {
		// An OCI rule (runtime-spec LinuxSyscall) applies to every
		// listed arch: an entry of one arch would apply to the others,
		// where its name is another call (i386 mmap takes a pointer).
		for _, s := range p.Syscalls {
			if s.Arch != "" {
				return ociSeccomp{}, fmt.Errorf("convert profile to oci: entry %s applies to %s only, and oci syscall rules have no arch; emit a profile of one arch (or the bpf format)", profiles.FormatCall(s), s.Arch)
			}
		}
	}
	if p.BadArch() != profiles.ActKillProcess {
		return ociSeccomp{}, fmt.Errorf("convert profile to oci: bad_arch_action %s cannot be expressed (runtimes answer foreign arches with libseccomp's kill_thread)", p.BadArchAction)
	}
	out := ociSeccomp{Architectures: []string{}, Syscalls: []ociSyscall{}}
	out.DefaultAction, out.DefaultErrnoRet = ociAction(p.DefaultAction)
	for _, a := range p.Arch {
		arch, err := linuxabi.LookupArch(a)
		if err != nil {
			return ociSeccomp{}, err
		}
		out.Architectures = append(out.Architectures, ociArches[arch.Name])
	}
	c := p.Clone()
	c.Normalize() // sorted by name, stable: each syscall's entries keep their order
	for i := 0; i < len(c.Syscalls); {
		j := i
		for j < len(c.Syscalls) && c.Syscalls[j].Name == c.Syscalls[i].Name {
			j++
		}
		entries, err := ociEntries(c.Syscalls[i:j], p.DefaultAction)
		if err != nil {
			return ociSeccomp{}, fmt.Errorf("convert %s rules to oci: %w", c.Syscalls[i].Name, err)
		}
		for _, e := range entries {
			// Consecutive argument-free entries with one action share an entry.
			if n := len(out.Syscalls); n > 0 && len(e.Args) == 0 && len(out.Syscalls[n-1].Args) == 0 && out.Syscalls[n-1].Action == e.Action && eqErrno(out.Syscalls[n-1].ErrnoRet, e.ErrnoRet) {
				out.Syscalls[n-1].Names = append(out.Syscalls[n-1].Names, e.Names...)
				continue
			}
			out.Syscalls = append(out.Syscalls, e)
		}
		i = j
	}
	return out, nil
}

func eqErrno(a, b *uint) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// ociAction is a's OCI name and errnoRet. runc reads errnoRet for trace
// too, and without it answers EPERM (errno) or traces with data 1.
func ociAction(a profiles.Action) (string, *uint) {
	if a.Kind == profiles.Errno || a.Kind == profiles.Trace {
		n := uint(a.Data)
		return ociActions[a.Kind], &n
	}
	return ociActions[a.Kind], nil
}

// maxOCIAlternatives bounds the OCI entries of one syscall.
const maxOCIAlternatives = 256

// cube is one masked equality on an argument: (arg & mask) == value,
// value within mask. A zero mask matches everything.
type cube struct{ mask, value uint64 }

func (a cube) and(b cube) (cube, bool) {
	if (a.value^b.value)&a.mask&b.mask != 0 {
		return cube{}, false
	}
	return cube{a.mask | b.mask, a.value | b.value}, true
}

func (a cube) contains(b cube) bool { return a.mask&^b.mask == 0 && b.value&a.mask == a.value }

// term is a conjunction of one cube per argument.
type term [6]cube

func (t term) and(u term) (term, bool) {
	for i := range t {
		c, ok := t[i].and(u[i])
		if !ok {
			return term{}, false
		}
		t[i] = c
	}
	return t, true
}

// widthMask is the part of an argument a rule of width bits compares.
func widthMask(width int) uint64 {
	if width == 32 {
		return 0xffffffff
	}
	return ^uint64(0)
}

// ruleCubes is the union of cubes a rule accepts.
func ruleCubes(name string, r profiles.ArgRule) []cube {
	width := profiles.WidthOf(name, r)
	switch r.Op {
	case profiles.OpIn:
		m := r.ValueMask(width)
		var out []cube
		for _, v := range r.Values {
			if v&^m == 0 { // a value with bits outside the mask never matches
				out = append(out, cube{m, v})
			}
		}
		return mergeCubes(out)
	case profiles.OpSubset:
		return []cube{{r.Forbidden(width), 0}}
	case profiles.OpRange:
		return rangeCubes(r.Min, min(r.Max, widthMask(width)), widthMask(width))
	}
	return nil
}

// rangeCubes splits lo..hi (both within wm) into aligned power-of-two
// blocks, at most two per bit.
func rangeCubes(lo, hi, wm uint64) []cube {
	if lo > hi {
		return nil
	}
	if lo == 0 && hi == wm {
		return []cube{{}}
	}
	var out []cube
	for {
		k := 0 // the largest block that starts at lo and ends by hi
		for k < 63 {
			size := uint64(1) << (k + 1)
			if lo&(size-1) != 0 || lo+size-1 > hi || lo+size-1 < lo {
				break
			}
			k++
		}
		size := uint64(1) << k
		out = append(out, cube{wm &^ (size - 1), lo})
		end := lo + size - 1
		if end >= hi {
			return out
		}
		lo = end + 1
	}
}

// mergeCubes joins cubes that differ in one bit of equal masks, until
// none do: the same set, in fewer comparisons (rt_sigaction's 62
// signals are 10 blocks).
func mergeCubes(cs []cube) []cube {
	for {
		merged := false
		for i := 0; i < len(cs) && !merged; i++ {
			for j := i + 1; j < len(cs); j++ {
				d := cs[i].value ^ cs[j].value
				if cs[i].mask == cs[j].mask && d&(d-1) == 0 && d != 0 {
					cs[i] = cube{cs[i].mask &^ d, cs[i].value &^ d}
					cs = append(cs[:j], cs[j+1:]...)
					merged = true
					break
				}
				if cs[i].contains(cs[j]) {
					cs = append(cs[:j], cs[j+1:]...)
					merged = true
					break
				}
				if cs[j].contains(cs[i]) {
					cs = append(cs[:i], cs[i+1:]...)
					merged = true
					break
				}
			}
		}
		if !merged {
			return cs
		}
	}
}

// complementCubes is the set of values in none of cs, as disjoint
// cubes that test only bits cs test (so an int argument's complement
// leaves its upper half alone): split on those bits, highest first (a
// range's blocks are prefixes), until each piece is inside a cube or
// outside all. False when that takes more than maxSplits pieces.
func complementCubes(cs []cube) ([]cube, bool) {
	var tested uint64
	for _, c := range cs {
		tested |= c.mask
	}
	var out []cube
	budget := maxSplits
	var split func(piece cube) bool
	split = func(piece cube) bool {
		if budget--; budget < 0 {
			return false
		}
		inter := false
		for _, c := range cs {
			if c.contains(piece) {
				return true
			}
			if _, ok := c.and(piece); ok {
				inter = true
			}
		}
		if !inter {
			out = append(out, piece)
			return true
		}
		free := tested &^ piece.mask
		b := uint64(1) << (63 - bits.LeadingZeros64(free))
		return split(cube{piece.mask | b, piece.value}) && split(cube{piece.mask | b, piece.value | b})
	}
	if !split(cube{}) {
		return nil, false
	}
	return mergeCubes(out), true
}

// maxSplits bounds the work of one complement.
const maxSplits = 1 << 14

// entryTerms is an entry's rules as a union of terms (none: it matches
// nothing); false when there would be more than maxOCIAlternatives.
func entryTerms(s profiles.Syscall) ([]term, bool) {
	terms := []term{{}}
	for _, r := range s.Args {
		var next []term
		for _, t := range terms {
			for _, c := range ruleCubes(s.Name, r) {
				var u term
				u[r.Index] = c
				if v, ok := t.and(u); ok {
					next = append(next, v)
				}
			}
			if len(next) > maxOCIAlternatives {
				return nil, false
			}
		}
		terms = next
	}
	return terms, true
}

// negTerms is the complement of an entry as a union of terms, each
// constraining one argument; false when it is too large to compute.
func negTerms(s profiles.Syscall) ([]term, bool) {
	// Rules on one argument intersect first: the complement of their
	// intersection, per argument, ORed over the arguments.
	perArg := map[int][]cube{}
	var order []int
	for _, r := range s.Args {
		cs := ruleCubes(s.Name, r)
		if prev, ok := perArg[r.Index]; ok {
			var both []cube
			for _, a := range prev {
				for _, b := range cs {
					if c, ok := a.and(b); ok {
						both = append(both, c)
					}
				}
			}
			cs = both
		} else {
			order = append(order, r.Index)
		}
		perArg[r.Index] = cs
	}
	var out []term
	for _, i := range order {
		cs, ok := complementCubes(perArg[i])
		if !ok {
			return nil, false
		}
		for _, c := range cs {
			var t term
			t[i] = c
			out = append(out, t)
		}
	}
	return out, true
}

// ociEntries converts one syscall's entries (in p's order, first match
// wins) into OCI entries with the same decisions.
func ociEntries(ss []profiles.Syscall, def profiles.Action) ([]ociSyscall, error) {
	var out []ociSyscall
	for i, s := range ss {
		act := s.EffectiveAction()
		if act == def {
			continue // the default answers these calls anyway
		}
		terms, ok := entryTerms(s)
		if !ok {
			return nil, fmt.Errorf("entry %d (%s): its argument combinations exceed %d OCI entries", i+1, act, maxOCIAlternatives)
		}
		// What an earlier entry of another action matches is its.
		for _, e := range ss[:i] {
			if e.EffectiveAction() == act || len(terms) == 0 {
				continue
			}
			neg, ok := negTerms(e)
			if !ok {
				return nil, fmt.Errorf("entry %d (%s): the complement of an earlier entry's rules is too large for OCI entries", i+1, act)
			}
			var next []term
			for _, t := range terms {
				for _, n := range neg {
					if v, ok := t.and(n); ok {
						next = append(next, v)
					}
				}
				if len(next) > maxOCIAlternatives {
					return nil, fmt.Errorf("entry %d (%s) less the earlier entries of other actions needs more than %d OCI entries (OCI entries are not ordered: each must carry the exceptions)", i+1, act, maxOCIAlternatives)
				}
			}
			terms = mergeTerms(next)
		}
		terms = mergeTerms(terms)
		name, errno := ociAction(act)
		for _, t := range terms {
			e := ociSyscall{Names: []string{s.Name}, Action: name, ErrnoRet: errno}
			for idx, c := range t {
				if c.mask == 0 {
					continue
				}
				e.Args = append(e.Args, ociCompare(idx, c))
			}
			out = append(out, e)
		}
		if len(out) > maxOCIAlternatives {
			return nil, fmt.Errorf("%d argument combinations exceed %d OCI entries", len(out), maxOCIAlternatives)
		}
	}
	return out, nil
}

// mergeTerms joins terms equal but for one argument whose cubes merge,
// and drops terms another contains.
func mergeTerms(ts []term) []term {
	for {
		merged := false
	scan:
		for i := range ts {
			for j := range ts {
				if i == j {
					continue
				}
				if containsTerm(ts[i], ts[j]) {
					ts = append(ts[:j], ts[j+1:]...)
					merged = true
					break scan
				}
				diff := -1
				for k := range ts[i] {
					if ts[i][k] != ts[j][k] {
						if diff >= 0 {
							diff = -2
							break
						}
						diff = k
					}
				}
				if diff < 0 {
					continue
				}
				a, b := ts[i][diff], ts[j][diff]
				d := a.value ^ b.value
				if a.mask == b.mask && d != 0 && d&(d-1) == 0 {
					ts[i][diff] = cube{a.mask &^ d, a.value &^ d}
					ts = append(ts[:j], ts[j+1:]...)
					merged = true
					break scan
				}
			}
		}
		if !merged {
			return ts
		}
	}
}

func containsTerm(a, b term) bool {
	for k := range a {
		if !a[k].contains(b[k]) {
			return false
		}
	}
	return true
}

// ociCompare is one cube as an OCI comparison: SCMP_CMP_EQ when every
// bit of the argument is compared, SCMP_CMP_MASKED_EQ otherwise
// (libseccomp compares both 32-bit halves with the mask's halves, so a
// 32-bit mask leaves an int argument's upper half alone).
func ociCompare(index int, c cube) ociArg {
	if c.mask == ^uint64(0) {
		return ociArg{Index: uint(index), Value: c.value, Op: "SCMP_CMP_EQ"}
	}
	return ociArg{Index: uint(index), Value: c.mask, ValueTwo: c.value, Op: "SCMP_CMP_MASKED_EQ"}
}
