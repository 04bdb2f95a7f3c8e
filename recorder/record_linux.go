package recorder

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/exitstatus"
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
	// executables is counted in a fixed array instead (512 KiB).
	MaxKeys int
	// Files also records the files and TCP ports the target touches, as
	// Landlock rights (Recording.Files, Ports, FilesUnresolved).
	Files bool

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

	// Only a target sysrec starts has a launcher phase to leave out.
	fromExec := (len(opts.Command) > 0 && !opts.IncludeLauncher) || opts.FromExec
	objs, err := load(arch, cg, loadOptions{fromExec: fromExec, maxKeys: opts.maxKeys(), files: opts.Files})
	if err != nil {
		return nil, err
	}
	defer objs.Close()
	// Attach before the target starts, after the cgroup id is set, so
	// nothing it does is missed and nothing foreign is counted.
	links, err := attach(objs, opts.Files)
	defer func() {
		for _, l := range links {
			l.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if opts.Attached != nil {
		opts.Attached()
	}
	var files *fileRecorder // nil: file recording off
	if opts.Files {
		files = &fileRecorder{objs: objs, start: time.Now()}
	}

	rec := &Recording{Arch: arch.Name, Command: opts.Command, Kernel: kernelRelease(), ExitStatus: -1}
	start := time.Now()
	stopProgress := startProgress(objs, start, opts)
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
	// Detach before reading so the maps no longer change under us.
	for _, l := range links {
		l.Close()
	}
	links = nil
	if err := readMaps(objs, arch, rec); err != nil {
		return nil, err
	}
	// Those of the file-only programs are the file recording's
	// (FilesUnresolved): they run for the whole host, not for calls.
	misses, err := recursionMisses(attachments(objs, false))
	if err != nil {
		return nil, err
	}
	rec.Lost += misses
	if err := files.read(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// attachment is one program of the recording and where it runs.
type attachment struct {
	name string
	prog *ebpf.Program
}

// attachments lists the programs; all are BTF tracepoints (typed
// arguments), one per tracepoint. Those that only record files (every
// ctime change, unix socket wake-up and signal of the host runs them)
// are attached with files only.
func attachments(objs *bpfprog.Objects, files bool) []attachment {
	as := []attachment{
		{name: "sys_enter", prog: objs.SysEnter},
		{name: "sys_exit", prog: objs.SysExit},
		{name: "sched_process_exec", prog: objs.SchedProcessExec},
		{name: "sched_process_fork", prog: objs.SchedProcessFork},
		{name: "task_newtask", prog: objs.TaskNewtask},
		{name: "cgroup_attach_task", prog: objs.CgroupAttachTask},
	}
	if files {
		as = append(as,
			attachment{name: "inode_set_ctime_to_ts", prog: objs.InodeSetCtimeToTs},
			attachment{name: "ctime_xchg_skip", prog: objs.CtimeXchgSkip},
			attachment{name: "ctime_ns_xchg", prog: objs.CtimeNsXchg},
			attachment{name: "sk_data_ready", prog: objs.SkDataReady},
			attachment{name: "signal_generate", prog: objs.SignalGenerate},
		)
	}
	return as
}

// attach attaches every program (with files, those of file recording
// too); on an error it returns the links made so far, for the caller to
// close.
func attach(objs *bpfprog.Objects, files bool) ([]link.Link, error) {
	var links []link.Link
	for _, a := range attachments(objs, files) {
		l, err := link.AttachTracing(link.TracingOptions{Program: a.prog})
		if err != nil {
			return links, fmt.Errorf("attach %s: %w", a.name, permHint(err))
		}
		links = append(links, l)
	}
	return links, nil
}

// recursionMisses sums the runs the kernel skipped because the program
// was already running on that CPU: each may be a call (or a fork, whose
// child then goes uncounted) the maps never saw. The kernel counts them
// whether or not BPF run-time statistics are enabled.
func recursionMisses(as []attachment) (uint64, error) {
	var n uint64
	for _, a := range as {
		st, err := a.prog.Stats()
		if err != nil {
			return 0, fmt.Errorf("read recursion misses of %s: %w", a.name, err)
		}
		n += st.RecursionMisses
	}
	return n, nil
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

// loadOptions configure the program of one recording.
type loadOptions struct {
	fromExec bool // count only processes that exec'd after the start
	maxKeys  int  // size of the counts map
	files    bool // also record files and ports
	fileKeys int  // size of the file maps (≤ 0: DefaultMaxFileKeys)
	depth    int  // components a path walk may take (≤ 0: fileMaxDepth)
}

// load prepares and loads the program for one recording.
func load(arch *linuxabi.Arch, cg *cgroup, o loadOptions) (*bpfprog.Objects, error) {
	// Harmless where BPF memory is cgroup-accounted; needed before 5.11.
	_ = rlimit.RemoveMemlock()
	spec, err := bpfprog.Spec()
	if err != nil {
		return nil, fmt.Errorf("load bpf program: %w", err)
	}
	spec.Maps["counts"].MaxEntries = uint32(o.maxKeys)
	spec.Maps["errnos"].MaxEntries = uint32(errnoKeys(o.maxKeys))
	if o.depth <= 0 {
		o.depth = fileMaxDepth
	}
	vars, err := setFiles(spec, o.files, o.fileKeys, o.depth)
	if err != nil {
		return nil, fmt.Errorf("load bpf program: %w", err)
	}
	vars["target_cgid"] = cg.id
	vars["target_level"] = cg.level
	vars["require_exec"] = uint32(0)
	if o.fromExec {
		vars["require_exec"] = uint32(1)
	}
	for v, name := range map[string]string{"execve_nr": "execve", "execveat_nr": "execveat", "sigreturn_nr": "rt_sigreturn"} {
		if nr, ok := arch.Number(name); ok {
			vars[v] = uint32(nr)
		}
	}
	if compat, ok := compatArch(arch); ok {
		for v, name := range map[string]string{"compat_sigreturn_nr": "sigreturn", "compat_rt_sigreturn_nr": "rt_sigreturn"} {
			if nr, ok := compat.Number(name); ok {
				vars[v] = uint32(nr)
			}
		}
	}
	for name, val := range vars {
		if err := spec.Variables[name].Set(val); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
	}

	var objs bpfprog.Objects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load bpf program: %+v", ve)
		}
		return nil, fmt.Errorf("load bpf program: %w", permHint(err))
	}
	type table struct {
		arch *linuxabi.Arch
		m    *ebpf.Map
	}
	tables := []table{{arch, objs.Masks}}
	if compat, ok := compatArch(arch); ok {
		tables = append(tables, table{compat, objs.MasksCompat})
	}
	for _, t := range tables {
		masks := argMasks(t.arch)
		for nr := range masks {
			if masks[nr].Mask == ([6]uint64{}) {
				continue
			}
			if err := t.m.Put(uint32(nr), &masks[nr]); err != nil {
				objs.Close()
				return nil, fmt.Errorf("set argument masks of %s %s: %w", t.arch.Name, t.arch.SyscallName(nr), err)
			}
		}
	}
	if o.files {
		if err := setFileOps(&objs, arch); err != nil {
			objs.Close()
			return nil, err
		}
	}
	return &objs, nil
}

// runTarget starts the command in cg and waits until it and everything
// it started have exited, or the recording is stopped.
func runTarget(ctx context.Context, cg *cgroup, opts Options) (int, error) {
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return -1, fmt.Errorf("start %s: %w", opts.Command[0], err)
	}
	fd, err := unix.Open(cg.path, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open cgroup: %w", err)
	}
	defer unix.Close(fd)
	cmd := &exec.Cmd{
		Path:   path,
		Args:   opts.Command,
		Dir:    opts.Dir,
		Env:    opts.Env,
		Stdin:  opts.Stdin,
		Stdout: opts.Stdout,
		Stderr: opts.Stderr,
		// Born inside the cgroup (clone3 CLONE_INTO_CGROUP): no window in
		// which the target runs unrecorded.
		SysProcAttr: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd},
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start %s: %w", opts.Command[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	stop := stopChan(ctx, opts.Duration)
	var waitErr error
	select {
	case waitErr = <-done:
		// Daemons fork and exit: keep recording what they left behind.
		if pop, err := cg.populated(); err == nil && pop && opts.Lingering != nil {
			opts.Lingering(exitstatus.Shell(cmd.ProcessState))
		}
		if err := cg.waitEmpty(stop); err != nil {
			return -1, err
		}
	case <-stop:
		cmd.Process.Signal(unix.SIGTERM)
		timeout := opts.StopTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		select {
		case waitErr = <-done:
		case <-time.After(timeout):
			cg.kill()
			waitErr = <-done
		}
	}
	return exitStatus(cmd.ProcessState, waitErr)
}

// exitStatus maps a process end to a shell-style status: the exit code,
// or 128+signal.
func exitStatus(ps *os.ProcessState, err error) (int, error) {
	if ps == nil {
		return -1, err
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ps.ExitCode(), nil
}

func stopChan(ctx context.Context, d time.Duration) <-chan struct{} {
	if d <= 0 {
		return ctx.Done()
	}
	c := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		close(c)
	}()
	return c
}

// follow records a cgroup sysrec did not start until it empties or the
// recording is stopped.
func follow(ctx context.Context, cg *cgroup, d time.Duration) error {
	return cg.waitEmpty(stopChan(ctx, d))
}

func startProgress(objs *bpfprog.Objects, start time.Time, opts Options) (stop func()) {
	if opts.Progress == nil {
		return func() {}
	}
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := Progress{Elapsed: time.Since(start)}
				var k bpfprog.Key
				var v uint64
				it := objs.Counts.Iterate()
				for it.Next(&k, &v) {
					p.Calls += v
					p.Keys++
				}
				arrayCounts(objs, func(_ bpfprog.Key, v uint64) {
					p.Calls += v
					p.Keys++
				})
				p.Lost, _ = lostCount(objs)
				opts.Progress(p)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// arrayCounts calls f with the key and count of every nonzero entry of
// the calls array: calls[slot*MaxNr+nr] counts call nr, without its
// arguments, of the exe the slots map gave that slot.
func arrayCounts(objs *bpfprog.Objects, f func(bpfprog.Key, uint64)) error {
	names := map[uint32]bpfprog.ExeName{}
	var name bpfprog.ExeName
	var slot uint32
	it := objs.Slots.Iterate()
	for it.Next(&name, &slot) {
		names[slot] = name
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read exe slots: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	mem, err := objs.Calls.Memory()
	if err != nil {
		return fmt.Errorf("map calls: %w", err)
	}
	buf := make([]byte, 8*bpfprog.MaxNr)
	for slot, name := range names {
		if _, err := mem.ReadAt(buf, int64(slot)*int64(len(buf))); err != nil {
			return fmt.Errorf("read calls of slot %d: %w", slot, err)
		}
		for nr := range uint32(bpfprog.MaxNr) {
			if v := binary.NativeEndian.Uint64(buf[8*nr:]); v != 0 {
				f(bpfprog.Key{Nr: nr, Exe: name.Name}, v)
			}
		}
	}
	return nil
}

func lostCount(objs *bpfprog.Objects) (uint64, error) {
	return statSum(objs, bpfprog.StatLostKeys, bpfprog.StatLostErrnos, bpfprog.StatLostExes, bpfprog.StatLostLeft)
}

// statSum adds up per-CPU stats counters.
func statSum(objs *bpfprog.Objects, idx ...uint32) (uint64, error) {
	var sum uint64
	for _, i := range idx {
		var perCPU []uint64
		if err := objs.Stats.Lookup(i, &perCPU); err != nil {
			return 0, fmt.Errorf("read stats: %w", err)
		}
		for _, v := range perCPU {
			sum += v
		}
	}
	return sum, nil
}

// compatArch is the other ABI a process of arch may call through, when
// linuxabi has its table.
func compatArch(arch *linuxabi.Arch) (*linuxabi.Arch, bool) {
	if arch.Compat == "" {
		return nil, false
	}
	a, err := linuxabi.LookupArch(arch.Compat)
	return a, err == nil
}

// argMasks is what the masks maps hold for arch: per syscall number,
// the bits of each argument the key keeps.
func argMasks(arch *linuxabi.Arch) *[bpfprog.MaxNr]bpfprog.ArgMask {
	var masks [bpfprog.MaxNr]bpfprog.ArgMask
	for _, name := range linuxabi.ArgTableSyscalls() {
		if nr, ok := arch.Number(name); ok && nr < bpfprog.MaxNr {
			masks[nr].Mask = arch.RecordMasksOn(name)
		}
	}
	return &masks
}

// readMaps turns the kernel's aggregates into samples; calls of the
// compat ABI become samples of its arch (Sample.Arch).
func readMaps(objs *bpfprog.Objects, arch *linuxabi.Arch, rec *Recording) error {
	native := argMasks(arch)
	compat, hasCompat := compatArch(arch)
	var compatMasks *[bpfprog.MaxNr]bpfprog.ArgMask
	if hasCompat {
		compatMasks = argMasks(compat)
	}
	index := map[bpfprog.Key]int{}
	add := func(k bpfprog.Key, v uint64) {
		a, masks, sampleArch := arch, native, ""
		if k.Abi != 0 && hasCompat {
			a, masks, sampleArch = compat, compatMasks, compat.Name
		}
		s := profiles.Sample{Arch: sampleArch, Nr: int(int32(k.Nr)), Name: a.SyscallName(int(int32(k.Nr))), Args: k.Args, Count: v, Exe: k.ExeName()}
		if k.Nr < bpfprog.MaxNr {
			for i, m := range masks[k.Nr].Mask {
				s.Recorded[i] = m != 0
			}
		}
		index[k] = len(rec.Samples)
		rec.Samples = append(rec.Samples, s)
	}
	var k bpfprog.Key
	var v uint64
	it := objs.Counts.Iterate()
	for it.Next(&k, &v) {
		add(k, v)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	// The calls array holds other keys (calls without recorded
	// arguments of an exe with a slot) than the hash map.
	if err := arrayCounts(objs, add); err != nil {
		return err
	}
	var ek bpfprog.ErrKey
	eit := objs.Errnos.Iterate()
	for eit.Next(&ek, &v) {
		i, ok := index[ek.Key]
		if !ok {
			continue // cannot happen: an errno is only counted for a counted key
		}
		s := &rec.Samples[i]
		if s.Errors == nil {
			s.Errors = map[uint16]uint64{}
		}
		s.Errors[uint16(ek.Err)] += v
	}
	if err := eit.Err(); err != nil {
		return fmt.Errorf("read errnos: %w", err)
	}
	lost, err := lostCount(objs)
	if err != nil {
		return err
	}
	rec.Lost += lost
	compatCalls, err := statSum(objs, bpfprog.StatCompat)
	if err != nil {
		return err
	}
	rec.Compat += compatCalls
	var name bpfprog.ExeName
	var left []profiles.ExeCount
	lit := objs.ExesLeft.Iterate()
	for lit.Next(&name, &v) {
		left = append(left, profiles.ExeCount{Exe: bpfprog.CString(name.Name), Count: v})
	}
	if err := lit.Err(); err != nil {
		return fmt.Errorf("read processes that left: %w", err)
	}
	rec.Left = profiles.AddExeCounts(rec.Left, left)
	return nil
}
