package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

// costCmd prints what filters cost the calls a profile recorded (make
// bench). Hidden: a measuring tool.
func costCmd(io stdio) *cobra.Command {
	return &cobra.Command{
		Use:    "cost PROFILE [FILTER.bpf...]",
		Short:  "Expected filter instructions per recorded call, for sysrec's filter and raw filters",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := profiles.Load(args[0])
			if err != nil {
				return err
			}
			raw, err := emit.Raw(p, emit.Options{})
			if err != nil {
				return err
			}
			files := append([]string{"sysrec"}, args[1:]...)
			for i, f := range files {
				b := raw
				if i > 0 {
					if b, err = os.ReadFile(f); err != nil {
						return err
					}
				}
				c, n, err := emit.FilterCost(p, b)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				fmt.Fprintf(io.out, "%s\t%d instructions\t%.2f per call with argument rules (%d of %d calls)\t%.2f per recorded call\tbound %.2f\n",
					f, n, c.Expected, c.Calls, c.All, c.PerCall, c.Bound)
			}
			return nil
		},
	}
}
