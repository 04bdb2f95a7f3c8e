package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/profiles"
)

// EmitOptions say what Emit writes and where.
type EmitOptions struct {
	Format string // a registered format (emit.LookupFormat)
	// ContainerSetup is emit.Options.ContainerSetup.
	ContainerSetup string
	// Phase is emit.Options.Phase: "" or emit.PhaseUnion, or
	// emit.PhaseServing for a format that writes one phase's filter.
	Phase string
	// Command is the command line a landrun profile runs: its templates
	// are instantiated for it in the working directory and environment.
	// Other formats take none.
	Command []string
	// Output is the file to write ("" or "-": Stdout); StdoutTerminal
	// says Stdout is a terminal, where binary formats are refused unless
	// the output is named (-o -).
	Output         string
	Stdout         io.Writer
	StdoutTerminal bool
}

// Check is what Emit refuses before it reads the profile: an unknown
// format, a command line for a format that runs none, a phase for a
// format that writes the union, binary output to a terminal, an output
// that cannot be written.
func (o EmitOptions) Check() (emit.Format, error) {
	f, err := emit.LookupFormat(o.Format)
	if err != nil {
		return f, err
	}
	if len(o.Command) > 0 && !f.Command {
		return f, fmt.Errorf("a command line is for --format landrun or systemd (it instantiates the profile's templates), not %s", f.Name)
	}
	switch o.Phase {
	case "", emit.PhaseUnion:
	case emit.PhaseServing:
		if !f.Phase {
			return f, fmt.Errorf("--phase %s is for --format %s: a %s profile is installed by a runtime that cannot watch the program start serving, so it is the union of the phases", o.Phase, strings.Join(emit.PhaseFormats(), ", "), f.Name)
		}
	default:
		return f, fmt.Errorf("--phase %q: want %s or %s", o.Phase, emit.PhaseUnion, emit.PhaseServing)
	}
	if f.Binary && o.Output == "" && o.StdoutTerminal {
		return f, fmt.Errorf("refusing to write binary %s output to a terminal: use -o FILE or redirect", f.Name)
	}
	return f, CheckOutput(o.Output)
}

// Emit writes p in the format o names (after Check).
func Emit(p *profiles.Profile, o EmitOptions) error {
	f, err := o.Check()
	if err != nil {
		return err
	}
	var inv *profiles.Invocation
	if len(o.Command) > 0 {
		if inv, err = Invocation(o.Command); err != nil {
			return err
		}
	}
	out, err := f.Emit(p, emit.Options{ContainerSetup: o.ContainerSetup, Invocation: inv, Phase: o.Phase})
	if err != nil {
		return err
	}
	return WriteOutput(o.Stdout, o.Output, out)
}
