package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
)

type runOptions struct {
	profile       string
	defaultAction string
	landlock      string
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
	ex, err := pipeline.Run(ctx, p, argv, pipeline.Stdio{In: io.in, Out: io.out, Err: io.err}, mode)
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
