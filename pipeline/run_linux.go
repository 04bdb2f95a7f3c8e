package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Stdio is a target's standard streams.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// LandlockOff leaves a profile's filesystem and network sections
// unenforced.
const LandlockOff enforce.LandlockMode = "off"

// ParseLandlockMode reads required, best-effort or off.
func ParseLandlockMode(s string) (enforce.LandlockMode, error) {
	switch m := enforce.LandlockMode(s); m {
	case enforce.LandlockRequired, enforce.LandlockBestEffort, LandlockOff:
		return m, nil
	}
	return "", fmt.Errorf("landlock mode %q (want required, best-effort or off)", s)
}

// RunOptions say how Run enforces a profile.
type RunOptions struct {
	Stdio Stdio
	// Landlock says how the profile's Landlock sections are enforced
	// (LandlockOff: not at all).
	Landlock enforce.LandlockMode
	// PhasesOff enforces a profile with phases as the union of its
	// phases (every entry at all times), without a supervisor.
	PhasesOff bool
	// OnRefused is told of each init call refused to a serving process,
	// once per executable and syscall.
	OnRefused func(enforce.Refusal)
	// OnOutlived is told when the target has exited and processes it
	// started still run under the supervisor (enforce.NotifyOptions).
	OnOutlived func(enforce.Exit)
}

// ErrPhases wraps why a profile's phases cannot be enforced here.
var ErrPhases = errors.New("enforce phases")

// Run runs argv under p's filter (and its Landlock ruleset, unless
// o.Landlock is LandlockOff) until it exits. A profile with phases is
// enforced per process: its init entries go to a supervisor that lets
// them run while the calling process has not started serving and gives
// them the default action after. A target that cannot be found gives an
// error wrapping exec.ErrNotFound.
func Run(ctx context.Context, p *profiles.Profile, argv []string, o RunOptions) (enforce.Exit, error) {
	if err := allowsExec(p); err != nil {
		return enforce.Exit{}, err
	}
	phased := p.HasPhases() && !o.PhasesOff
	if !phased {
		p = p.Union()
	}
	var in *instance
	if o.Landlock != LandlockOff {
		var err error
		if in, err = instantiate(p, argv, o.Stdio); err != nil {
			return enforce.Exit{}, err
		}
		defer in.Close()
		in.warn(o.Stdio)
	}
	// Made files need the supervisor only where Landlock is on (off,
	// nothing keeps the target from making any file itself).
	made := in != nil && (in.Profile.HasMade() || in.Profile.HasThreadNames())
	if made {
		if err := sameUser(); err != nil {
			return enforce.Exit{}, err
		}
	}
	var cmd *enforce.Cmd
	switch {
	case phased || made:
		// One filter, one listener (the kernel allows one per filter
		// stack), one supervisor: init entries' calls answered by phase,
		// the calls that may make a made file by the supervisor's
		// deputy (made_linux.go).
		view := p
		nopts := enforce.NotifyOptions{OnOutlived: o.OnOutlived}
		if phased {
			tracker, err := trackPhases(p)
			if err != nil {
				return enforce.Exit{}, err
			}
			defer closeTracker(tracker, o.Stdio)
			view = p.Supervised()
			nopts.Phases = &enforce.PhaseOptions{Tracker: tracker, Notified: p.Notified, OnRefused: o.OnRefused}
		}
		if made {
			nopts.Made, nopts.ThreadNames = in.Profile.Filesystem.Made, in.Profile.Filesystem.ThreadNames
			if phased {
				supervised := view
				nopts.Phases.Init = func(d linuxabi.SeccompData) bool {
					return supervised.Decide(d, profiles.PhaseAny).Kind == profiles.UserNotif
				}
			}
			view = view.Making()
		}
		filter, err := emit.Raw(view, emit.Options{})
		if err != nil {
			return enforce.Exit{}, err
		}
		if cmd, err = enforce.NotifyCommand(filter, argv, nopts); err != nil {
			return enforce.Exit{}, err
		}
	default:
		filter, err := emit.Raw(p, emit.Options{})
		if err != nil {
			return enforce.Exit{}, err
		}
		if cmd, err = enforce.Command(filter, argv); err != nil {
			return enforce.Exit{}, err
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdio.In, o.Stdio.Out, o.Stdio.Err
	if in != nil {
		cmd.Env = in.Env
		cmd.Landlock, cmd.LandlockMode = in.Profile.Landlock(), o.Landlock
	}
	return cmd.Run(ctx)
}

// closeTracker says how many processes the tracker could not take, and
// closes it.
func closeTracker(t *enforce.PhaseTracker, stdio Stdio) {
	if n := t.LostForks(); n > 0 && stdio.Err != nil {
		fmt.Fprintf(stdio.Err, "sysrec: %d processes forked while the phase map was full (%d processes) were refused their init calls\n", n, bpfprog.PhaseMaxProcesses)
	}
	t.Close()
}

// sameUser checks that the target runs as sysrec's user: the
// supervisor makes made files as its own user, and must never lend the
// target another's rights (it also compares each caller's file system
// ids with its own, and lets calls of another user's continue).
func sameUser() error {
	if os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid() {
		return errors.New("made files: sysrec runs set-id (its real and effective ids differ), so its supervisor would make files as another user than the target's")
	}
	return nil
}

// phasesOff is how to do without phases.
const phasesOff = "--phases off allows every phase's calls at all times, without a supervisor"

// trackPhases loads the phase tracker for p's transition, or says how
// to do without.
func trackPhases(p *profiles.Profile) (*enforce.PhaseTracker, error) {
	if err := phaseEscape(p); err != nil {
		return nil, err
	}
	t, err := enforce.TrackPhases(p.Phases.Transition)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (%s)", ErrPhases, err, phasesOff)
	}
	return t, nil
}

// phaseEscapes are the calls that let a process act past the phases: a
// profile that allows one in the phase given ("": in any) has its phases
// refused rather than enforced in name only.
var phaseEscapes = []struct {
	name  string
	args  []uint64 // the arguments that make it one
	call  string   // name and args, as the error names them
	phase profiles.Phase
	why   string
}{
	// Refusing io_uring_enter in serving is not enough: a ring set up
	// with IORING_SETUP_SQPOLL is served by a kernel thread that needs
	// no call at all. No kernel mechanism confines one process's rings
	// from outside: IORING_REGISTER_RESTRICTIONS is the ring owner's
	// choice, kernel.io_uring_disabled the whole host's.
	{"io_uring_setup", nil, "io_uring_setup", profiles.PhaseAny, "io_uring's operations (socket, openat, connect...) are no system calls: neither the filter nor the supervisor sees them, and a ring set up in init works while the process serves"},
	{"io_uring_enter", nil, "io_uring_enter", profiles.PhaseServing, "io_uring's operations (socket, openat, connect...) are no system calls: neither the filter nor the supervisor sees them"},
	// The phase map is frozen against system calls
	// (enforce.PhaseTracker.Seal), not against programs.
	{"bpf", []uint64{unix.BPF_PROG_LOAD}, "bpf(BPF_PROG_LOAD)", profiles.PhaseAny, "a BPF program of the target's own (it runs as root) can write the phase map back to init"},
}

// phaseEscape says which call keeps p's phases from holding, if any.
func phaseEscape(p *profiles.Profile) error {
	// Every arch the profile lists: an i386 io_uring_setup through
	// int $0x80 makes a ring as well as the native one.
	native, err := linuxabi.Native()
	if err != nil {
		return err
	}
	for _, an := range p.Arch {
		arch, err := linuxabi.LookupArch(an)
		if err != nil {
			return err
		}
		call := func(c string) string {
			if arch == native {
				return c
			}
			return arch.Name + " " + c
		}
		for _, e := range phaseEscapes {
			nr, ok := arch.Number(e.name)
			if !ok {
				continue
			}
			d := linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit}
			copy(d.Args[:], e.args)
			for _, ph := range []profiles.Phase{profiles.PhaseInit, profiles.PhaseServing} {
				if e.phase != profiles.PhaseAny && e.phase != ph {
					continue
				}
				if a := p.Decide(d, ph); a.Kind == profiles.Allow || a.Kind == profiles.Log {
					if !listed(p, d, ph) {
						// No entry: the default action lets it run
						// (--default-action log, a diagnostic run).
						return fmt.Errorf("%w: the default action %s lets %s run in the %s phase: %s; choose a default that refuses, or %s", ErrPhases, p.DefaultAction, call(e.call), ph, e.why, phasesOff)
					}
					return fmt.Errorf("%w: the profile allows %s in its %s phase: %s; remove it from the profile (%s)", ErrPhases, call(e.call), ph, e.why, phasesOff)
				}
			}
		}
	}
	return nil
}

// listed reports whether an entry of p, not its default action, decides
// d in phase ph.
func listed(p *profiles.Profile, d linuxabi.SeccompData, ph profiles.Phase) bool {
	c := p.Clone()
	c.DefaultAction = profiles.ActKillProcess
	return c.Decide(d, ph) != profiles.ActKillProcess
}

// allowsExec checks that the profile lets the helper exec the target: the
// filter is installed before execve.
func allowsExec(p *profiles.Profile) error {
	arch, err := linuxabi.Native()
	if err != nil {
		return err
	}
	nr, _ := arch.Number("execve")
	// The helper execs the target before the target can serve: in init.
	if a := p.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit}, profiles.PhaseInit); a.Kind != profiles.Allow && a.Kind != profiles.Log {
		return fmt.Errorf("profile does not allow execve (it would get %s), which sysrec needs to start the target after installing the filter: add {\"name\": \"execve\"}", a)
	}
	return nil
}
