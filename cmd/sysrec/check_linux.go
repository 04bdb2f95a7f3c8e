package main

import (
	"context"
	"encoding/json"
	"fmt"

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

// checkReport is check --json's output.
type checkReport struct {
	Profile    string           `json:"profile"`
	Violations []checkViolation `json:"violations"`
	Calls      uint64           `json:"calls"`
	Dropped    uint64           `json:"dropped,omitempty"`
	// Landlock lists what Landlock refused the target (from the kernel's
	// audit records; only while audit is enabled).
	Landlock   []string `json:"landlock,omitempty"`
	ExitStatus int      `json:"exit_status"`
}

type checkViolation struct {
	Call  string `json:"call"`
	Nr    int    `json:"nr"`
	Count uint64 `json:"count"`
}

func checkCmd(io stdio) *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check --profile FILE [flags] -- COMMAND [ARGS...]",
		Short: "Run a command and report every syscall its profile would not allow, without breaking it",
		Long: `check runs COMMAND under the profile's filter with every call the profile does
not allow sent to sysrec (seccomp user notification) instead of killing it.
Each distinct violation is printed once, with its arguments, and the call is
let through (or fails with EPERM with --deny). -o writes the violations as a
profile fragment that 'sysrec merge' adds to the profile (an empty fragment
when there were none); an old file there is removed before COMMAND starts.

COMMAND may not signal processes outside its own tree (Landlock's signal
scope, Linux 6.12 or later), so it cannot kill sysrec and leave a report
unfinished: kill(2) to such a process fails with EPERM. With audit enabled
(auditctl -e 1) each refusal is reported as a violation, like every file or
port the profile's Landlock sections refused; without audit the kernel
logs none and they are refused silently.

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
	c.Flags().StringVar(&o.landlock, "landlock", "best-effort", "enforce the profile's filesystem, network and scopes sections: required, best-effort or off (the signal scope check adds for itself applies in every mode)")
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
		Stdio:    pipeline.Stdio{In: io.in, Out: targetOut, Err: io.err},
		OnNew: func(s profiles.Sample, pid int) {
			if o.asJSON {
				return
			}
			fmt.Fprintf(io.err, "sysrec: check: %s not allowed by %s (pid %d)\n", profiles.DescribeSample(s), o.profile, pid)
		},
	})
	if err != nil {
		return err
	}
	refused := res.Exit.Landlock
	if o.asJSON {
		rep := checkReport{Profile: o.profile, Violations: []checkViolation{}, Calls: res.Calls(), Dropped: res.Dropped, ExitStatus: res.Exit.Status}
		for _, v := range res.Violations {
			rep.Violations = append(rep.Violations, checkViolation{Call: profiles.DescribeSample(v), Nr: v.Nr, Count: v.Count})
		}
		for _, d := range refused {
			rep.Landlock = append(rep.Landlock, d.String())
		}
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "%s\n", b)
	} else {
		for _, d := range refused {
			fmt.Fprintf(io.err, "sysrec: check: landlock refused %s\n", d)
		}
	}
	if len(res.Violations) == 0 && len(refused) == 0 {
		if !o.asJSON {
			fmt.Fprintf(io.err, "sysrec: check: no violations of %s\n", o.profile)
		}
		if res.Exit.Status != 0 {
			return exitCode(res.Exit.Status)
		}
		return nil
	}
	if o.asJSON {
		return exitCode(exitFinding)
	}
	if len(res.Violations) > 0 {
		fmt.Fprintf(io.err, "sysrec: check: %d distinct violations (%d calls) of %s\n", len(res.Violations), res.Calls(), o.profile)
	}
	if res.Dropped > 0 {
		fmt.Fprintf(io.err, "sysrec: check: %d calls beyond the first %d distinct violations were counted but not kept\n", res.Dropped, len(res.Violations))
	}
	return exitCode(exitFinding)
}
