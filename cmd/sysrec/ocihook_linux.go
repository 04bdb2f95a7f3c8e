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
		Use:     "oci-hook [--output FILE | --output-dir DIR]",
		Short:   "OCI createRuntime/prestart hook: record a container from its first syscall",
		Long:    help("oci-hook.long"),
		Example: help("oci-hook.example"),
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
