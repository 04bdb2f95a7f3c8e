package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
)

type ociHookOptions struct {
	output    string
	outputDir string
	// The detached recorder's own options (hidden flags).
	background bool
	pid        int
	name       string
	command    string
}

func ociHookCmd(io stdio) *cobra.Command {
	var o ociHookOptions
	c := &cobra.Command{
		Use:   "oci-hook [--output FILE | --output-dir DIR]",
		Short: "OCI createRuntime/prestart hook: record a container from its first syscall",
		Long: `oci-hook is run by the container runtime (runc, crun: the createRuntime or
prestart hook of config.json; Podman: a hooks.d file) with the container's
state on standard input. It starts a recording of the container's cgroup
v2 before the container's process runs, waits until the recording is
attached, detaches it and returns; the detached recorder writes the
profile when the container's cgroup empties.

The profile goes to the annotation io.sysrec.profile when the container
has it, else to --output, else to DIR/ID.json for --output-dir, else to
sysrec-ID.json in the bundle. io.sysrec.name names it (default: the
container ID); recorded.command is the container's process.args.

Left out deliberately: what the runtime's init does before it execs the
container's process (joining namespaces, dropping capabilities, the calls
it makes under the filter), counted under the init's name and dropped.
emit --format oci adds back what the runtime needs under the filter.
The recorder's messages go to the profile's path with .log appended.`,
		Example: `  "hooks": {"createRuntime": [{"path": "/usr/local/bin/sysrec", "args": ["sysrec", "oci-hook", "--output-dir", "/var/lib/sysrec"]}]}`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.background {
				return runHookRecorder(cmd.Context(), io, o)
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			return pipeline.OCIHook(io.in, pipeline.OCIHookOptions{Output: o.output, OutputDir: o.outputDir, Self: self})
		},
	}
	f := c.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write the profile to `FILE`")
	f.StringVar(&o.outputDir, "output-dir", "", "write the profile to `DIR`/ID.json")
	f.BoolVar(&o.background, "background", false, "")
	f.IntVar(&o.pid, "pid", 0, "")
	f.StringVar(&o.name, "name", "", "")
	f.StringVar(&o.command, "command", "", "")
	for _, h := range []string{"background", "pid", "name", "command"} {
		f.MarkHidden(h)
	}
	return c
}

// runHookRecorder runs the detached recorder OCIHook starts.
func runHookRecorder(ctx context.Context, io stdio, o ociHookOptions) error {
	ctx, stop := pipeline.StopOnSignal(ctx, func(s os.Signal) {
		fmt.Fprintf(io.err, "sysrec: oci-hook: %v: stopping (a second signal ends sysrec at once)\n", s)
	})
	defer stop()
	var command []string
	if err := json.Unmarshal([]byte(o.command), &command); err != nil {
		return fmt.Errorf("--command: %w", err)
	}
	res, err := pipeline.HookRecorder(ctx, pipeline.HookRecorderOptions{
		PID: o.pid, Output: o.output, Name: o.name, Command: command, Ready: os.NewFile(3, "ready"),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.err, "sysrec: oci-hook: %d syscalls, %d calls in %s, profile written to %s\n",
		len(res.Profile.Syscalls), res.Recording.Total(), res.Recording.Duration.Round(time.Millisecond), o.output)
	return nil
}
