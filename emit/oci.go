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
// runtimes' own setup calls added as opts.RuntimeSetup says (see
// WithRuntimeSetup).
//
// OCI ANDs the args of one entry, one comparison per argument, and ORs
// entries. So an "in" rule becomes one entry per value (the cross
// product over several "in" rules), a "subset" rule is
// SCMP_CMP_MASKED_EQ(~allowed, 0), and a range is expanded to its values
// when small, or refused.
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
	if p.BadArch() != profiles.ActKillProcess {
		return ociSeccomp{}, fmt.Errorf("convert profile to oci: bad_arch_action %s cannot be expressed (runtimes use the default action)", p.BadArchAction)
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
	c.Normalize()
	// Consecutive argument-free entries with one action share an entry.
	for _, s := range c.Syscalls {
		action, errno := ociAction(s.EffectiveAction())
		if len(s.Args) == 0 {
			if n := len(out.Syscalls); n > 0 && len(out.Syscalls[n-1].Args) == 0 && out.Syscalls[n-1].Action == action && eqErrno(out.Syscalls[n-1].ErrnoRet, errno) {
				out.Syscalls[n-1].Names = append(out.Syscalls[n-1].Names, s.Name)
				continue
			}
			out.Syscalls = append(out.Syscalls, ociSyscall{Names: []string{s.Name}, Action: action, ErrnoRet: errno})
			continue
		}
		alts, err := ociArgs(s)
		if err != nil {
			return ociSeccomp{}, fmt.Errorf("convert %s rules to oci: %w", s.Name, err)
		}
		for _, args := range alts {
			out.Syscalls = append(out.Syscalls, ociSyscall{Names: []string{s.Name}, Action: action, ErrnoRet: errno, Args: args})
		}
	}
	return out, nil
}

func eqErrno(a, b *uint) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func ociAction(a profiles.Action) (string, *uint) {
	if a.Kind == profiles.Errno {
		n := uint(a.Data)
		return ociActions[a.Kind], &n
	}
	return ociActions[a.Kind], nil
}

// maxOCIAlternatives bounds the cross product of "in" rules.
const maxOCIAlternatives = 256

// ociArgs returns the alternatives (ORed entries) for s's rules.
func ociArgs(s profiles.Syscall) ([][]ociArg, error) {
	alts := [][]ociArg{nil}
	for _, r := range s.Args {
		width := profiles.WidthOf(s.Name, r)
		var choices []ociArg
		switch r.Op {
		case profiles.OpIn:
			for _, v := range r.Values {
				choices = append(choices, inArg(r, v, width))
			}
		case profiles.OpSubset:
			choices = []ociArg{{Index: uint(r.Index), Value: r.Forbidden(width), ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"}}
		case profiles.OpRange:
			if r.Max-r.Min >= 64 {
				return nil, fmt.Errorf("range %d..%d of arg %d is too wide for OCI (one comparison per argument)", r.Min, r.Max, r.Index)
			}
			for v := r.Min; ; v++ {
				choices = append(choices, inArg(profiles.ArgRule{Index: r.Index}, v, width))
				if v == r.Max {
					break
				}
			}
		}
		if len(alts)*len(choices) > maxOCIAlternatives {
			return nil, fmt.Errorf("%d argument combinations exceed %d OCI entries", len(alts)*len(choices), maxOCIAlternatives)
		}
		var next [][]ociArg
		for _, a := range alts {
			for _, c := range choices {
				next = append(next, append(append([]ociArg(nil), a...), c))
			}
		}
		alts = next
	}
	return alts, nil
}

// inArg is one "(arg & mask) == v". libseccomp compares 32-bit
// arguments on their low word when given a 32-bit mask; sysrec widens
// int arguments' masks to the low word only so negative ints match.
func inArg(r profiles.ArgRule, v uint64, width int) ociArg {
	mask := r.ValueMask(width)
	if mask == ^uint64(0) {
		return ociArg{Index: uint(r.Index), Value: v, Op: "SCMP_CMP_EQ"}
	}
	return ociArg{Index: uint(r.Index), Value: mask, ValueTwo: v, Op: "SCMP_CMP_MASKED_EQ"}
}
