package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/internal/buildinfo"
	"github.com/sysrec/sysrec/pipeline"
)

// commit is set by the Makefile (-ldflags -X main.commit=...) for builds
// without VCS stamping; otherwise the build information has it.
var commit string

func versionCmd(io stdio) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "version",
		Short:   "Print sysrec's version and what the running kernel offers it",
		Long:    help("version.long"),
		Example: "  sysrec version\n  sysrec version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := buildinfo.Read(commit, pipeline.KernelFeatures())
			if asJSON {
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(io.out, "%s\n", b)
				return nil
			}
			fmt.Fprint(io.out, v.Text())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}
