package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

func validOptions() RecordOptions {
	return RecordOptions{
		Recorder: recorder.Options{Command: []string{"true"}, MaxKeys: recorder.DefaultMaxKeys},
		Reduce:   reducer.Options{Runtime: RuntimeAuto, Level: reducer.LevelFamilies, FS: reducer.FSDirs, MaxValues: reducer.DefaultMaxValues},
	}
}

// TestRecordOptionsValidate: each option a person can get wrong is
// refused by name, with what it takes.
func TestRecordOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*RecordOptions)
		want   string // "" for valid
	}{
		{"valid", func(*RecordOptions) {}, ""},
		{"runtime none", func(o *RecordOptions) { o.Reduce.Runtime = RuntimeNone }, ""},
		{"related without analysis yet", func(o *RecordOptions) { o.Reduce.Level = reducer.LevelRelated }, ""},
		{"runtime", func(o *RecordOptions) { o.Reduce.Runtime = "java" }, `runtime "java" (want auto, go, glibc, glibc-threads, python, node or none)`},
		{"level", func(o *RecordOptions) { o.Reduce.Level = "loose" }, `generalize "loose" (want exact, families, related or reachable)`},
		{"fs level", func(o *RecordOptions) { o.Reduce.FS = "all" }, `fs-generalize "all" (want exact or dirs)`},
		{"duration", func(o *RecordOptions) { o.Recorder.Duration = -1 }, "duration -1ns is negative"},
		{"max values", func(o *RecordOptions) { o.Reduce.MaxValues = 0 }, "max-values 0 (want at least 1)"},
		{"max keys", func(o *RecordOptions) { o.Recorder.MaxKeys = 0 }, "max-keys 0 (want at least 1)"},
		{"phases off", func(o *RecordOptions) { o.Phases = PhasesOff }, ""},
		{"phases", func(o *RecordOptions) { o.Phases = "on" }, `phases "on" (want doors, all or off)`},
		{"serving after", func(o *RecordOptions) { o.ServingAfter = []string{"getppid", "recvfrom"} }, ""},
		{"serving after a typo", func(o *RecordOptions) { o.ServingAfter = []string{"recvfrom", "epoll_wiat"} },
			`serving-after unknown syscall "epoll_wiat" (did you mean "epoll_wait"?)`},
		{"serving after with phases off", func(o *RecordOptions) { o.ServingAfter = []string{"getppid"}; o.Phases = PhasesOff },
			"serving-after getppid with --phases off (phases are not tracked)"},
	} {
		o := validOptions()
		tc.change(&o)
		err := o.Validate()
		var oe *OptionError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.As(err, &oe) || err.Error() != tc.want):
			t.Errorf("%s: error %v, want OptionError %q", tc.name, err, tc.want)
		}
	}
}

// TestRecordTransition: the rule Record records phases with.
func TestRecordTransition(t *testing.T) {
	def := profiles.DefaultTransition()
	for _, tc := range []struct {
		name   string
		change func(*RecordOptions)
		want   *profiles.Transition
	}{
		{"default", func(*RecordOptions) {}, &def},
		{"auto", func(o *RecordOptions) { o.Phases = PhasesDoors }, &def},
		{"serving after", func(o *RecordOptions) { o.ServingAfter = []string{"recvfrom", "getppid"} }, &profiles.Transition{After: []string{"recvfrom", "getppid"}}},
		{"off", func(o *RecordOptions) { o.Phases = PhasesOff }, nil},
	} {
		o := validOptions()
		tc.change(&o)
		got := o.transition()
		if (got == nil) != (tc.want == nil) || got != nil && !got.Equal(*tc.want) {
			t.Errorf("%s: transition %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestRecordDecisions: what Record decides before the run when the
// target cannot be analysed, or Exe keeps other executables' calls.
func TestRecordDecisions(t *testing.T) {
	noExe := errors.New("no such file")
	for _, tc := range []struct {
		name      string
		change    func(*RecordOptions)
		wantErr   string
		wantLevel reducer.Level
		wantFiles bool
		wantWarn  string
	}{
		{"families needs no analysis", func(o *RecordOptions) {}, "", reducer.LevelFamilies, true, ""},
		{"related falls to families", func(o *RecordOptions) { o.Reduce.Level = reducer.LevelRelated }, "",
			reducer.LevelFamilies, true, "cannot analyse the target (no such file): generalising at families"},
		{"related required", func(o *RecordOptions) { o.Reduce.Level = reducer.LevelRelated; o.LevelRequired = true },
			"generalize related: no such file", "", false, ""},
		{"exe turns files off", func(o *RecordOptions) { o.Reduce.Exe = "*.test" }, "", reducer.LevelFamilies, false, "--exe: no filesystem or network section"},
		{"unless files are required", func(o *RecordOptions) { o.Reduce.Exe = "*.test"; o.FilesRequired = true }, "", reducer.LevelFamilies, true, ""},
	} {
		o := validOptions()
		o.Recorder.Files = true
		var warned []string
		o.Warn = func(s string) { warned = append(warned, s) }
		tc.change(&o)
		err := o.decide(context.Background(), "", noExe)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if o.Reduce.Level != tc.wantLevel || o.Recorder.Files != tc.wantFiles || o.Reduce.Runtime != reducer.RuntimeNone {
			t.Errorf("%s: level %s, files %v, runtime %q", tc.name, o.Reduce.Level, o.Recorder.Files, o.Reduce.Runtime)
		}
		if got := strings.Join(warned, "\n"); (tc.wantWarn == "") != (got == "") || !strings.HasPrefix(got, tc.wantWarn) {
			t.Errorf("%s: warned %q, want %q", tc.name, got, tc.wantWarn)
		}
	}
}

// TestRecordResult: what record says of a recording and the status it
// exits with.
func TestRecordResult(t *testing.T) {
	rec := &profiles.Recording{Lost: 3, Compat: 1, FilesUnresolved: 2, ExitStatus: 7,
		Left: []profiles.ExeCount{{Exe: "sleep", Count: 1}}}
	r := &RecordResult{Recording: rec, MaxKeys: 8}
	notes := strings.Join(r.Notes(), "\n")
	for _, want := range []string{"3 calls lost (in-kernel map full: raise --max-keys, now 8;", "1 calls through another syscall ABI",
		"1 sleep processes left the recorded cgroup", "2 file accesses not resolved to a path"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if len((&RecordResult{Recording: &profiles.Recording{}}).Notes()) != 0 {
		t.Error("notes on a complete recording")
	}
	for _, tc := range []struct {
		status  int
		stopped bool
		want    int
	}{{7, false, 7}, {7, true, 0}, {-1, false, 0}, {0, false, 0}} {
		r := &RecordResult{Recording: &profiles.Recording{ExitStatus: tc.status}, Stopped: tc.stopped}
		if got := r.ExitStatus(); got != tc.want {
			t.Errorf("status %d, stopped %v: ExitStatus %d, want %d", tc.status, tc.stopped, got, tc.want)
		}
	}
}
