package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// manPage renders one command as roff (man(7)).
func manPage(name string, c *cobra.Command) string {
	var b strings.Builder
	date := time.Unix(sourceDate(), 0).UTC().Format("2006-01-02")
	fmt.Fprintf(&b, ".TH %s 1 %q sysrec\n", strings.ToUpper(name), date)
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", strings.ReplaceAll(name, "-", "\\-"), roff(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", roff(c.UseLine()))
	if long := c.Long; long != "" {
		b.WriteString(".SH DESCRIPTION\n")
		for _, para := range strings.Split(long, "\n\n") {
			fmt.Fprintf(&b, ".PP\n%s\n", roff(para))
		}
	}
	var flags []string
	c.NonInheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		spec := "\\-\\-" + roff(f.Name)
		if f.Shorthand != "" {
			spec = "\\-" + f.Shorthand + ", " + spec
		}
		flags = append(flags, fmt.Sprintf(".TP\n.B %s\n%s\n", spec, roff(f.Usage)))
	})
	if len(flags) > 0 {
		b.WriteString(".SH OPTIONS\n" + strings.Join(flags, ""))
	}
	if c.Example != "" {
		fmt.Fprintf(&b, ".SH EXAMPLES\n.nf\n%s\n.fi\n", roff(c.Example))
	}
	if c.Name() == "sysrec" {
		b.WriteString(".SH SEE ALSO\n")
		var see []string
		for _, s := range c.Commands() {
			if !s.Hidden && s.Name() != "help" && s.Name() != "completion" {
				see = append(see, "sysrec\\-"+s.Name()+"(1)")
			}
		}
		b.WriteString(strings.Join(see, ", ") + "\n")
	}
	return b.String()
}

// roff escapes text for a man page body.
func roff(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\e")
	s = strings.ReplaceAll(s, "-", "\\-")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = "\\&" + l
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

// sourceDate is SOURCE_DATE_EPOCH when set (reproducible pages), else now.
func sourceDate() int64 {
	var t int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &t); err == nil {
		return t
	}
	return time.Now().Unix()
}
