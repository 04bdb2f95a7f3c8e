package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

type checkOptions struct {
	profile  string
	deny     bool
	output   string
	landlock string
	asJSON   bool
}

func checkCmd(io stdio) *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check --profile FILE [flags] -- COMMAND [ARGS...]",
		Short: "Run a command and report every syscall, file and port its profile would not allow, without breaking it",
		Long: `check runs COMMAND under the profile's filter with every call the profile does
not allow sent to sysrec (seccomp user notification) instead of killing it.
Each distinct violation is printed once, with its arguments, and the call is
let through (or fails with EPERM with --deny).

Files and TCP ports are not refused either: when the profile has a
filesystem or network section, COMMAND runs in a fresh cgroup v2 whose file
and port accesses are recorded with eBPF as record does (so check then needs
what record needs: root, or CAP_BPF and CAP_PERFMON), and after it ends each
right the sections do not grant is printed once with its path or port
("landlock would refuse read_file on /etc/passwd"). Rights Landlock checks on
a directory (make_*, remove_*, refer) are named on the directory. A profile
without a filesystem section restricts no file, so none is reported; the
same for ports.

For each refused syscall check also says whether a profile recorded with
--generalize reachable would allow it (static analysis of COMMAND's binary
reaches it, it is ordinary-tier and its arguments are in their safe
classes) or why not (a write open or a sensitive call is allowed only once
a run makes it); the recording the profile came from is not at hand, so
the lower levels are not told apart.

-o writes the violations as a profile fragment that 'sysrec merge' adds to
the profile: the syscalls, and for each Landlock section of the profile the
rules that grant what it refused (reduced as record reduces a run, so reads
under a package directory stand for the directory; a right record would
withhold, such as a write to /tmp as a whole, stays withheld). An empty
fragment when there were none; an old file there is removed before COMMAND
starts.

COMMAND may not signal processes outside its own tree (Landlock's signal
scope, Linux 6.12 or later), so it cannot kill sysrec and leave a report
unfinished: kill(2) to such a process fails with EPERM. The profile's
scopes are enforced the same way. With audit enabled (auditctl -e 1) each
refusal is reported as a violation; without audit the kernel logs none and
they are refused silently.

Exit status: 1 if there were violations, else COMMAND's status; 2 on any
sysrec error.`,
		Example: `  sysrec check --profile app.json -o missing.json -- ./app
  sysrec merge -o app.json app.json missing.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), io, o, args)
		},
	}
	c.Flags().StringVar(&o.profile, "profile", "", "profile `FILE` to check against (required)")
	c.Flags().BoolVar(&o.deny, "deny", false, "fail violating calls with EPERM instead of letting them run")
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the violations as a profile fragment to `FILE`")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the violations as JSON on stdout (for scripts) instead of lines on stderr; the command's own stdout goes to stderr")
	c.Flags().StringVar(&o.landlock, "landlock", "best-effort", "report the files and ports the profile's filesystem and network sections do not grant, and enforce its scopes: required (fail if the kernel cannot enforce every scope), best-effort or off (syscalls only; the signal scope check adds for itself applies in every mode)")
	c.MarkFlagRequired("profile")
	return c
}

func runCheck(ctx context.Context, io stdio, o checkOptions, argv []string) error {
	p, err := profiles.Load(o.profile)
	if err != nil {
		return err
	}
	mode, err := pipeline.ParseLandlockMode(o.landlock)
	if err != nil {
		return fmt.Errorf("--landlock: %w", err)
	}
	targetOut := io.out
	if o.asJSON {
		targetOut = io.err // stdout is the report's alone
	}
	res, err := pipeline.Check(ctx, p, argv, pipeline.CheckOptions{
		Landlock: mode,
		Deny:     o.deny,
		Output:   o.output,
		Home:     os.Getenv("HOME"),
		Stdio:    pipeline.Stdio{In: io.in, Out: targetOut, Err: io.err},
		OnNew: func(s profiles.Sample, pid int) {
			if o.asJSON {
				return
			}
			fmt.Fprintf(io.err, "sysrec: check: %s not allowed by %s (pid %d)\n", profiles.DescribeSample(s), o.profile, pid)
		},
	})
	if errors.Is(err, pipeline.ErrFileRecording) {
		return fmt.Errorf("%w (--landlock off checks syscalls alone)", err)
	}
	if err != nil {
		return err
	}
	levels, lerr := pipeline.ReachableLevels(ctx, argv, res.Violations)
	if o.asJSON {
		b, err := json.MarshalIndent(res.Report(o.profile, levels), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s\n", b)
	} else {
		if lerr != nil {
			fmt.Fprintf(io.err, "sysrec: check: cannot tell which --generalize level would allow the violations: %v\n", lerr)
		}
		for _, line := range res.Findings(o.profile, levels) {
			fmt.Fprintf(io.err, "sysrec: check: %s\n", line)
		}
	}
	if st := res.ExitStatus(); st != 0 {
		return exitCode(st)
	}
	return nil
}
