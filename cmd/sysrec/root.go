package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/sysrec/sysrec/exitstatus"
	"golang.org/x/term"
)

// exitCode carries a status (see exitstatus) out of a command without
// printing anything.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run runs the sysrec command line args. Cancelling ctx is a stop request,
// as SIGINT and SIGTERM are for record and SIGTERM is for run and check.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io := stdio{in: stdin, out: stdout, err: stderr}
	root := &cobra.Command{
		Use:           "sysrec",
		Short:         "Record the syscalls a program needs and enforce them with seccomp",
		Long:          help("sysrec.long"),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(linuxCommands(io)...)
	root.AddCommand(emitCmd(io), showCmd(io), mergeCmd(io), diffCmd(io), analyzeCmd(io), versionCmd(io), manCmd(io), costCmd(io), pushCmd(io), pullCmd(io))
	for _, c := range root.Commands() {
		c.Args = withUsage(c.Args)
	}

	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return exitstatus.OK
	case errors.As(err, &code):
		return int(code)
	}
	// The one place the command's name is added to an error.
	prefix := "sysrec: "
	if cmd != nil && cmd != root {
		prefix += cmd.Name() + ": "
	}
	fmt.Fprintf(stderr, "%s%v\n", prefix, err)
	return exitstatus.OfError(err)
}

// usageError is a wrong number of arguments: the message ends with the
// command's usage line.
type usageError struct {
	err error
	use string
}

func (e usageError) Error() string { return fmt.Sprintf("%v (usage: %s)", e.err, e.use) }

// withUsage makes an argument-count error name the usage line.
func withUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err, cmd.UseLine()}
		}
		return nil
	}
}

// isTerminal reports whether w is a terminal (for progress lines and to
// refuse writing binary output to one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
