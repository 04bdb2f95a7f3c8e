package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

type runOptions struct {
	profile       string
	defaultAction string
}

func runCmd(io stdio) *cobra.Command {
	var o runOptions
	c := &cobra.Command{
		Use:   "run --profile FILE [flags] -- COMMAND [ARGS...]",
		Short: "Run a command under a profile's seccomp filter",
		Long: `run compiles the profile, sets no_new_privs, installs the filter and execs
COMMAND at once, so every instruction of COMMAND runs filtered. The exit
status is COMMAND's (128+N when killed by signal N). When the filter kills
COMMAND, run names the syscall it was killed for (from the kernel's seccomp
audit record).

--default-action replaces the profile's action for calls it does not allow:
kill (kill_process), errno (fail them with EPERM) or log (allow and log them
to the kernel log, to learn what a profile misses).`,
		Example: `  sysrec run --profile app.json -- ./app
  sysrec run --profile app.json --default-action errno -- ./app`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), io, o, args)
		},
	}
	c.Flags().StringVar(&o.profile, "profile", "", "profile `FILE` to enforce (required)")
	c.Flags().StringVar(&o.defaultAction, "default-action", "", "override the profile's default action: kill, errno, log (or any action name)")
	c.MarkFlagRequired("profile")
	return c
}

func runRun(ctx context.Context, io stdio, o runOptions, argv []string) error {
	p, err := profiles.Load(o.profile)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if o.defaultAction != "" {
		a, err := profiles.ParseAction(o.defaultAction)
		if err != nil {
			return fmt.Errorf("run: --default-action: %w", err)
		}
		p.DefaultAction = a
	}
	if err := allowsExec(p); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	raw, err := emit.Raw(p, emit.Options{})
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	cmd, err := enforce.Command(raw, argv)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			fmt.Fprintf(io.err, "sysrec: %v\n", err)
			return exitCode(exitNotFound)
		}
		return fmt.Errorf("run: %w", err)
	}
	audit, auditErr := enforce.OpenAuditLog()
	if auditErr == nil {
		defer audit.Close()
	}
	wait, err := startTarget(ctx, io, cmd)
	if err != nil {
		return fmt.Errorf("run: start %s: %w", argv[0], err)
	}
	ws, err := wait()
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if ws.Signaled() {
		sig := ws.Signal()
		msg := fmt.Sprintf("%s killed by %s", argv[0], strings.ToUpper(unix.SignalName(sig)))
		if sig == unix.SIGSYS {
			msg += " (seccomp)" + explain(p, audit, cmd.Process.Pid)
		}
		fmt.Fprintf(io.err, "sysrec: run: %s\n", msg)
	}
	if code := shellStatus(ws); code != 0 {
		return exitCode(code)
	}
	return nil
}

// startTarget starts a filtered target with sysrec's stdio and relayed
// signals; wait returns its status once it has exited.
func startTarget(ctx context.Context, io stdio, cmd *enforce.Cmd) (wait func() (syscall.WaitStatus, error), err error) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.in, io.out, io.err
	sigs, stopSignals := relaySignals()
	if err := cmd.Start(); err != nil {
		stopSignals()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func() (syscall.WaitStatus, error) {
		defer stopSignals()
		err := forwardUntilDone(ctx, cmd.Process, sigs, done)
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ok {
			return 0, fmt.Errorf("wait: %w", err)
		}
		return ws, nil
	}, nil
}

// shellStatus is the exit code, or 128+signal.
func shellStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// allowsExec checks that the profile lets the helper exec the target: the
// filter is installed before execve.
func allowsExec(p *profiles.Profile) error {
	arch, err := linuxabi.LookupArch(runtime.GOARCH)
	if err != nil {
		return err
	}
	nr, _ := arch.Number("execve")
	if a := p.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit}); a.Kind != profiles.Allow && a.Kind != profiles.Log {
		return fmt.Errorf("profile does not allow execve (it would get %s), which sysrec needs to start the target after installing the filter: add {\"name\": \"execve\"}", a)
	}
	return nil
}

// explain names the syscall a SIGSYS death was for, from the audit log.
func explain(p *profiles.Profile, audit *enforce.AuditLog, pid int) string {
	if audit == nil {
		return ""
	}
	vs, err := audit.Violations(pid)
	if err != nil || len(vs) == 0 {
		return ": the kernel log has no seccomp record of it (rate-limited, read by auditd, or kill_process not in /proc/sys/kernel/seccomp/actions_logged)"
	}
	v := vs[len(vs)-1]
	name := fmt.Sprintf("#%d", v.Nr)
	for _, an := range linuxabi.ArchNames() {
		if a, _ := linuxabi.LookupArch(an); a.Audit == v.Arch {
			if n := a.SyscallName(v.Nr); n != "" {
				name = fmt.Sprintf("%s (nr %d, %s)", n, v.Nr, a.Name)
			}
		}
	}
	return ": syscall " + name + " is not allowed by the profile"
}

// relaySignals sets up signal handling while a target runs, as system(3)
// does: the target is in sysrec's process group, so a terminal's Ctrl-C
// and Ctrl-\ reach it directly and sysrec ignores them (relaying them
// would deliver them twice); SIGTERM and SIGHUP sent to sysrec alone are
// passed on.
func relaySignals() (<-chan os.Signal, func()) {
	// Caught and dropped rather than signal.Ignore'd: SIG_IGN would be
	// inherited through execve by the target.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGHUP)
	relay := make(chan os.Signal, 4)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == unix.SIGTERM || s == unix.SIGHUP {
					relay <- s
				}
			case <-done:
				return
			}
		}
	}()
	return relay, func() {
		signal.Stop(sigs)
		close(done)
	}
}

// forwardUntilDone passes relayed signals on to the target and turns a
// cancelled ctx into SIGTERM, until the target exits.
func forwardUntilDone(ctx context.Context, p *os.Process, sigs <-chan os.Signal, done <-chan error) error {
	for {
		select {
		case s := <-sigs:
			p.Signal(s)
		case <-ctx.Done():
			ctx = context.Background() // fires once
			p.Signal(unix.SIGTERM)
		case err := <-done:
			return err
		}
	}
}
