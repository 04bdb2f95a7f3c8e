package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

type checkOptions struct {
	profile  string
	deny     bool
	output   string
	landlock string
	asJSON   bool
	phases   string
}

func checkCmd(io stdio) *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:     "check --profile FILE [flags] -- COMMAND [ARGS...]",
		Short:   "Run a command and report every syscall, file and port its profile would not allow, without breaking it",
		Long:    help("check.long"),
		Example: help("check.example"),
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), io, o, args)
		},
	}
	c.Flags().StringVar(&o.profile, "profile", "", "profile `FILE` to check against (required)")
	c.Flags().BoolVar(&o.deny, "deny", false, "fail violating calls with EPERM instead of letting them run")
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the violations as a profile fragment to `FILE`")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the violations as JSON on stdout (for scripts) instead of lines on stderr; the command's own stdout goes to stderr")
	c.Flags().StringVar(&o.landlock, "landlock", "best-effort", "report the files and ports the profile's filesystem and network sections do not grant, and enforce its scopes: required (fail if the kernel cannot enforce every scope), best-effort or off (syscalls only; the signal scope check adds for itself applies in every mode)")
	c.Flags().StringVar(&o.phases, "phases", "on", "a profile with phases: on (an init-only call of a serving process is a violation; needs root, the initial pid namespace, and a profile without io_uring or bpf program loads, which get past phases) or off (every entry allowed at all times)")
	c.MarkFlagRequired("profile")
	return c
}

func runCheck(ctx context.Context, io stdio, o checkOptions, argv []string) error {
	p, err := profiles.Load(o.profile)
	if err != nil {
		return err
	}
	mode, err := pipeline.ParseLandlockMode(o.landlock)
	if err != nil {
		return fmt.Errorf("--landlock: %w", err)
	}
	off, err := phasesOff(o.phases)
	if err != nil {
		return err
	}
	targetOut := io.out
	if o.asJSON {
		targetOut = io.err // stdout is the report's alone
	}
	res, err := pipeline.Check(ctx, p, argv, pipeline.CheckOptions{
		Landlock:  mode,
		Deny:      o.deny,
		Output:    o.output,
		Home:      os.Getenv("HOME"),
		PhasesOff: off,
		Stdio:     pipeline.Stdio{In: io.in, Out: targetOut, Err: io.err},
		OnNew: func(s profiles.Sample, pid int) {
			if o.asJSON {
				return
			}
			in := ""
			if s.Phase == profiles.PhaseServing {
				in = " in its serving phase"
			}
			fmt.Fprintf(io.err, "sysrec: check: %s not allowed by %s%s (pid %d)\n", profiles.DescribeSample(s), o.profile, in, pid)
		},
	})
	if errors.Is(err, pipeline.ErrFileRecording) {
		return fmt.Errorf("%w (--landlock off checks syscalls alone)", err)
	}
	if err != nil {
		return err
	}
	levels, lerr := pipeline.ReachableLevels(ctx, argv, res.Violations)
	if o.asJSON {
		b, err := json.MarshalIndent(res.Report(o.profile, levels), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s\n", b)
	} else {
		if lerr != nil {
			fmt.Fprintf(io.err, "sysrec: check: cannot tell which --generalize level would allow the violations: %v\n", lerr)
		}
		for _, line := range res.Findings(o.profile, levels) {
			fmt.Fprintf(io.err, "sysrec: check: %s\n", line)
		}
	}
	if st := res.ExitStatus(); st != 0 {
		return exitCode(st)
	}
	return nil
}
