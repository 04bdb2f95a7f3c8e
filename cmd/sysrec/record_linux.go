package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/containers"
	"github.com/sysrec/sysrec/pipeline"
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
	generalize      string
	generalizeSet   bool // --generalize given: a failed analysis is an error, not a fallback
	fs              string
	fsSet           bool
	fsGeneralize    string
	container       string
	engine          string
	unit            string
	image           string
	engineFlags     []string
	phases          string
	servingAfter    []string
}

func recordCmd(io stdio) *cobra.Command {
	var o recordOptions
	c := &cobra.Command{
		Use:     "record [flags] [-- COMMAND [ARGS...]]",
		Short:   "Run a command (or follow a cgroup or process) and write the profile of its syscalls",
		Long:    help("record.long"),
		Example: help("record.example"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.generalizeSet = cmd.Flags().Changed("generalize")
			o.fsSet = cmd.Flags().Changed("fs")
			return runRecord(cmd.Context(), io, o, args)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.output, "output", "o", "sysrec.json", "write the profile to `FILE` (- for stdout)")
	f.StringVar(&o.cgroup, "cgroup", "", "record the cgroup v2 `PATH` (absolute, or relative to the cgroup2 mount); with a command, run it there (created if missing) so it can place containers inside")
	f.IntVar(&o.pid, "pid", 0, "record the cgroup v2 of running process `PID`")
	f.DurationVar(&o.duration, "duration", 0, "stop recording after `D` (the started command gets SIGTERM)")
	f.IntVar(&o.maxKeys, "max-keys", recorder.DefaultMaxKeys, "size of the in-kernel map of distinct (syscall, arguments, exe) keys")
	f.BoolVar(&o.strict, "strict", false, "fail (exit 2) if the recording is incomplete (calls lost or not recorded)")
	f.StringVar(&o.exe, "exe", "", "keep only calls made by executables whose name matches `GLOB` (e.g. '*.test')")
	f.BoolVar(&o.includeLauncher, "include-launcher", false, "also count sysrec's own child between fork and exec")
	f.StringVar(&o.args, "args", "table", "argument constraints: table (learn the argument table's values) or none")
	f.BoolVar(&o.noBaseline, "no-baseline", false, "do not add the baseline syscalls every process needs (exit, rt_sigreturn, ...)")
	f.StringVar(&o.name, "name", "", "profile name (default: the command's base name)")
	f.StringVar(&o.defaultAction, "default-action", "kill_process", "action for everything not allowed")
	f.StringVar(&o.progress, "progress", "auto", "progress line on stderr: auto (when a terminal), always, never")
	f.StringVar(&o.mergeInto, "merge-into", "", "merge the new profile into `FILE` (created if missing) instead of writing -o: widens a profile with another run")
	f.BoolVar(&o.clone3ENOSYS, "clone3-enosys", true, "answer clone3 with ENOSYS when clone was also seen, so libc falls back to clone, whose flags the filter checks")
	f.IntVar(&o.maxValues, "max-values", reducer.DefaultMaxValues, "drop an argument rule with more distinct values than `N` (≥ 1)")
	f.StringVar(&o.runtime, "runtime", "auto", "add the timing-dependent calls of a runtime: auto (from the target's executable), go, glibc, glibc-threads, python, node, none")
	f.StringVar(&o.generalize, "generalize", string(reducer.DefaultLevel), "how far to generalise beyond the calls seen: exact, families, related or reachable")
	f.StringVar(&o.fs, "fs", "on", "record the files and TCP ports the target touches into the profile's Landlock sections: on or off (with --exe: off unless given)")
	f.StringVar(&o.fsGeneralize, "fs-generalize", string(reducer.DefaultFSLevel), "how far the filesystem section generalises the files seen: exact or dirs")
	f.StringVar(&o.container, "container", "", "record the running container `NAME|ID` (its cgroup, until it stops); the profile names its image and command")
	f.StringVar(&o.unit, "unit", "", "record the running systemd system unit `NAME` (nginx or nginx.service): the same as --cgroup system.slice/NAME.service")
	f.StringVar(&o.engine, "engine", "", "where --container looks: docker ($DOCKER_HOST), podman or containerd (ctr's $CONTAINERD_ADDRESS, $CONTAINERD_NAMESPACE); default: each, then cgroup names. With --image: docker (default) or podman")
	f.StringVar(&o.image, "image", "", "run `IMAGE` with the command after -- in a new container under --engine, recorded from its first syscall by sysrec oci-hook; writes the profile, its OCI profile beside it (NAME.oci.json) and prints the run line that uses it")
	f.StringVar(&o.phases, "phases", pipeline.PhasesDoors, "tag each call with its process's phase, init or serving (a server serves from its first wait for work once it listens), and refuse in serving the doors (socket, connect, exec, fork, set*id...) or all the calls only init made: doors, all or off")
	f.StringSliceVar(&o.servingAfter, "serving-after", nil, "a process starts serving at its first call of `NAME[,NAME]` (any arguments, listen or not) instead of its first blocking wait after listen")
	f.StringArrayVar(&o.engineFlags, "engine-flag", nil, "with --image: a flag for docker run or podman run (repeat it; e.g. --engine-flag=--network=none)")
	return c
}

func runRecord(ctx context.Context, io stdio, o recordOptions, command []string) error {
	// Ctrl-C and SIGTERM stop the recording; the profile is still written.
	ctx, stop := pipeline.StopOnSignal(ctx, func(s os.Signal) {
		fmt.Fprintf(io.err, "sysrec: record: %v: stopping (a second signal ends sysrec at once)\n", s)
	})
	defer stop()
	if o.image != "" {
		return runRecordImage(ctx, io, o, command)
	}
	def, err := profiles.ParseAction(o.defaultAction)
	if err != nil {
		return fmt.Errorf("--default-action: %w", err)
	}
	if o.progress != "auto" && o.progress != "always" && o.progress != "never" {
		return fmt.Errorf("--progress %q (want auto, always or never)", o.progress)
	}
	if o.fs != "on" && o.fs != "off" {
		return fmt.Errorf("--fs %q (want on or off)", o.fs)
	}
	if o.unit != "" {
		if o.cgroup != "" || o.pid != 0 || o.container != "" {
			return errors.New("--unit is a cgroup: give no --cgroup, --pid or --container with it")
		}
		if o.cgroup, err = pipeline.UnitCgroup(o.unit); err != nil {
			return fmt.Errorf("--unit: %w", err)
		}
	}
	opts := pipeline.RecordOptions{
		Recorder: recorder.Options{
			Command:         command,
			Stdin:           io.in,
			Stdout:          io.out,
			Stderr:          io.err,
			IncludeLauncher: o.includeLauncher,
			Cgroup:          o.cgroup,
			PID:             o.pid,
			Duration:        o.duration,
			MaxKeys:         o.maxKeys,
			Files:           o.fs == "on",
		},
		Reduce: reducer.Options{
			Runtime:       o.runtime,
			Level:         reducer.Level(o.generalize),
			Args:          reducer.ArgLevel(o.args),
			NoBaseline:    o.noBaseline,
			DefaultAction: def,
			Name:          o.name,
			Exe:           o.exe,
			KeepClone3:    !o.clone3ENOSYS,
			MaxValues:     o.maxValues,
			FS:            reducer.FSLevel(o.fsGeneralize),
			Home:          os.Getenv("HOME"),
		},
		LevelRequired: o.generalizeSet,
		FilesRequired: o.fsSet,
		Warn:          func(msg string) { fmt.Fprintf(io.err, "sysrec: record: %s\n", msg) },
		Output:        o.output,
		MergeInto:     o.mergeInto,
		Stdout:        io.out,
		Strict:        o.strict,
		Phases:        o.phases,
		ServingAfter:  o.servingAfter,
	}
	if err := opts.Validate(); err != nil {
		return flagError(err)
	}
	switch {
	case o.container != "":
		var ctr *containers.Container
		if opts, ctr, err = pipeline.RecordContainer(ctx, opts, o.container, o.engine); err != nil {
			return fmt.Errorf("--container: %w", err)
		}
		fmt.Fprintf(io.err, "sysrec: recording %s container %s (image %s, pid %d) until it stops\n", ctr.Engine, ctr.Name, ctr.Image, ctr.PID)
	case o.engine != "":
		return fmt.Errorf("--engine %s needs --container or --image", o.engine)
	}
	opts.Recorder.Lingering = func(status int) {
		fmt.Fprintf(io.err, "sysrec: record: %s exited (status %d) but left processes running; recording them until they exit (Ctrl-C or SIGTERM stops and writes the profile)\n", command[0], status)
	}
	showProgress := o.progress == "always" || (o.progress == "auto" && isTerminal(io.err))
	if showProgress {
		opts.Recorder.Progress = func(p recorder.Progress) {
			fmt.Fprintf(io.err, "\rsysrec: recording %s, %d calls, %d keys, %d lost ", p.Elapsed.Round(time.Second), p.Calls, p.Keys, p.Lost)
		}
	}
	res, err := pipeline.Record(ctx, opts)
	err = flagError(err)
	if showProgress {
		fmt.Fprint(io.err, "\r\033[K")
	}
	if res != nil {
		rec, out := res.Recording, o.output
		if o.mergeInto != "" {
			out = o.mergeInto
		}
		fmt.Fprintf(io.err, "sysrec: %d syscalls, %d calls in %s", len(res.Profile.Syscalls), rec.Total(), rec.Duration.Round(time.Millisecond))
		if err == nil && out != "-" {
			fmt.Fprintf(io.err, ", profile written to %s", out)
		}
		fmt.Fprintln(io.err)
		for _, n := range res.Notes() {
			opts.Warn(n)
		}
	}
	if errors.Is(err, pipeline.ErrIncomplete) {
		return fmt.Errorf("%w and --strict is set", err)
	}
	if err != nil {
		return err
	}
	if st := res.ExitStatus(); st != 0 {
		return exitCode(st)
	}
	return nil
}

// flagError names the flag of an option a library refused (--generalize
// for the generalize option).
func flagError(err error) error {
	var oe *pipeline.OptionError
	if errors.As(err, &oe) && error(oe) == err {
		return fmt.Errorf("--%w", err)
	}
	return err
}
