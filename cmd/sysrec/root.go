package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// Exit statuses scripts can rely on. Commands that run a target (record,
// run, check) exit with the target's status instead (128+N when it was
// killed by signal N), unless sysrec itself fails.
const (
	exitOK       = 0
	exitFinding  = 1 // diff: NEW allows more; check: violations seen
	exitError    = 2 // bad input, bad usage, or sysrec could not do its job
	exitNotFound = 127
)

// exitCode carries a status out of a command without printing anything.
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
		Use:   "sysrec",
		Short: "Record the syscalls a program needs and enforce them with seccomp",
		Long: `sysrec watches a program run (eBPF on the raw_syscalls tracepoints, in its own
cgroup v2), learns the smallest set of system calls and argument values it
needs, and writes a JSON profile that compiles to an enforceable seccomp-BPF
filter.

  sysrec record -o app.json -- ./app args       record
  sysrec emit --format bpf -o app.bpf app.json  compile (bpf, json, oci, spo, text, c)
  sysrec run --profile app.json -- ./app        enforce
  sysrec diff --fail-on-new base.json new.json  gate CI on new syscalls`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(recordCmd(io), emitCmd(io), runCmd(io), checkCmd(io), showCmd(io), mergeCmd(io), diffCmd(io))

	err := root.ExecuteContext(ctx)
	var code exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintf(stderr, "sysrec: %v\n", err)
	return exitError
}

// isTerminal reports whether w is a terminal (for progress lines and to
// refuse writing binary output to one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// writeOutput writes b to path, or to stdout for "" or "-".
func writeOutput(io stdio, path string, b []byte) error {
	if path == "" || path == "-" {
		_, err := io.out.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
