package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/analyze"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// Values of RecordOptions.Phases: which calls a process made only before
// it served are refused once it serves (reducer.Options.Phases), or off.
const (
	PhasesDoors = reducer.PhasesDoors
	PhasesAll   = reducer.PhasesAll
	PhasesOff   = "off"
)

// RuntimeAuto asks Record to find the target's language runtime from
// its executable; RuntimeNone to add the calls of none.
const (
	RuntimeAuto = "auto"
	RuntimeNone = "none"
)

// RecordOptions say what to record and where the profile goes.
type RecordOptions struct {
	Recorder recorder.Options
	// Reduce.Runtime may be RuntimeAuto or RuntimeNone; Reduce.Name
	// defaults to the command's base name; Reduce.Reachable, when the
	// level needs it, is the analysis of the target's executable unless
	// given.
	Reduce reducer.Options
	// LevelRequired makes a target that cannot be analysed an error
	// when Reduce.Level needs its analysis; otherwise Record lowers the
	// level to families and says so through Warn.
	LevelRequired bool
	// FilesRequired keeps Recorder.Files on under Reduce.Exe, which
	// otherwise turns it off (the files of a test binary change with
	// its build directory).
	FilesRequired bool
	// Warn receives, one sentence each, what Record decided on the
	// caller's behalf before the run.
	Warn func(string)
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
	// Phases is PhasesDoors (or "") or PhasesAll to tag each call with
	// the phase of its process, init or serving (Recorder.Transition is
	// set from it and ServingAfter), and to refuse in serving the doors
	// (or all the calls) only init made (Reduce.Phases), or PhasesOff
	// not to tag.
	Phases string
	// ServingAfter, when set, says a process starts serving at its first
	// call of one of these syscalls (native names), whatever its
	// arguments and whether or not it listened, instead of the default
	// transition (profiles.DefaultTransition): a UDP server, a client
	// daemon.
	ServingAfter []string
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
	// MaxKeys is the size the in-kernel map had (Recorder.MaxKeys).
	MaxKeys int
}

// ExitStatus is the status a recording ends with: the target's (as a
// shell reports it), or 0 when sysrec stopped it or it never ran.
func (r *RecordResult) ExitStatus() int {
	if r.Stopped {
		return 0
	}
	return max(r.Recording.ExitStatus, 0)
}

// Notes are what the person who recorded should know of the recording,
// one sentence each: calls lost, calls through another syscall ABI,
// processes that left the cgroup, file accesses not resolved or raced.
func (r *RecordResult) Notes() []string {
	rec := r.Recording
	var out []string
	if rec.Lost > 0 {
		out = append(out, fmt.Sprintf("%d calls lost (in-kernel map full: raise --max-keys, now %d; or BPF recursion); the profile is incomplete", rec.Lost, r.MaxKeys))
	}
	if rec.Compat > 0 {
		out = append(out, fmt.Sprintf("%d calls through another syscall ABI (i386 int $0x80 on x86_64): recorded as calls of that arch, but their files and ports are not; the filesystem and network sections do not allow them", rec.Compat))
	}
	for _, l := range rec.Left {
		out = append(out, fmt.Sprintf("%d %s processes left the recorded cgroup while recorded; what they did after is not in the profile", l.Count, l.Exe))
	}
	if rec.FilesUnresolved > 0 {
		out = append(out, fmt.Sprintf("%d file accesses not resolved to a path (deeper or longer than the walk takes, outside the target's root, a path string in a page the target had not touched yet, changed in memory during the call, or a full map); the filesystem section may miss them", rec.FilesUnresolved))
	}
	if rec.FilesRaced > 0 {
		out = append(out, fmt.Sprintf("%d of them named a path or address that the target changed in its memory while the call ran, or passed a symlink it changed during the recording; not learned", rec.FilesRaced))
	}
	return out
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
	exe, exeErr := TargetExe(command, o.Recorder.PID)
	if err := o.decide(ctx, exe, exeErr); err != nil {
		return nil, err
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
	o.Recorder.Transition = o.transition()
	if o.Phases != PhasesOff {
		o.Reduce.Phases = o.Phases
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
	var links map[string]string
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
		links, _ = argLinks(command, dir)
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
		rec.Dir, rec.Env, rec.ArgFiles, rec.ArgPrograms, rec.ArgLinks = dir, o.Recorder.Env, files, progs, links
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
	res := &RecordResult{Recording: rec, Stopped: ctx.Err() != nil, MaxKeys: o.Recorder.MaxKeys}
	if auto && o.Reduce.Runtime != reducer.RuntimeGo && reducer.GoSignature(rec, o.Reduce.Exe) {
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
	warnPhaseEscape(p, o.warn)
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

// warnPhaseEscape says, for a profile with phases that run and check
// would refuse to enforce (phaseEscape), why: at record time, not only
// when it is first run.
func warnPhaseEscape(p *profiles.Profile, warn func(string)) {
	if !p.HasPhases() {
		return
	}
	if err := phaseEscape(p); err != nil {
		warn(fmt.Sprintf("run and check will refuse this profile's phases: %v", err))
	}
}
