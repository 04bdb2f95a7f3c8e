package profiles

import "github.com/sysrec/sysrec/linuxabi"

// Decide is the reference semantics of a profile: the action the kernel
// must take for d, made by a process in phase (PhaseInit, or
// PhaseServing; any other value is taken as serving: a process whose
// phase is not known gets no init powers). emit's compiled filters are
// tested against it, so it shares no code with the compiler beyond the
// rule model (ArgRule.Match).
//
// The entries for any phase decide first, in order: the first that
// matches gives its action. Only a call none of them matches is decided
// by the init entries: one that matches allows it while the process is
// in init, and gives it the default action once the process serves.
// So a phase only ever narrows a profile, p.Union() decides as p does
// in init, p.ServingOnly() as p does in serving, and p.Supervised()'s
// filter answered by p.Notified(phase) as p does in phase.
func (p *Profile) Decide(d linuxabi.SeccompData, phase Phase) Action {
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
	initMatched := false
	for _, s := range p.Syscalls {
		if s.Name != name || !s.AppliesTo(arch) || !s.matches(arch, d.Args) {
			continue
		}
		if s.Phase == PhaseInit {
			initMatched = true // init entries allow (Validate)
			continue
		}
		return s.EffectiveAction()
	}
	if initMatched {
		return p.Notified(phase)
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
