package profiles

import "github.com/sysrec/sysrec/linuxabi"

// Decide is the reference semantics of a profile: the action the kernel
// must take for d. emit's compiled filters are tested against it, so it
// shares no code with the compiler beyond the rule model (ArgRule.Match).
func (p *Profile) Decide(d linuxabi.SeccompData) Action {
	var arch *linuxabi.Arch
	for _, name := range p.Arch {
		if a, err := linuxabi.LookupArch(name); err == nil && a.Audit == d.Arch {
			arch = a
			break
		}
	}
	if arch == nil || (arch.X32 != 0 && uint32(d.Nr)&arch.X32 != 0) {
		return p.BadArch()
	}
	name := arch.SyscallName(int(d.Nr))
	if name == "" {
		return p.Unknown()
	}
	for _, s := range p.Syscalls {
		if s.Name != name || !s.AppliesTo(arch) || !s.matches(arch, d.Args) {
			continue
		}
		return s.EffectiveAction()
	}
	return p.DefaultAction
}

// BadArch is the action for a call from an arch the profile does not
// list, or from the x32 ABI: BadArchAction, or kill_process when unset.
func (p *Profile) BadArch() Action {
	if p.BadArchAction.IsZero() {
		return ActKillProcess
	}
	return p.BadArchAction
}

// Unknown is the action for a syscall number the arch's table does not
// name: UnknownAction, or DefaultAction when unset.
func (p *Profile) Unknown() Action {
	if p.UnknownAction.IsZero() {
		return p.DefaultAction
	}
	return p.UnknownAction
}

func (s Syscall) matches(arch *linuxabi.Arch, args [6]uint64) bool {
	for _, r := range s.Args {
		if !r.Match(args[r.Index], ArchWidth(arch, s.Name, r)) {
			return false
		}
	}
	return true
}
