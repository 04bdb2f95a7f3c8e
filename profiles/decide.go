package profiles

// Data is the part of the kernel's struct seccomp_data a filter can see
// (the instruction pointer is never used by sysrec filters).
type Data struct {
	Nr   int32
	Arch uint32
	Args [6]uint64
}

// Decide is the reference semantics of a profile: the action the kernel
// must take for d. emit's compiled filters are tested against it.
func (p *Profile) Decide(d Data) Action {
	var arch *Arch
	for _, name := range p.Arch {
		if a, err := LookupArch(name); err == nil && a.Audit == d.Arch {
			arch = a
			break
		}
	}
	if arch == nil || (arch.X32 != 0 && uint32(d.Nr)&arch.X32 != 0) {
		return p.badArchAction()
	}
	name := arch.SyscallName(int(d.Nr))
	if name == "" {
		if !p.UnknownAction.IsZero() {
			return p.UnknownAction
		}
		return p.DefaultAction
	}
	for _, s := range p.Syscalls {
		if s.Name != name || !s.matches(d.Args) {
			continue
		}
		return s.EffectiveAction()
	}
	return p.DefaultAction
}

func (p *Profile) badArchAction() Action {
	if p.BadArchAction.IsZero() {
		return ActKillProcess
	}
	return p.BadArchAction
}

func (s Syscall) matches(args [6]uint64) bool {
	for _, r := range s.Args {
		if !r.Match(args[r.Index], WidthOf(s.Name, r)) {
			return false
		}
	}
	return true
}
