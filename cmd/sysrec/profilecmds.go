package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

func showCmd(io stdio) *cobra.Command {
	var wide, asJSON bool
	c := &cobra.Command{
		Use:     "show [--wide] [--json] PROFILE",
		Short:   "Print a profile as a readable table with symbolic argument rules",
		Long:    help("show.long"),
		Example: "  sysrec show app.json\n  sysrec show --wide app.json | less -S\n  sysrec show --json app.json | jq '.[] | select(.tier != \"ordinary\")'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := profiles.Load(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				b, err := json.MarshalIndent(profiles.Entries(p), "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(io.out, "%s\n", b)
				return nil
			}
			f, ok := io.out.(*os.File)
			if !ok || !term.IsTerminal(int(f.Fd())) {
				fmt.Fprint(io.out, profiles.FormatRows(p))
				return nil
			}
			width := 0
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && !wide {
				width = w
			}
			fmt.Fprint(io.out, profiles.FormatWidth(p, width))
			return nil
		},
	}
	c.Flags().BoolVar(&wide, "wide", false, "on a terminal, print long rules and notes whole, whatever its width")
	c.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON")
	return c
}

func mergeCmd(io stdio) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:     "merge -o OUT PROFILE...",
		Short:   "Merge profiles into one that allows everything any of them allows",
		Long:    help("merge.long"),
		Example: "  sysrec merge -o app.json run1.json run2.json",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var ps []*profiles.Profile
			for _, a := range args {
				p, err := profiles.Load(a)
				if err != nil {
					return err
				}
				ps = append(ps, p)
			}
			m, err := profiles.Merge(ps...)
			if err != nil {
				return err
			}
			b, err := m.Marshal()
			if err != nil {
				return err
			}
			if err := pipeline.WriteOutput(io.out, output, b); err != nil {
				return err
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "-", "write the merged profile to `FILE` (- for stdout)")
	return c
}

func diffCmd(io stdio) *cobra.Command {
	var asJSON, failOnNew bool
	var failOn string
	c := &cobra.Command{
		Use:     "diff [--json] [--fail-on-new] [--fail-on TIER] OLD NEW",
		Short:   "Show what NEW allows that OLD does not, and the reverse",
		Long:    help("diff.long"),
		Example: help("diff.example"),
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			gate, err := policy.ParseTier(failOn)
			if err != nil {
				return fmt.Errorf("--fail-on: %w", err)
			}
			old, err := profiles.Load(args[0])
			if err != nil {
				return err
			}
			new, err := profiles.Load(args[1])
			if err != nil {
				return err
			}
			d := profiles.Diff(old, new)
			if asJSON {
				b, err := json.MarshalIndent(d, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(io.out, "%s\n", b)
			} else {
				fmt.Fprint(io.out, d.Text())
			}
			if d.WidensAt(gate) {
				return exitCode(exitstatus.Finding)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the difference as JSON")
	c.Flags().BoolVar(&failOnNew, "fail-on-new", false, "exit 1 when NEW allows something OLD does not (the default)")
	c.Flags().StringVar(&failOn, "fail-on", "ordinary", "exit 1 only when NEW allows something beyond OLD of `TIER` or above: ordinary, sensitive or critical")
	return c
}
