package node

import (
	"context"

	"github.com/sysrec/sysrec/profiles"
)

// Recorder records a cgroup subtree.
type Recorder interface {
	// Record records the processes that exec in the subtree at
	// r.Cgroup after the recording attached (a pod's sandbox, already
	// running, is not counted), until ctx is done or the subtree
	// empties, and reduces what it saw to a profile. Gaps lists what
	// the recording missed (losses in the kernel, processes that left).
	Record(ctx context.Context, r Recording) (p *profiles.Profile, gaps []string, err error)
}

// Recording says what to record.
type Recording struct {
	Cgroup string // below the cgroup2 mount
	Name   string // the profile's name
	// Attached is called once nothing that execs in the subtree is
	// missed any more.
	Attached func()
}
