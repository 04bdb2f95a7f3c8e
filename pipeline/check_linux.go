package pipeline

import (
	"context"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
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
	// none, so an old file never outlives the run that disproved it.
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
		cmd.Landlock, cmd.LandlockMode = p.Landlock(), o.Landlock
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
	b, err := frag.Marshal()
	if err != nil {
		return nil, err
	}
	if err := WriteOutput(nil, o.Output, b); err != nil {
		return nil, err
	}
	res.Fragment = frag
	return res, nil
}
