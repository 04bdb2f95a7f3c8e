// Package manpage renders a command's help as a man page (roff, man(7)),
// from plain data the CLI takes from its commands, so the pages say what
// --help says. It imports only the standard library.
package manpage

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Page is one command's man page.
type Page struct {
	Name     string // sysrec, sysrec-record
	Short    string // one line: what it does
	Synopsis string // its usage line
	Long     string // paragraphs separated by blank lines
	Options  []Option
	Example  string
	SeeAlso  []string // other pages, by name
	Date     time.Time
}

// Option is one flag of the command.
type Option struct {
	Name, Shorthand, Usage string
}

// Roff renders p.
func (p Page) Roff() string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH %s 1 %q sysrec\n", strings.ToUpper(p.Name), p.Date.UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", strings.ReplaceAll(p.Name, "-", "\\-"), roff(p.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B %s\n", roff(p.Synopsis))
	if p.Long != "" {
		b.WriteString(".SH DESCRIPTION\n")
		for _, para := range strings.Split(p.Long, "\n\n") {
			fmt.Fprintf(&b, ".PP\n%s\n", roff(para))
		}
	}
	if len(p.Options) > 0 {
		b.WriteString(".SH OPTIONS\n")
		for _, o := range p.Options {
			spec := "\\-\\-" + roff(o.Name)
			if o.Shorthand != "" {
				spec = "\\-" + o.Shorthand + ", " + spec
			}
			fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", spec, roff(o.Usage))
		}
	}
	if p.Example != "" {
		fmt.Fprintf(&b, ".SH EXAMPLES\n.nf\n%s\n.fi\n", roff(p.Example))
	}
	if len(p.SeeAlso) > 0 {
		var see []string
		for _, s := range p.SeeAlso {
			see = append(see, strings.ReplaceAll(s, "-", "\\-")+"(1)")
		}
		b.WriteString(".SH SEE ALSO\n" + strings.Join(see, ", ") + "\n")
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

// SourceDate is SOURCE_DATE_EPOCH when set (reproducible pages), else
// now.
func SourceDate() time.Time {
	var t int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &t); err == nil {
		return time.Unix(t, 0)
	}
	return time.Now()
}
