package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// CheckOptions say how Check answers and reports violations.
type CheckOptions struct {
	// Deny fails violating calls with EPERM instead of letting them run.
	Deny bool
	// OnNew is called once per distinct violation, as it happens.
	OnNew func(s profiles.Sample, pid int)
	// Output, when set, receives the violations as a profile fragment
	// that merge adds to the profile; an empty fragment when there were
	// none. An old file there is removed before the target starts, so it
	// never outlives the run that disproved it, even if that run never
	// finishes.
	Output string
	Stdio  Stdio
	// Landlock compares the files and TCP ports the target uses with the
	// profile's filesystem and network sections, recording them with
	// eBPF in a fresh cgroup the target is born in (needs what record
	// needs), and enforces the profile's scopes; LandlockOff does
	// neither. The files and ports are never refused.
	Landlock enforce.LandlockMode
	// Home is the target's $HOME (reducer.Options.Home): the fragment
	// never widens reads to it as a whole.
	Home string
	// PhasesOff checks a profile with phases as the union of its phases;
	// otherwise an init entry used by a serving process is a violation
	// (a sample of the serving phase), and every violation is tagged
	// with the phase of the process that made it.
	PhasesOff bool
}

// CheckResult is what Check saw.
type CheckResult struct {
	Exit       enforce.Exit
	Violations []profiles.Sample
	// Dropped counts calls not kept because enforce.MaxViolations
	// distinct violations already were.
	Dropped uint64
	// Files and Ports are the rights the target used that the profile's
	// filesystem and network sections do not grant (what Landlock would
	// refuse under run), one entry per path or port.
	Files []profiles.FileAccess
	Ports []profiles.PortAccess
	// FilesUnresolved counts file accesses the recorder could not
	// resolve to a path: they were not compared.
	FilesUnresolved uint64
	// Fragment is the profile of the violations (nil without Output).
	Fragment *profiles.Profile
}

// Calls is the number of violating calls.
func (r *CheckResult) Calls() uint64 {
	n := r.Dropped
	for _, s := range r.Violations {
		n += s.Count
	}
	return n
}

// ErrFileRecording wraps what kept Check from recording the target's
// files and ports.
var ErrFileRecording = errors.New("record files and ports")

// Check runs argv with every call p does not allow sent to a supervisor
// instead of p's default action, and, unless o.Landlock is LandlockOff,
// compares the files and ports it used with p's Landlock sections.
func Check(ctx context.Context, p *profiles.Profile, argv []string, o CheckOptions) (*CheckResult, error) {
	if err := CheckOutput(o.Output); err != nil {
		return nil, err
	}
	arch, err := linuxabi.Native()
	if err != nil {
		return nil, err
	}
	nopts := enforce.NotifyOptions{Deny: o.Deny, OnNew: o.OnNew}
	var supervised *profiles.Profile
	var transition *profiles.Transition
	if p.HasPhases() && !o.PhasesOff {
		tracker, err := trackPhases(p)
		if err != nil {
			return nil, err
		}
		defer closeTracker(tracker, o.Stdio)
		// A notified call p allows in init is an init entry's: the
		// filter lets every call allowed in any phase run unasked.
		nopts.Phases = &enforce.PhaseOptions{Tracker: tracker, Init: func(d linuxabi.SeccompData) bool {
			return p.Decide(d, profiles.PhaseInit).Kind == profiles.Allow
		}}
		supervised = p.Supervised()
		transition = &p.Phases.Transition
	} else {
		supervised = p.Union()
	}
	supervised.DefaultAction = profiles.Action{Kind: profiles.UserNotif}
	filter, err := emit.Raw(supervised, emit.Options{})
	if err != nil {
		return nil, err
	}
	cmd, err := enforce.NotifyCommand(filter, argv, nopts)
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdio.In, o.Stdio.Out, o.Stdio.Err
	var watch *fileWatch
	live := p
	if o.Landlock != LandlockOff && o.Landlock != "" {
		in, err := instantiate(p, argv, o.Stdio)
		if err != nil {
			return nil, err
		}
		defer in.Close()
		in.warn(o.Stdio)
		cmd.Env = in.Env
		live = in.Profile
		// Scopes are enforced: a refusal is an EPERM the program can
		// live with, and the kernel's audit record names it. Files and
		// ports are recorded instead, and compared after the run with
		// the rules as run would make them from this command line.
		cmd.Landlock, cmd.LandlockMode = (&profiles.Profile{Scopes: p.Scopes}).Landlock(), o.Landlock
		if p.Filesystem != nil || p.Network != nil {
			if watch, err = watchFiles(cmd); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrFileRecording, err)
			}
			defer watch.close()
		}
	}
	perm, err := withdrawOutput(o.Output)
	if err != nil {
		return nil, err
	}
	// Files are compared, not refused: the target can write the
	// analysis cache.
	var ex enforce.Exit
	err = untrusted(func() (err error) {
		ex, err = cmd.Run(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &CheckResult{Exit: ex}
	res.Violations, res.Dropped = cmd.Violations()
	rec := &profiles.Recording{Arch: arch.Name, Command: argv, Samples: res.Violations, ExitStatus: ex.Status, Transition: transition}
	if watch != nil {
		files, err := watch.wait()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFileRecording, err)
		}
		rs := enforce.Instance(live.Landlock(), ex.PID)
		// Made files are made by run's supervisor: no violation.
		res.Files = live.Unmade(profiles.RefusedFiles(rs, files.Files))
		res.Ports = profiles.RefusedPorts(rs, files.Ports)
		res.FilesUnresolved = files.FilesUnresolved
		rec.Files, rec.Ports, rec.FilesUnresolved = files.Files, files.Ports, files.FilesUnresolved
	}
	if o.Output == "" {
		return res, nil
	}
	frag, err := reducer.Reduce([]*profiles.Recording{rec}, reducer.Options{NoBaseline: true, DefaultAction: p.DefaultAction, Name: p.Name + "-violations", Home: o.Home, Phased: transition != nil})
	if err != nil {
		return nil, err
	}
	frag.Scopes = keptScopes(p.Scopes, ex.Landlock)
	frag.Filesystem, frag.Network = neededSections(p, frag, res)
	b, err := frag.Marshal()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(o.Output, b, perm); err != nil {
		return nil, err
	}
	res.Fragment = frag
	return res, nil
}

// withdrawOutput removes the regular file at path, if any, so that a
// report of an earlier run is gone before this run starts, and returns
// the mode the new file should keep. Outputs written in place (stdout,
// a device, a FIFO) stay.
func withdrawOutput(path string) (fs.FileMode, error) {
	const perm = 0o644
	if path == "" || path == "-" {
		return perm, nil
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.Mode().IsRegular()) {
		return perm, nil
	}
	if err != nil {
		return 0, fmt.Errorf("remove old %s: %w", path, err)
	}
	// unlink, not remove: never a directory swapped in since the check.
	if err := unix.Unlinkat(unix.AT_FDCWD, path, 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("remove old %s: %w", path, err)
	}
	return fi.Mode().Perm(), nil
}

// keptScopes are the scopes of a profile the run did not need to cross:
// a fragment without a scope makes merge drop it (a missing scope means
// unrestricted), so it keeps those no refusal showed the program needs.
func keptScopes(scopes []profiles.Scope, refused []enforce.LandlockDenial) []profiles.Scope {
	var out []profiles.Scope
	for _, s := range scopes {
		if !slices.ContainsFunc(refused, func(d enforce.LandlockDenial) bool { return d.Blockers == "scope."+string(s) }) {
			out = append(out, s)
		}
	}
	return out
}

// neededSections are the Landlock sections of a check's fragment: for
// each section p has, the rules of the run's reduction (frag's) that
// grant what p refused, or none. Never a missing section where p has
// one: merge reads a missing section as "unrestricted" and would drop
// p's.
func neededSections(p, frag *profiles.Profile, res *CheckResult) (*profiles.Filesystem, *profiles.Network) {
	var fs *profiles.Filesystem
	if p.Filesystem != nil {
		fs = &profiles.Filesystem{Rules: []profiles.PathRule{}}
		if frag.Filesystem != nil {
			fs = frag.Filesystem.Needed(res.Files)
		}
	}
	var net *profiles.Network
	if p.Network != nil {
		net = &profiles.Network{Rules: []profiles.PortRule{}}
		if frag.Network != nil {
			net = frag.Network.Needed(res.Ports)
		}
	}
	return fs, net
}

// fileWatch records the files and ports of a target born in a fresh
// cgroup, from its exec until it and all it started are gone.
type fileWatch struct {
	cg   *recorder.FreshCgroup
	stop context.CancelFunc // nil until the recording started
	done chan watchResult
}

type watchResult struct {
	rec *profiles.Recording
	err error
}

// watchFiles makes cmd's target start in a fresh cgroup and exec only
// once a recording of that cgroup is attached.
func watchFiles(cmd *enforce.Cmd) (*fileWatch, error) {
	cg, err := recorder.NewCgroup()
	if err != nil {
		return nil, err
	}
	w := &fileWatch{cg: cg, done: make(chan watchResult, 1)}
	cmd.Cgroup = cg.Path()
	cmd.BeforeExec = w.start
	return w, nil
}

// start begins the recording and returns once it is attached. The
// helper waiting for its exec keeps the cgroup populated, so following
// the cgroup does not end before the target has started; FromExec
// leaves the helper's own work out.
func (w *fileWatch) start() error {
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	attached := make(chan struct{})
	go func() {
		rec, err := recorder.Record(ctx, recorder.Options{Cgroup: w.cg.Path(), FromExec: true, Files: true, Attached: func() { close(attached) }})
		w.done <- watchResult{rec, err}
	}()
	select {
	case <-attached:
		return nil
	case r := <-w.done:
		w.done <- r // for close
		if r.err == nil {
			r.err = errors.New("the recording ended before it was attached")
		}
		return fmt.Errorf("%w: %w", ErrFileRecording, r.err)
	}
}

// wait ends the recording and returns it. Call it after the target's
// Run: every task of the target has exited by then (Run waits until no
// task is left under the filter), so every access it made is counted.
func (w *fileWatch) wait() (*profiles.Recording, error) {
	if w.stop == nil {
		return nil, errors.New("the target never started")
	}
	w.stop()
	r := <-w.done
	w.stop = nil
	return r.rec, r.err
}

// close ends a recording still running (Run failed) and removes the
// cgroup, killing what is left in it.
func (w *fileWatch) close() {
	if w.stop != nil {
		w.stop()
		<-w.done
	}
	w.cg.Remove()
}
