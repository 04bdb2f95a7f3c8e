package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
)

func ociRuntimeCmd(io stdio) *cobra.Command {
	var o pipeline.OCIRuntimeOptions
	c := &cobra.Command{
		Use:   "oci-runtime [--runtime runc] --output-dir DIR -- RUNTIME-ARGS...",
		Short: "An OCI runtime that adds sysrec oci-hook to a container and execs runc (for dockerd)",
		Long: `oci-runtime is an OCI runtime for engines that run no OCI hooks of their
own (dockerd): for create and run it adds sysrec oci-hook --output-dir DIR
as the container's first createRuntime hook, then execs the real runtime
(--runtime, default runc) with the same arguments. Every container run with
it is recorded from its first syscall to DIR/ID.json.

Give it to dockerd as the runtime "sysrec" in /etc/docker/daemon.json;
record --image --engine docker runs the image with it and takes DIR from
docker info.`,
		Example: `  /etc/docker/daemon.json:
  {"runtimes": {"sysrec": {"path": "/usr/local/bin/sysrec",
    "runtimeArgs": ["oci-runtime", "--output-dir=/var/lib/sysrec", "--"]}}}
  docker run --runtime sysrec --rm busybox ls /    # profile in /var/lib/sysrec/ID.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			o.Self = self
			return pipeline.OCIRuntime(o, args)
		},
	}
	c.Flags().StringVar(&o.Runtime, "runtime", "runc", "the OCI runtime to exec")
	c.Flags().StringVar(&o.OutputDir, "output-dir", "", "the hook writes each container's profile to `DIR`/ID.json")
	return c
}
