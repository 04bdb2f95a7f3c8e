package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
)

func ociRuntimeCmd(io stdio) *cobra.Command {
	var o pipeline.OCIRuntimeOptions
	c := &cobra.Command{
		Use:     "oci-runtime [--runtime runc] --output-dir DIR -- RUNTIME-ARGS...",
		Short:   "An OCI runtime that adds sysrec oci-hook to a container and execs runc (for dockerd)",
		Long:    help("oci-runtime.long"),
		Example: help("oci-runtime.example"),
		Args:    cobra.ArbitraryArgs,
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
