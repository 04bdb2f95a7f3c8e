package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

type recordOptions struct {
	output          string
	cgroup          string
	pid             int
	duration        time.Duration
	maxKeys         int
	strict          bool
	exe             string
	includeLauncher bool
	args            string
	noBaseline      bool
	name            string
	defaultAction   string
	progress        string
	runtime         string
	mergeInto       string
	clone3ENOSYS    bool
	maxValues       int
}

func recordCmd(io stdio) *cobra.Command {
	var o recordOptions
	c := &cobra.Command{
		Use:   "record [flags] [-- COMMAND [ARGS...]]",
		Short: "Run a command (or follow a cgroup or process) and write the profile of its syscalls",
		Long: `record runs COMMAND in a fresh cgroup v2 and counts, in kernel, every syscall
made by it, its threads and all its descendants (also those that move into
child cgroups), with the scalar arguments the argument table names
(socket domain, mmap prot, open flags, ...). When the command and everything
it started have exited, or on Ctrl-C, SIGTERM or --duration, it writes the
profile. Its exit status is the command's.

--cgroup and --pid record a cgroup v2 subtree that is already running
(a container, a service) until it empties or the recording is stopped.

Calls the kernel could not store (map full) are reported on stderr and in
the profile; --strict makes them an error (exit 2).`,
		Example: `  sysrec record -o app.json -- ./app --flag
  sysrec record --exe '*.test' -o tests.json -- go test ./...
  sysrec record --pid 1234 --duration 30s -o service.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecord(cmd.Context(), io, o, args)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.output, "output", "o", "sysrec.json", "write the profile to `FILE` (- for stdout)")
	f.StringVar(&o.cgroup, "cgroup", "", "record the cgroup v2 `PATH` (absolute, or relative to the cgroup2 mount); with a command, run it there (created if missing) so it can place containers inside")
	f.IntVar(&o.pid, "pid", 0, "record the cgroup v2 of running process `PID`")
	f.DurationVar(&o.duration, "duration", 0, "stop recording after `D` (the started command gets SIGTERM)")
	f.IntVar(&o.maxKeys, "max-keys", recorder.DefaultMaxKeys, "size of the in-kernel map of distinct (syscall, arguments, exe) keys")
	f.BoolVar(&o.strict, "strict", false, "fail (exit 2) if any call was lost")
	f.StringVar(&o.exe, "exe", "", "keep only calls made by executables whose name matches `GLOB` (e.g. '*.test')")
	f.BoolVar(&o.includeLauncher, "include-launcher", false, "also count sysrec's own child between fork and exec")
	f.StringVar(&o.args, "args", "table", "argument constraints: table (learn the argument table's values) or none")
	f.BoolVar(&o.noBaseline, "no-baseline", false, "do not add the baseline syscalls every process needs (exit, rt_sigreturn, ...)")
	f.StringVar(&o.name, "name", "", "profile name (default: the command's base name)")
	f.StringVar(&o.defaultAction, "default-action", "kill_process", "action for everything not allowed")
	f.StringVar(&o.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always, never")
	f.StringVar(&o.mergeInto, "merge-into", "", "merge the new profile into `FILE` (created if missing) instead of writing -o: widens a profile with another run")
	f.BoolVar(&o.clone3ENOSYS, "clone3-enosys", true, "answer clone3 with ENOSYS when clone was also seen, so libc falls back to clone, whose flags the filter checks")
	f.IntVar(&o.maxValues, "max-values", reducer.DefaultMaxValues, "drop an argument rule with more distinct values than `N`")
	f.StringVar(&o.runtime, "runtime", "auto", "add the timing-dependent calls of a language runtime: auto (go when the target is a Go binary), go, none")
	return c
}

func runRecord(ctx context.Context, io stdio, o recordOptions, command []string) error {
	// Ctrl-C and SIGTERM stop the recording; the profile is still written.
	ctx, stop := signal.NotifyContext(ctx, unix.SIGINT, unix.SIGTERM)
	defer stop()
	def, err := profiles.ParseAction(o.defaultAction)
	if err != nil {
		return fmt.Errorf("record: --default-action: %w", err)
	}
	if o.progress != "auto" && o.progress != "always" && o.progress != "never" {
		return fmt.Errorf("record: --progress %q (want auto, always or never)", o.progress)
	}
	// Read the profile to merge into before the run, so a broken one
	// costs nothing.
	var old *profiles.Profile
	if o.mergeInto != "" {
		o.output = o.mergeInto
		if old, err = profiles.Load(o.mergeInto); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("record: merge into %s: %w", o.mergeInto, err)
		}
	}
	rt, err := targetRuntime(o, command)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	name := o.name
	if name == "" && len(command) > 0 {
		name = filepath.Base(command[0])
	}
	reduce := reducer.Options{
		Runtime:       rt,
		Args:          reducer.ArgLevel(o.args),
		NoBaseline:    o.noBaseline,
		DefaultAction: def,
		Name:          name,
		Exe:           o.exe,
		KeepClone3:    !o.clone3ENOSYS,
		MaxValues:     o.maxValues,
	}
	if err := reduce.Validate(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := writable(o.output); err != nil {
		return fmt.Errorf("record: cannot write the profile to %s: %w", o.output, err)
	}
	ropts := recorder.Options{
		Command:         command,
		Stdin:           io.in,
		Stdout:          io.out,
		Stderr:          io.err,
		IncludeLauncher: o.includeLauncher,
		Cgroup:          o.cgroup,
		PID:             o.pid,
		Duration:        o.duration,
		MaxKeys:         o.maxKeys,
	}
	showProgress := o.progress == "always" || (o.progress == "auto" && isTerminal(io.err))
	if showProgress {
		ropts.Progress = func(p recorder.Progress) {
			fmt.Fprintf(io.err, "\rsysrec: recording %s, %d calls, %d keys, %d lost ", p.Elapsed.Round(time.Second), p.Calls, p.Keys, p.Lost)
		}
	}
	rec, err := recorder.Record(ctx, ropts)
	if showProgress {
		fmt.Fprint(io.err, "\r\033[K")
	}
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	p, err := reducer.Reduce([]*profiles.Recording{rec}, reduce)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if old != nil {
		if p, err = profiles.Merge(old, p); err != nil {
			return fmt.Errorf("record: merge into %s: %w", o.mergeInto, err)
		}
	}
	b, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if err := writeOutput(io, o.output, b); err != nil {
		return fmt.Errorf("record: write profile: %w", err)
	}
	fmt.Fprintf(io.err, "sysrec: %d syscalls, %d calls in %s", len(p.Syscalls), rec.Total(), rec.Duration.Round(time.Millisecond))
	if o.output != "-" {
		fmt.Fprintf(io.err, ", profile written to %s", o.output)
	}
	fmt.Fprintln(io.err)
	if rec.Lost > 0 {
		fmt.Fprintf(io.err, "sysrec: record: %d calls lost (in-kernel map full: raise --max-keys, now %d; or BPF recursion); the profile is incomplete\n", rec.Lost, o.maxKeys)
		if o.strict {
			return fmt.Errorf("record: %d calls lost and --strict is set", rec.Lost)
		}
	}
	if rec.ExitStatus > 0 {
		return exitCode(rec.ExitStatus)
	}
	return nil
}

// targetRuntime resolves --runtime: auto looks for Go build information
// in the target's executable.
func targetRuntime(o recordOptions, command []string) (string, error) {
	switch o.runtime {
	case "go":
		return reducer.RuntimeGo, nil
	case "none":
		return reducer.RuntimeNone, nil
	case "auto":
	default:
		return "", fmt.Errorf("--runtime %q (want auto, go or none)", o.runtime)
	}
	exe := ""
	switch {
	case len(command) > 0:
		exe, _ = exec.LookPath(command[0])
	case o.pid != 0:
		exe = fmt.Sprintf("/proc/%d/exe", o.pid)
	}
	if exe == "" {
		return reducer.RuntimeNone, nil
	}
	if _, err := buildinfo.ReadFile(exe); err == nil {
		return reducer.RuntimeGo, nil
	}
	return reducer.RuntimeNone, nil
}

// writable checks, before a recording, that its profile can be written:
// the file if it exists, else its directory.
func writable(path string) error {
	if path == "-" {
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return unix.Access(path, unix.W_OK)
	}
	return unix.Access(filepath.Dir(path), unix.W_OK)
}
