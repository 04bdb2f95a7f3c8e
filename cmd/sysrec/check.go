package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/reducer"
)

type checkOptions struct {
	profile string
	deny    bool
	output  string
}

func checkCmd(io stdio) *cobra.Command {
	var o checkOptions
	c := &cobra.Command{
		Use:   "check --profile FILE [flags] -- COMMAND [ARGS...]",
		Short: "Run a command and report every syscall its profile would not allow, without breaking it",
		Long: `check runs COMMAND under the profile's filter with every call the profile does
not allow sent to sysrec (seccomp user notification) instead of killing it.
Each violation is printed once, with its arguments, and the call is let
through (or fails with EPERM with --deny). -o writes the violations as a
profile fragment that 'sysrec merge' adds to the profile.

Exit status: 1 if there were violations, else COMMAND's status.`,
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
	c.MarkFlagRequired("profile")
	return c
}

func runCheck(ctx context.Context, io stdio, o checkOptions, argv []string) error {
	p, err := profiles.Load(o.profile)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	arch, err := linuxabi.LookupArch(runtime.GOARCH)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if o.output != "" {
		if err := writable(o.output); err != nil {
			return fmt.Errorf("check: cannot write the violations to %s: %w", o.output, err)
		}
	}
	supervised := p.Clone()
	supervised.DefaultAction = profiles.Action{Kind: profiles.UserNotif}
	raw, err := emit.Raw(supervised, emit.Options{})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	cmd, err := enforce.NotifyCommand(raw, argv)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	wait, err := startTarget(ctx, io, cmd)
	if err != nil {
		return fmt.Errorf("check: start %s: %w", argv[0], err)
	}

	var mu sync.Mutex
	type key struct {
		nr   int
		args [6]uint64
	}
	seen := map[key]int{} // index into samples
	var samples []profiles.Sample
	answer := unix.Errno(0)
	if o.deny {
		answer = unix.EPERM
	}
	superr := make(chan error, 1)
	go func() {
		superr <- cmd.Supervise(func(n enforce.Notification) unix.Errno {
			s := sampleOf(arch, n.Data)
			mu.Lock()
			defer mu.Unlock()
			k := key{s.Nr, s.Args}
			if i, ok := seen[k]; ok {
				samples[i].Count++
				return answer
			}
			seen[k] = len(samples)
			s.Count = 1
			samples = append(samples, s)
			fmt.Fprintf(io.err, "sysrec: check: %s not allowed by %s (pid %d)\n", describe(s), o.profile, n.PID)
			return answer
		})
	}()
	ws, waitErr := wait()
	if err := <-superr; err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if waitErr != nil {
		return fmt.Errorf("check: %w", waitErr)
	}
	if len(samples) == 0 {
		fmt.Fprintf(io.err, "sysrec: check: no violations of %s\n", o.profile)
		return exitCode(shellStatus(ws))
	}
	total := 0
	for _, s := range samples {
		total += int(s.Count)
	}
	fmt.Fprintf(io.err, "sysrec: check: %d distinct violations (%d calls) of %s\n", len(samples), total, o.profile)
	if o.output != "" {
		frag, err := reducer.Reduce([]*profiles.Recording{{Arch: arch.Name, Command: argv, Samples: samples, ExitStatus: shellStatus(ws)}},
			reducer.Options{NoBaseline: true, DefaultAction: p.DefaultAction, Name: p.Name + "-violations"})
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if err := frag.Save(o.output); err != nil {
			return fmt.Errorf("check: %w", err)
		}
	}
	return exitCode(exitFinding)
}

// sampleOf keeps the arguments the table records, masked as the recorder
// masks them, so violations aggregate like recordings.
func sampleOf(arch *linuxabi.Arch, d linuxabi.SeccompData) profiles.Sample {
	s := profiles.Sample{Nr: int(d.Nr), Name: arch.SyscallName(int(d.Nr))}
	if d.Arch != arch.Audit {
		s.Name = ""
		return s
	}
	for _, a := range linuxabi.RecordedArgs(s.Name) {
		s.Args[a.Index] = d.Args[a.Index] & a.Mask()
		s.Recorded[a.Index] = true
	}
	return s
}

func describe(s profiles.Sample) string {
	name := s.Name
	if name == "" {
		name = fmt.Sprintf("syscall #%d", s.Nr)
	}
	var args []string
	for _, a := range linuxabi.RecordedArgs(s.Name) {
		args = append(args, a.Name+"="+linuxabi.Symbolize(a.Consts, s.Args[a.Index], a.Kind == linuxabi.KindFlags))
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}
