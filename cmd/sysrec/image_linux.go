package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

// runRecordImage is record --image: the container's status is record's.
func runRecordImage(ctx context.Context, io stdio, o recordOptions, args []string) error {
	if o.container != "" || o.pid != 0 || o.cgroup != "" || o.unit != "" || o.mergeInto != "" {
		return errors.New("--image runs a new container of its own: give no --container, --pid, --cgroup, --unit or --merge-into with it")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	res, err := pipeline.RecordImage(ctx, pipeline.ImageOptions{
		Engine: o.engine, Image: o.image, Args: args, RunFlags: o.engineFlags,
		Output: o.output, Name: o.name, Self: self,
		Stdin: io.in, Stdout: io.out, Stderr: io.err,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.err, "sysrec: %d syscalls, profile written to %s, its OCI profile to %s; run the image under it:\n  %s\n",
		len(res.Profile.Syscalls), o.output, res.OCIOutput, profiles.ShellJoin(res.RunLine))
	if res.ExitStatus > 0 {
		return exitCode(res.ExitStatus)
	}
	return nil
}
