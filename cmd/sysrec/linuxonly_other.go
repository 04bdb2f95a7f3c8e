//go:build !linux

package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func helperMain() {}

// linuxCommands are the commands that need the Linux kernel (eBPF,
// cgroup v2, seccomp); elsewhere they say so and exit 2.
func linuxCommands(stdio) []*cobra.Command {
	var cmds []*cobra.Command
	for _, name := range []string{"record", "run", "check"} {
		cmds = append(cmds, &cobra.Command{
			Use:                name,
			Short:              "(Linux only)",
			DisableFlagParsing: true,
			RunE: func(*cobra.Command, []string) error {
				return errors.New("needs Linux (eBPF, cgroup v2 and seccomp)")
			},
		})
	}
	return cmds
}
