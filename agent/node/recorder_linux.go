package node

import (
	"context"
	"io"
	"time"

	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// LibraryRecorder records through pipeline.Record, as `sysrec record
// --cgroup PATH` does: one BPF object per recording.
type LibraryRecorder struct {
	// Level is the generalisation level ("" means families: what a
	// container will exec is not known before it runs, so there is no
	// static analysis for related or reachable, as `sysrec record`
	// falls back when it cannot analyse its target).
	Level reducer.Level
	// Files also records files and TCP ports into the profile's
	// Landlock sections (the Landlock-in-a-cluster pattern of
	// docs/fleet.md enforces them with sysrec run).
	Files bool
}

// RuntimeInits are the executables (comm at exec) of the container
// runtimes' init processes.
var RuntimeInits = []string{"runc", "crun"}

// Record implements Recorder.
func (l LibraryRecorder) Record(ctx context.Context, r Recording) (*profiles.Profile, []string, error) {
	level := l.Level
	if level == "" {
		level = reducer.LevelFamilies
	}
	res, err := pipeline.Record(ctx, pipeline.RecordOptions{
		Recorder: recorder.Options{
			Cgroup:   r.Cgroup,
			FromExec: true,
			Files:    l.Files,
			Attached: r.Attached,
			// A stop arrives as ctx: the container has exited.
			ProgressInterval: time.Second,
		},
		Reduce: reducer.Options{
			Runtime:       pipeline.RuntimeAuto,
			DefaultAction: profiles.ActKillProcess,
			Name:          r.Name,
			Level:         level,
		},
		// The runtime's init (runc init, crun) is exec'd by the runtime
		// and joins the pod's cgroup after the recording attached: its
		// mounts and pivot_root are the runtime's setup, not the
		// container's (emit adds back what runs under the filter).
		ExcludeExe: RuntimeInits,
		Output:     "-",
		Stdout:     io.Discard,
	})
	if err != nil {
		return nil, nil, err
	}
	return res.Profile, res.Recording.Gaps(), nil
}
