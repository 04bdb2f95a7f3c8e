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
	// Landlock enforces the profile's filesystem and network sections
	// (LandlockOff: not).
	Landlock enforce.LandlockMode
}

// CheckResult is what Check saw.
type CheckResult struct {
	Exit       enforce.Exit
	Violations []profiles.Sample
	// Dropped counts calls not kept because enforce.MaxViolations
	// distinct violations already were.
	Dropped uint64
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

// Check runs argv with every call p does not allow sent to a supervisor
// instead of p's default action.
func Check(ctx context.Context, p *profiles.Profile, argv []string, o CheckOptions) (*CheckResult, error) {
	if err := CheckOutput(o.Output); err != nil {
		return nil, err
	}
	arch, err := linuxabi.Native()
	if err != nil {
		return nil, err
	}
	supervised := p.Clone()
	supervised.DefaultAction = profiles.Action{Kind: profiles.UserNotif}
	filter, err := emit.Raw(supervised, emit.Options{})
	if err != nil {
		return nil, err
	}
	cmd, err := enforce.NotifyCommand(filter, argv, enforce.NotifyOptions{Deny: o.Deny, OnNew: o.OnNew})
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdio.In, o.Stdio.Out, o.Stdio.Err
	if o.Landlock != LandlockOff && o.Landlock != "" {
		in, err := instantiate(p, argv, o.Stdio)
		if err != nil {
			return nil, err
		}
		defer in.Close()
		in.warn(o.Stdio)
		cmd.Env = in.Env
		cmd.Landlock, cmd.LandlockMode = in.Profile.Landlock(), o.Landlock
	}
	perm, err := withdrawOutput(o.Output)
	if err != nil {
		return nil, err
	}
	ex, err := cmd.Run(ctx)
	if err != nil {
		return nil, err
	}
	res := &CheckResult{Exit: ex}
	res.Violations, res.Dropped = cmd.Violations()
	if o.Output == "" {
		return res, nil
	}
	rec := &profiles.Recording{Arch: arch.Name, Command: argv, Samples: res.Violations, ExitStatus: ex.Status}
	frag, err := reducer.Reduce([]*profiles.Recording{rec}, reducer.Options{NoBaseline: true, DefaultAction: p.DefaultAction, Name: p.Name + "-violations"})
	if err != nil {
		return nil, err
	}
	frag.Scopes = keptScopes(p.Scopes, ex.Landlock)
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
