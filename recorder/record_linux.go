package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Recording is what Record returns.
type Recording = profiles.Recording

// DefaultMaxKeys sizes the in-kernel map of distinct (syscall, argument
// values, exe) keys. Real programs use a few hundred keys (nginx ~250,
// `go build` ~2000); a full map is reported, never silent.
const DefaultMaxKeys = 32768

// Options say what to record. Exactly one of Command, Cgroup and PID is set.
type Options struct {
	// Command is started in a fresh cgroup v2 and recorded with every
	// thread and descendant, including those in child cgroups.
	Command []string
	Dir     string   // working directory of Command
	Env     []string // environment of Command; nil means sysrec's
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// IncludeLauncher also counts the syscalls sysrec's own child makes
	// between fork and exec (dup3, rt_sigaction, ...). Off by default:
	// they are sysrec's, not the target's, and strace does not show them.
	IncludeLauncher bool
	// FromExec counts, when following a running cgroup or process, only
	// the processes that exec after the recording started (and their
	// children): an OCI hook starts recording while the runtime's init
	// sits in the container's cgroup, and what the container runs is
	// what that init execs. A started Command always counts from its
	// exec (see IncludeLauncher).
	FromExec bool
	// StopTimeout is how long a stopped target gets between SIGTERM and
	// SIGKILL (then everything left in its cgroup is killed). 0 means 5s.
	StopTimeout time.Duration

	// Cgroup records an existing cgroup v2 subtree (absolute path, or
	// relative to the cgroup2 mount). With Command, Command runs in it
	// instead of in a fresh cgroup, and it is created (and removed at the
	// end) if missing: a known path lets the command put what it starts
	// inside the recording, e.g. a container with runc's cgroupsPath or
	// docker run --cgroup-parent.
	Cgroup string
	// PID records the cgroup v2 subtree of a running process.
	PID int

	// Duration stops the recording after this long (0: when the target
	// and all it started have exited, or ctx is done; negative is an
	// error).
	Duration time.Duration
	// MaxKeys sizes the in-kernel map of keys with recorded arguments
	// (and of calls of executables past the 64th); 0 means
	// DefaultMaxKeys. Validate refuses what the machine's memory cannot
	// hold. A call without recorded arguments of one of the first 64
	// executables is counted in a fixed array instead (1 MiB: per
	// executable and phase).
	MaxKeys int
	// Files also records the files and TCP ports the target touches, as
	// Landlock rights (Recording.Files, Ports, FilesUnresolved).
	Files bool
	// Transition, when set, tags every call with the phase its process
	// was in at the call's entry under this rule (Sample.Phase,
	// Recording.Transition); nil: phases are not tracked. A process
	// that was running before the recording started (PID, Cgroup)
	// starts in init, not listened: whether it listened or serves is
	// not known, and the calls before its next wait would be the middle
	// of its loop, not its start-up.
	Transition *profiles.Transition

	// Lingering, when set, is called once if the command exits while
	// processes it started are still running (a daemon): the recording
	// goes on until they exit or it is stopped. status is the command's.
	Lingering func(status int)

	// Attached, when set, is called once the programs are attached,
	// before Command starts or the cgroup is followed: from then on
	// nothing the target does is missed. A target another package
	// starts in Cgroup (check's enforcement helper) waits for it before
	// its exec.
	Attached func()

	// Progress, when set, is called every ProgressInterval (default 1s).
	Progress         func(Progress)
	ProgressInterval time.Duration
}

// Progress is a snapshot of a running recording.
type Progress struct {
	Elapsed time.Duration
	Calls   uint64 // syscalls counted so far
	Keys    int    // distinct keys in the map
	Lost    uint64
}

// ErrNoTarget is returned when Options name no target or several.
var ErrNoTarget = errors.New("give exactly one target: a command, a cgroup or a pid")

// Record records the target until it exits, Duration passes or ctx is
// done, and returns what it saw. Cancelling ctx is a normal stop (Ctrl-C):
// the started target gets SIGTERM, and the recording is returned.
func Record(ctx context.Context, opts Options) (*Recording, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	arch, err := hostArch()
	if err != nil {
		return nil, err
	}
	mount, err := CgroupMount()
	if err != nil {
		return nil, err
	}

	var cg *cgroup
	switch {
	case opts.Cgroup != "":
		path := opts.Cgroup
		if !strings.HasPrefix(path, mount+"/") {
			path = filepath.Join(mount, path)
		}
		cg, err = openCgroup(mount, path)
		if errors.Is(err, os.ErrNotExist) && len(opts.Command) > 0 {
			cg, err = makeCgroup(mount, path)
		}
	case opts.PID != 0:
		var path string
		if path, err = pidCgroup(mount, opts.PID); err == nil {
			cg, err = openCgroup(mount, path)
		}
		if err == nil && cg.level == 0 {
			return nil, fmt.Errorf("pid %d is in the root cgroup: recording it would record every process of the host or container (run it in a cgroup of its own, or use --cgroup)", opts.PID)
		}
	default:
		cg, err = newCgroup(mount)
	}
	if err != nil {
		return nil, err
	}
	defer cg.remove()

	rule, err := phaseRule(arch, opts.Transition)
	if err != nil {
		return nil, err
	}
	// Only a target sysrec starts has a launcher phase to leave out.
	fromExec := (len(opts.Command) > 0 && !opts.IncludeLauncher) || opts.FromExec
	// Registered before the target starts, so nothing it does is
	// missed; by its cgroup, so nothing foreign is counted.
	s, err := startSession(cg, sessionOptions{fromExec: fromExec, maxKeys: opts.maxKeys(), files: opts.Files, phases: rule})
	if err != nil {
		return nil, err
	}
	defer s.close()
	if opts.Attached != nil {
		opts.Attached()
	}
	var files *fileRecorder // nil: file recording off
	if opts.Files {
		files = &fileRecorder{s: s, start: time.Now()}
	}

	rec := &Recording{Arch: arch.Name, Command: opts.Command, Kernel: kernelRelease(), ExitStatus: -1}
	if opts.Transition != nil {
		t := *opts.Transition
		t.After = slices.Clone(t.After)
		rec.Transition = &t
	}
	start := time.Now()
	stopProgress := startProgress(s, start, opts)
	if len(opts.Command) > 0 {
		rec.ExitStatus, err = runTarget(ctx, cg, opts)
	} else {
		err = follow(ctx, cg, opts.Duration)
	}
	stopProgress()
	rec.Duration = time.Since(start)
	if err != nil {
		return nil, err
	}
	// Unregister before reading so the maps no longer change under us.
	if err := s.stop(); err != nil {
		return nil, fmt.Errorf("end recording: %w", err)
	}
	if err := readMaps(s, arch, rec); err != nil {
		return nil, err
	}
	// The programs are shared: what they skipped while this recording
	// ran may have been its calls, or another's; it is counted here
	// either way. Those of the file-only programs are the file
	// recording's (FilesUnresolved).
	misses, err := s.missesSince(names(coreAttachments(&bpfprog.Objects{}))...)
	if err != nil {
		return nil, err
	}
	rec.Lost += misses
	if err := files.read(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// phaseRule lowers t (nil: phases not tracked) to the native numbers
// of arch; a name arch does not have (arm64 has no poll, epoll_wait or
// select) is left out, but one of them at least must be there.
func phaseRule(arch *linuxabi.Arch, t *profiles.Transition) (*bpfprog.PhaseRule, error) {
	if t == nil {
		return nil, nil
	}
	after, err := t.Numbers(arch)
	if err != nil {
		return nil, err
	}
	r, err := bpfprog.NewPhaseRule(after, t.Blocking, t.Gate == profiles.GateListen)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// hostArch is the arch whose syscall numbers the recorder sees. The BPF
// program reads arguments from x86_64 and arm64 register layouts only.
func hostArch() (*linuxabi.Arch, error) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		return nil, fmt.Errorf("the recorder supports amd64 and arm64, not %s", runtime.GOARCH)
	}
	return linuxabi.LookupArch(runtime.GOARCH)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// permHint says what a permission error needs: recording creates
// cgroups and loads BPF programs.
func permHint(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (run as root: recording needs CAP_BPF, CAP_PERFMON and write access to the cgroup2 tree)", err)
	}
	return err
}
