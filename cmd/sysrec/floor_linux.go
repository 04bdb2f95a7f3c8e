package main

import (
	"errors"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/recorder"
)

// floorCmd runs a command with empty programs on the raw syscall
// tracepoints, for make bench to measure the tracepoint floor with the
// project's own loader. Hidden: it is a measuring tool.
func floorCmd(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:    "floor -- COMMAND [ARGS...]",
		Short:  "Run COMMAND with empty programs attached to sys_enter and sys_exit (benchmark floor)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			detach, err := recorder.Floor()
			if err != nil {
				return err
			}
			defer detach()
			c := exec.CommandContext(cmd.Context(), args[0], args[1:]...)
			c.Stdin, c.Stdout, c.Stderr = io.in, io.out, io.err
			err = c.Run()
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				return exitCode(exitstatus.OfError(err))
			}
			return err
		},
	}
}
