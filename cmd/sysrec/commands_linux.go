package main

import "github.com/spf13/cobra"

// linuxCommands are the commands that need the Linux kernel.
func linuxCommands(io stdio) []*cobra.Command {
	return []*cobra.Command{recordCmd(io), runCmd(io), checkCmd(io), floorCmd(io), ociHookCmd(io), ociRuntimeCmd(io)}
}
