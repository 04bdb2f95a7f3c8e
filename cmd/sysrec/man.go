package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sysrec/sysrec/internal/manpage"
	"github.com/sysrec/sysrec/pipeline"
)

// manCmd writes a man page per command (make man). Hidden: it is for
// packagers, not for everyday use.
func manCmd(io stdio) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:    "man --dir DIR",
		Short:  "Write man pages for sysrec and its commands into DIR",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			pages := append([]*cobra.Command{root}, root.Commands()...)
			for _, c := range pages {
				if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
					continue
				}
				name := "sysrec"
				if c != root {
					name += "-" + c.Name()
				}
				path := filepath.Join(dir, name+".1")
				if err := pipeline.WriteOutput(io.out, path, []byte(manPage(name, c))); err != nil {
					return err
				}
				fmt.Fprintln(io.out, path)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "man", "write the pages into `DIR`")
	return c
}

// manPage is c's man page, from what --help shows.
func manPage(name string, c *cobra.Command) string {
	p := manpage.Page{Name: name, Short: c.Short, Synopsis: c.UseLine(), Long: c.Long, Example: c.Example, Date: manpage.SourceDate()}
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			p.Options = append(p.Options, manpage.Option{Name: f.Name, Shorthand: f.Shorthand, Usage: f.Usage})
		}
	})
	if c.Name() == "sysrec" {
		for _, s := range c.Commands() {
			if !s.Hidden && s.Name() != "help" && s.Name() != "completion" {
				p.SeeAlso = append(p.SeeAlso, "sysrec-"+s.Name())
			}
		}
	}
	return p.Roff()
}
