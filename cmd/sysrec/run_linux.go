package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/pipeline"
)

type runOptions struct {
	profile       string
	defaultAction string
	landlock      string
	phases        string
}

func runCmd(io stdio) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:     "run --profile FILE [flags] -- COMMAND [ARGS...]",
		Short:   "Run a command under a profile's seccomp filter",
		Long:    help("run.long"),
		Example: help("run.example"),
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), io, o, args)
		},
	}
	c.Flags().StringVar(&o.profile, "profile", "", "profile `FILE` to enforce (required)")
	c.Flags().StringVar(&o.defaultAction, "default-action", "", "override the profile's default action: kill, errno, log (or any action name)")
	c.Flags().StringVar(&o.landlock, "landlock", "best-effort", "enforce the profile's filesystem, network and scopes sections: required (fail if the kernel cannot enforce all of it), best-effort (enforce what it can, say what not), off")
	c.Flags().StringVar(&o.phases, "phases", "on", "a profile with phases: on (a supervisor refuses each process its init-only calls once it serves; needs root, the initial pid namespace, and a profile without io_uring or bpf program loads, which get past phases) or off (every entry allowed at all times)")
	c.MarkFlagRequired("profile")
	return c
}

func runRun(ctx context.Context, io stdio, o runOptions, argv []string) error {
	p, err := loadWithDefault(o.profile, o.defaultAction)
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
	ex, err := pipeline.Run(ctx, p, argv, pipeline.RunOptions{
		Stdio:     pipeline.Stdio{In: io.in, Out: io.out, Err: io.err},
		Landlock:  mode,
		PhasesOff: off,
		OnRefused: func(r enforce.Refusal) { fmt.Fprintf(io.err, "sysrec: run: %s\n", r) },
		OnOutlived: func(ex enforce.Exit) {
			fmt.Fprintf(io.err, "sysrec: run: pid %d exited (status %d); the processes it started still run under its phases, supervised until the last exits (Ctrl-C or kill them to end)\n", ex.PID, ex.Status)
		},
	})
	if err != nil {
		return err
	}
	for _, n := range ex.Notes(argv[0]) {
		fmt.Fprintf(io.err, "sysrec: run: %s\n", n)
	}
	if ex.Status != 0 {
		return exitCode(ex.Status)
	}
	return nil
}

// phasesOff reads --phases.
func phasesOff(s string) (bool, error) {
	switch s {
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return false, fmt.Errorf("--phases: %q (want on or off)", s)
}
