package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/reducer"
)

// OptionError is an option of a command's job set to a value it does not
// take: Option is the option's name (as the CLI's flag is named), Problem
// what is wrong with the value.
type OptionError struct {
	Option  string
	Problem string
}

func (e *OptionError) Error() string { return e.Option + " " + e.Problem }

// oneOf is a value's alternatives as a sentence: "a, b or c".
func oneOf(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// want is the OptionError of a value that is none of names.
func want[T ~string](option string, v T, names []T) error {
	var s []string
	for _, n := range names {
		s = append(s, string(n))
	}
	return &OptionError{option, fmt.Sprintf("%q (want %s)", v, oneOf(s))}
}

// Validate checks the options a person chose, before anything runs: the
// language runtime (RuntimeAuto and RuntimeNone included), the
// generalisation levels, the duration and the bounds on keys and values
// (at least 1 each), phases and the syscalls serving starts after (of
// this machine's arch), then what reducer.Options.Validate checks. Its
// errors are OptionErrors where an option is to blame.
func (o RecordOptions) Validate() error {
	rt := o.Reduce.Runtime
	if rt != RuntimeAuto && rt != RuntimeNone && !slices.Contains(reducer.Runtimes, rt) {
		return want("runtime", rt, slices.Concat([]string{RuntimeAuto}, reducer.Runtimes, []string{RuntimeNone}))
	}
	if !slices.Contains(reducer.Levels, o.Reduce.Level) {
		return want("generalize", o.Reduce.Level, reducer.Levels)
	}
	if !slices.Contains(reducer.FSLevels, o.Reduce.FS) {
		return want("fs-generalize", o.Reduce.FS, reducer.FSLevels)
	}
	if d := o.Recorder.Duration; d < 0 {
		return &OptionError{"duration", fmt.Sprintf("%s is negative", d)}
	}
	if o.Reduce.MaxValues < 1 {
		return &OptionError{"max-values", fmt.Sprintf("%d (want at least 1)", o.Reduce.MaxValues)}
	}
	if o.Recorder.MaxKeys < 1 {
		return &OptionError{"max-keys", fmt.Sprintf("%d (want at least 1)", o.Recorder.MaxKeys)}
	}
	if o.Phases != "" && o.Phases != PhasesDoors && o.Phases != PhasesAll && o.Phases != PhasesOff {
		return want("phases", o.Phases, []string{PhasesDoors, PhasesAll, PhasesOff})
	}
	if len(o.ServingAfter) > 0 {
		if o.Phases == PhasesOff {
			return &OptionError{"serving-after", fmt.Sprintf("%s with --phases off (phases are not tracked)", strings.Join(o.ServingAfter, ","))}
		}
		arch, err := linuxabi.Native()
		if err != nil {
			return err
		}
		if err := o.transition().Check([]*linuxabi.Arch{arch}); err != nil {
			return &OptionError{"serving-after", err.Error()}
		}
	}
	r := o.Reduce
	if r.Runtime == RuntimeAuto || r.Runtime == RuntimeNone {
		r.Runtime = reducer.RuntimeNone
	}
	if r.Level.NeedsReachable() && r.Reachable == nil {
		r.Reachable = map[string]string{} // Record analyses the target for it
	}
	return r.Validate()
}

// transition is the rule Record tags phases with: none when they are
// off, serving after any call of ServingAfter when it is set, else the
// default.
func (o RecordOptions) transition() *profiles.Transition {
	switch {
	case o.Phases == PhasesOff:
		return nil
	case len(o.ServingAfter) > 0:
		return &profiles.Transition{After: slices.Clone(o.ServingAfter)}
	}
	t := profiles.DefaultTransition()
	return &t
}

// decide takes the decisions Record makes for the caller before the run,
// on the target's executable exe (or why there is none): the language
// runtime under RuntimeAuto, the analysis the level needs (or, unless
// LevelRequired, families when there is none), and no file recording
// under Reduce.Exe unless FilesRequired. It says each one it took
// through Warn.
func (o *RecordOptions) decide(ctx context.Context, exe string, exeErr error) error {
	switch o.Reduce.Runtime {
	case RuntimeAuto:
		o.Reduce.Runtime = reducer.DetectRuntime(exe) // none without exe
	case RuntimeNone:
		o.Reduce.Runtime = reducer.RuntimeNone
	}
	if o.Reduce.Level.NeedsReachable() && o.Reduce.Reachable == nil {
		// Before the run: a target that cannot be analysed costs no
		// recording.
		reach, err := reachableOf(ctx, o.Recorder.Command, exe, exeErr)
		if err == nil && o.Reduce.Exe != "" {
			// The executables Exe keeps are not the one analysed.
			err = fmt.Errorf("--exe %s keeps the calls of other executables than the one analysed", o.Reduce.Exe)
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("%w while analysing the target: nothing recorded", context.Cause(ctx))
		case err != nil && o.LevelRequired:
			return &OptionError{"generalize", fmt.Sprintf("%s: %v", o.Reduce.Level, err)}
		case err != nil:
			o.warn(fmt.Sprintf("cannot analyse the target (%v): generalising at families", err))
			o.Reduce.Level = reducer.LevelFamilies
		default:
			o.Reduce.Reachable = reach
		}
	}
	if o.Recorder.Files && o.Reduce.Exe != "" && !o.FilesRequired {
		// Exe is for a test binary among its build: `go test` runs it
		// from a new temporary directory each time, so its files would
		// differ in every run and a diff gate would never pass.
		o.warn("--exe: no filesystem or network section (the files of a test binary change with its build directory; --fs on records those of the matching executables)")
		o.Recorder.Files = false
	}
	return nil
}

func (o *RecordOptions) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}
