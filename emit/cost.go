package emit

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Cost is what a filter costs the calls a profile recorded. The kernel's
// seccomp action cache answers argument-free allowed calls without
// running the filter, so they cost nothing; every call with argument
// rules runs it.
type Cost struct {
	// Calls is the recorded calls that run the filter; All every
	// recorded call.
	Calls, All uint64
	// Expected is the mean number of instructions such a call executes,
	// PerCall the mean over all recorded calls (cached ones as 0).
	Expected, PerCall float64
	// Bound is a lower bound of Expected for any filter that checks the
	// same arch and the same argument rules: per call, the arch load and
	// check, the number load, one comparison, and its own argument checks.
	Bound float64
}

// PathCost runs prog (any seccomp filter for p's first arch: sysrec's or
// another compiler's) on one allowed input per recorded syscall with
// argument rules, weighted by the recorded counts.
func PathCost(p *profiles.Profile, prog []bpf.RawInstruction) (Cost, error) {
	arch, err := linuxabi.LookupArch(p.Arch[0])
	if err != nil {
		return Cost{}, err
	}
	var c Cost
	var steps, bound uint64
	seen := map[string]bool{}
	for _, s := range p.Syscalls {
		c.All += s.Count
		if len(s.Args) == 0 || s.Count == 0 || seen[s.Name] || !s.EffectiveAction().Allows() || !s.AppliesTo(arch) {
			continue
		}
		seen[s.Name] = true
		var count uint64
		for _, e := range p.Syscalls {
			if e.Name == s.Name && e.AppliesTo(arch) {
				count += e.Count
			}
		}
		nr, _ := arch.Number(s.Name)
		d := linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit, Args: matching(s)}
		_, n, err := cbpf.Exec(prog, d)
		if err != nil {
			return Cost{}, fmt.Errorf("cost of %s: %w", s.Name, err)
		}
		own, err := argSteps(p, arch, s.Name, d)
		if err != nil {
			return Cost{}, err
		}
		c.Calls += count
		steps += count * uint64(n)
		bound += count * uint64(4+own)
	}
	if c.Calls > 0 {
		c.Expected = float64(steps) / float64(c.Calls)
		c.Bound = float64(bound) / float64(c.Calls)
	}
	if c.All > 0 {
		c.PerCall = float64(steps) / float64(c.All)
	}
	return c, nil
}

// matching returns arguments that satisfy every rule of s.
func matching(s profiles.Syscall) [6]uint64 {
	var args [6]uint64
	for _, r := range s.Args {
		switch r.Op {
		case profiles.OpIn:
			args[r.Index] = slices.Min(r.Values)
		case profiles.OpRange:
			args[r.Index] = r.Min
		}
	}
	return args
}

// argSteps is how many instructions the argument block of name executes
// for d, its return included: what any filter with these rules must run
// once it knows the syscall.
func argSteps(p *profiles.Profile, arch *linuxabi.Arch, name string, d linuxabi.SeccompData) (int, error) {
	var b cbpf.Builder
	argBlock(&b, p, arch, name)
	prog, err := b.Assemble()
	if err != nil {
		return 0, err
	}
	_, n, err := cbpf.Exec(prog.Raw(), d)
	return n, err
}

// FilterCost is PathCost of the encoded filter (sock_filter array), and
// its length in instructions.
func FilterCost(p *profiles.Profile, filter []byte) (Cost, int, error) {
	prog, err := cbpf.Decode(filter)
	if err != nil {
		return Cost{}, 0, err
	}
	c, err := PathCost(p, prog)
	return c, len(prog), err
}
