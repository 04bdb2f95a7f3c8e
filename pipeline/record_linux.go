package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sysrec/sysrec/analyze"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// RuntimeAuto asks Record to find the target's runtime from its executable.
const RuntimeAuto = "auto"

// RecordOptions say what to record and where the profile goes.
type RecordOptions struct {
	Recorder recorder.Options
	// Reduce.Runtime may be RuntimeAuto; Reduce.Name defaults to the
	// command's base name.
	Reduce reducer.Options
	// Output is the profile's path; "-" writes it to Stdout (the target's
	// own stdout then goes to Recorder.Stderr, so the two never mix).
	Output string
	// MergeInto, when set, is read before the run and the new profile is
	// merged into it and written back there (Output is ignored).
	MergeInto string
	Stdout    io.Writer
	// Strict makes an incomplete recording (Recording.Gaps) an error,
	// after the profile is written.
	Strict bool
	// Command is written as the profile's recorded command when the
	// recorder started none (a container, a process: what it runs).
	Command []string
	// ExcludeExe drops the calls, file and port accesses, unix sockets
	// and outside signals of these executables (comm names) before the
	// profile is made: a container runtime's init, whose setup before the
	// container's execve is the runtime's, not the container's.
	ExcludeExe []string
}

// RecordResult is what a recording produced.
type RecordResult struct {
	Profile   *profiles.Profile
	Recording *profiles.Recording
	// Stopped is set when sysrec stopped the target (Duration, or ctx:
	// Ctrl-C, SIGTERM) rather than the target ending by itself.
	Stopped bool
}

// ErrIncomplete is returned (wrapped, with the result) when the
// recording is incomplete (Recording.Gaps) and RecordOptions.Strict is
// set.
var ErrIncomplete = errors.New("the recording is incomplete")

// Record checks everything that can be checked before the target runs,
// records it, reduces the recording to a profile, merges and writes it.
func Record(ctx context.Context, o RecordOptions) (*RecordResult, error) {
	out := o.Output
	if o.MergeInto != "" {
		out = o.MergeInto
	}
	command := o.Recorder.Command
	auto := o.Reduce.Runtime == RuntimeAuto
	if auto {
		o.Reduce.Runtime = detectRuntime(command, o.Recorder.PID)
	}
	if err := o.Reduce.Validate(); err != nil {
		return nil, err
	}
	// Read the profile to merge into before the run, so a broken one
	// costs nothing.
	var old *profiles.Profile
	if o.MergeInto != "" {
		var err error
		if old, err = profiles.Load(o.MergeInto); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("merge into %s: %w", o.MergeInto, err)
		}
	}
	if err := CheckOutput(out); err != nil {
		return nil, fmt.Errorf("cannot write the profile to %s: %w", out, err)
	}
	if o.Reduce.Name == "" && len(command) > 0 {
		o.Reduce.Name = filepath.Base(command[0])
	}
	if out == "-" {
		o.Recorder.Stdout = o.Recorder.Stderr
	}
	// sysrec stops the target itself at Duration, so it can tell a
	// requested stop from the target's own end.
	// A stop requested before the target started (while the target was
	// analysed, say) records nothing: no target is started only to be
	// stopped.
	if ctx.Err() != nil {
		return nil, fmt.Errorf("before the target started: %w", context.Cause(ctx))
	}
	if d := o.Recorder.Duration; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
		o.Recorder.Duration = 0
	}
	var dir string
	var files map[int][]byte
	var progs []string
	if len(command) > 0 && o.Recorder.Files {
		// What the command line and environment name becomes a template
		// (reducer): the working directory and environment are part of
		// the recording. The target gets a private TMPDIR, as run gives
		// it one: files it makes there were reached through $TMPDIR.
		wd, err := filepath.Abs(o.Recorder.Dir) // "": the working directory
		if err != nil {
			return nil, fmt.Errorf("record: %w", err)
		}
		dir = wd
		// A server's port may come from its configuration file: read
		// the files the command line names before the target can
		// change them.
		files, _ = argFiles(command, dir)
		env := o.Recorder.Env
		if env == nil {
			env = os.Environ()
		}
		// Where the caller's TMPDIR takes no new directory, the target
		// could not make files there either: it keeps it, and nothing
		// is learned as reached through $TMPDIR.
		if private, cleanup, err := privateTmpdir(env); err == nil {
			defer cleanup()
			env = private
		}
		o.Recorder.Env = env
		progs = argPrograms(command, env)
	}
	// The analysis of the target (Reachable) ran before this.
	var rec *profiles.Recording
	err := untrusted(func() (err error) {
		rec, err = recorder.Record(ctx, o.Recorder)
		return err
	})
	if err != nil {
		return nil, err
	}
	if dir != "" {
		// A file the target changed while it ran gives nothing: it
		// would choose the next run's ports and paths.
		after, _ := argFiles(command, dir)
		files = unchangedFiles(files, after)
		rec.Dir, rec.Env, rec.ArgFiles, rec.ArgPrograms = dir, o.Recorder.Env, files, progs
	}
	if len(rec.Command) == 0 {
		rec.Command = o.Command
	}
	if len(o.ExcludeExe) > 0 {
		rec.Samples = slices.DeleteFunc(rec.Samples, func(s profiles.Sample) bool { return slices.Contains(o.ExcludeExe, s.Exe) })
		rec.Files = slices.DeleteFunc(rec.Files, func(f profiles.FileAccess) bool { return slices.Contains(o.ExcludeExe, f.Exe) })
		rec.Ports = slices.DeleteFunc(rec.Ports, func(p profiles.PortAccess) bool { return slices.Contains(o.ExcludeExe, p.Exe) })
		rec.Unix = slices.DeleteFunc(rec.Unix, func(u profiles.UnixAccess) bool { return slices.Contains(o.ExcludeExe, u.Exe) })
		rec.SignalsOutside = slices.DeleteFunc(rec.SignalsOutside, func(c profiles.ExeCount) bool { return slices.Contains(o.ExcludeExe, c.Exe) })
	}
	res := &RecordResult{Recording: rec, Stopped: ctx.Err() != nil}
	if auto && o.Reduce.Runtime != reducer.RuntimeGo && goSignature(rec, o.Reduce.Exe) {
		// The command was not a Go binary (a shell, `go test`), but what
		// was recorded is: its timing-dependent calls belong in the profile.
		o.Reduce.Runtime = reducer.RuntimeGo
	}
	p, err := reducer.Reduce([]*profiles.Recording{rec}, o.Reduce)
	if err != nil {
		return nil, err
	}
	if old != nil {
		if p, err = profiles.Merge(old, p); err != nil {
			return nil, fmt.Errorf("merge into %s: %w", o.MergeInto, err)
		}
	}
	res.Profile = p
	b, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	if err := writeOrRescue(o.Stdout, out, b); err != nil {
		return res, fmt.Errorf("write profile: %w", err)
	}
	if gaps := rec.Gaps(); len(gaps) > 0 && o.Strict {
		return res, fmt.Errorf("%w (%s)", ErrIncomplete, strings.Join(gaps, ", "))
	}
	return res, nil
}

// untrusted runs a target sysrec does not trust (run starts it and
// waits for it), then removes the analysis cache entries it could have
// written (analyze.CacheMark): it runs as the user, often root, and must
// not change what later analyses of other programs find.
func untrusted(run func() error) error {
	mark := analyze.MarkCache()
	err := run()
	if distrust := mark.Distrust(); distrust != nil {
		return errors.Join(err, fmt.Errorf("remove analysis cache entries the target could have written: %w", distrust))
	}
	return err
}

// detectRuntime looks for Go build information in the target's
// executable.
func detectRuntime(command []string, pid int) string {
	exe := ""
	switch {
	case len(command) > 0:
		exe, _ = exec.LookPath(command[0])
	case pid != 0:
		exe = fmt.Sprintf("/proc/%d/exe", pid)
	}
	if exe == "" {
		return reducer.RuntimeNone
	}
	// The target names the file: read it through a descriptor opened
	// without blocking and checked to be a regular file (a FIFO would
	// block the read for good), reopened through /proc so the file
	// cannot be swapped in between.
	f, err := os.OpenFile(exe, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return reducer.RuntimeNone
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return reducer.RuntimeNone
	}
	return reducer.RuntimeOf(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
}

// goSignature reports whether the recorded calls (of the executables the
// profile keeps) carry the Go runtime's start-up signature: a handler for
// SIGURG, the signal Go preempts goroutines with and C programs leave
// alone, together with per-thread signal stacks (sigaltstack).
func goSignature(rec *profiles.Recording, exe string) bool {
	urg, altstack := false, false
	for _, s := range rec.Samples {
		if s.Arch != "" && s.Arch != rec.Arch {
			continue // an i386 call says nothing of the Go runtime
		}
		if exe != "" {
			if ok, _ := path.Match(exe, s.Exe); !ok {
				continue
			}
		}
		switch s.Name {
		case "rt_sigaction":
			urg = urg || (s.Recorded[0] && s.Args[0] == 23) // SIGURG
		case "sigaltstack":
			altstack = true
		}
	}
	return urg && altstack
}
