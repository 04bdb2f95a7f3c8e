package emit

import (
	"encoding/json"
	"fmt"

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
// runtimes' own setup calls added as opts.ContainerSetup says (see
// WithContainerSetup).
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
	p, err := unionOnly(p, opts, "oci")
	if err != nil {
		return ociSeccomp{}, err
	}
	p, err = WithContainerSetup(p, opts.ContainerSetup)
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

// ociEntries converts one syscall's entries (in p's order, first match
// wins) into OCI entries with the same decisions.
func ociEntries(ss []profiles.Syscall, def profiles.Action) ([]ociSyscall, error) {
	var out []ociSyscall
	for i, s := range ss {
		act := s.EffectiveAction()
		if act == def {
			continue // the default answers these calls anyway
		}
		terms, ok := profiles.RulesTerms(s.Name, s.Args, maxOCIAlternatives)
		if !ok {
			return nil, fmt.Errorf("entry %d (%s): its argument combinations exceed %d OCI entries", i+1, act, maxOCIAlternatives)
		}
		// What an earlier entry of another action matches is its.
		for _, e := range ss[:i] {
			if e.EffectiveAction() == act || len(terms) == 0 {
				continue
			}
			neg, ok := profiles.NegTerms(e.Name, e.Args)
			if !ok {
				return nil, fmt.Errorf("entry %d (%s): the complement of an earlier entry's rules is too large for OCI entries", i+1, act)
			}
			var next []profiles.Term
			for _, t := range terms {
				for _, n := range neg {
					if v, ok := t.And(n); ok {
						next = append(next, v)
					}
				}
				if len(next) > maxOCIAlternatives {
					return nil, fmt.Errorf("entry %d (%s) less the earlier entries of other actions needs more than %d OCI entries (OCI entries are not ordered: each must carry the exceptions)", i+1, act, maxOCIAlternatives)
				}
			}
			terms = profiles.MergeTerms(next)
		}
		terms = profiles.MergeTerms(terms)
		name, errno := ociAction(act)
		for _, t := range terms {
			e := ociSyscall{Names: []string{s.Name}, Action: name, ErrnoRet: errno}
			for idx, c := range t {
				if c.Mask == 0 {
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

// ociCompare is one cube as an OCI comparison: SCMP_CMP_EQ when every
// bit of the argument is compared, SCMP_CMP_MASKED_EQ otherwise
// (libseccomp compares both 32-bit halves with the mask's halves, so a
// 32-bit mask leaves an int argument's upper half alone).
func ociCompare(index int, c profiles.Cube) ociArg {
	if c.Mask == ^uint64(0) {
		return ociArg{Index: uint(index), Value: c.Value, Op: "SCMP_CMP_EQ"}
	}
	return ociArg{Index: uint(index), Value: c.Mask, ValueTwo: c.Value, Op: "SCMP_CMP_MASKED_EQ"}
}
