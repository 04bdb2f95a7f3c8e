package recorder

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
)

// attachment is one program of the shared object and where it runs.
type attachment struct {
	name string
	prog *ebpf.Program
}

// coreAttachments lists the programs every recording needs; all are BTF
// tracepoints (typed arguments), one per tracepoint.
func coreAttachments(objs *bpfprog.Objects) []attachment {
	return []attachment{
		{name: "sys_enter", prog: objs.SysEnter},
		{name: "sys_exit", prog: objs.SysExit},
		{name: "sched_process_exec", prog: objs.SchedProcessExec},
		{name: "sched_process_fork", prog: objs.SchedProcessFork},
		{name: "sched_process_exit", prog: objs.SchedProcessExit},
		{name: "task_newtask", prog: objs.TaskNewtask},
		{name: "cgroup_attach_task", prog: objs.CgroupAttachTask},
	}
}

// fileAttachments lists the programs only file recording needs: every
// ctime change, unix socket wake-up and signal of the host runs them, so
// they are attached while a recording of files runs, not otherwise.
func fileAttachments(objs *bpfprog.Objects) []attachment {
	return []attachment{
		{name: "inode_set_ctime_to_ts", prog: objs.InodeSetCtimeToTs},
		{name: "ctime_xchg_skip", prog: objs.CtimeXchgSkip},
		{name: "ctime_ns_xchg", prog: objs.CtimeNsXchg},
		{name: "sk_data_ready", prog: objs.SkDataReady},
		{name: "signal_generate", prog: objs.SignalGenerate},
	}
}

// attach attaches the programs of as; on an error it closes what it
// attached.
func attach(as []attachment) ([]link.Link, error) {
	var links []link.Link
	for _, a := range as {
		l, err := link.AttachTracing(link.TracingOptions{Program: a.prog})
		if err != nil {
			closeLinks(links)
			return nil, fmt.Errorf("attach %s: %w", a.name, permHint(err))
		}
		links = append(links, l)
	}
	return links, nil
}

func closeLinks(links []link.Link) {
	for _, l := range links {
		l.Close()
	}
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

// perRecordingMaps are the maps each recording makes for itself and
// the owner puts at its id in the shared object's map of that name
// (bpfprog: the arrays of maps). files: the file recording's, made at
// one entry when it is off.
var perRecordingMaps = []struct {
	name  string
	files bool
}{
	{"counts", false}, {"errnos", false}, {"calls", false}, {"slots", false}, {"exes_left", false},
	{"file_counts", true}, {"paths", true}, {"path_changed", true}, {"ports", true},
	{"unix_counts", true}, {"own_unix", true}, {"signals_outside", true},
}

// loaded is the shared object as the owner holds it.
type loaded struct {
	bpfprog.Objects
	Bss *ebpf.Map `ebpf:".bss"`

	shapes []mapShape // of the recordings' maps, for them to make

	bss    []byte  // Bss, memory-mapped
	gen    *uint64 // the program's gen, in bss: bumped atomically
	nfiles *uint32 // the program's nfiles
}

func (l *loaded) Close() error {
	if l.bss != nil {
		unix.Munmap(l.bss)
	}
	l.Bss.Close()
	return l.Objects.Close()
}

// mapShape is the shape of one of a recording's maps: what the shared
// object's array of maps of that name holds (the C declares it).
type mapShape struct {
	Name       string `json:"name"`
	Type       uint32 `json:"type"`
	KeySize    uint32 `json:"key_size"`
	ValueSize  uint32 `json:"value_size"`
	MaxEntries uint32 `json:"max_entries"`
	Flags      uint32 `json:"flags"`
}

// mapShapes reads the shapes of perRecordingMaps from spec (nil: the
// object's).
func mapShapes(spec *ebpf.CollectionSpec) ([]mapShape, error) {
	if spec == nil {
		var err error
		if spec, err = bpfprog.Spec(); err != nil {
			return nil, fmt.Errorf("read map shapes: %w", err)
		}
	}
	var out []mapShape
	for _, pm := range perRecordingMaps {
		m := spec.Maps[pm.name]
		if m == nil || m.InnerMap == nil {
			return nil, fmt.Errorf("read map shapes: no array of maps %s", pm.name)
		}
		in := m.InnerMap
		out = append(out, mapShape{Name: pm.name, Type: uint32(in.Type), KeySize: in.KeySize, ValueSize: in.ValueSize, MaxEntries: in.MaxEntries, Flags: in.Flags})
	}
	return out, nil
}

// load loads the shared object: the programs every recording of the
// host runs, with the tables of arch filled in. Recordings then
// register in it (owner.register); nothing is recorded until one does.
func load(arch *linuxabi.Arch) (*loaded, error) {
	// Harmless where BPF memory is cgroup-accounted; needed before 5.11.
	_ = rlimit.RemoveMemlock()
	spec, err := bpfprog.Spec()
	if err != nil {
		return nil, fmt.Errorf("load bpf program: %w", err)
	}
	vars := map[string]any{}
	for v, name := range map[string]string{"execve_nr": "execve", "execveat_nr": "execveat", "sigreturn_nr": "rt_sigreturn"} {
		if nr, ok := arch.Number(name); ok {
			vars[v] = uint32(nr)
		}
	}
	for v, name := range bpfprog.PhaseNumbers {
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

	var objs loaded
	if objs.shapes, err = mapShapes(spec); err != nil {
		return nil, err
	}
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
	if err := setFileOps(&objs.Objects, arch); err != nil {
		objs.Close()
		return nil, err
	}
	// The owner bumps gen as the programs do, atomically: the kernel
	// maps .bss for it (writing the map through a syscall would undo a
	// bump made meanwhile).
	info, err := objs.Bss.Info()
	if err == nil {
		objs.bss, err = unix.Mmap(objs.Bss.FD(), 0, int(info.ValueSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	}
	if err != nil {
		objs.Close()
		return nil, fmt.Errorf("map .bss: %w", err)
	}
	genOff, nfilesOff := spec.Variables["gen"].Offset, spec.Variables["nfiles"].Offset
	if int(genOff)+8 > len(objs.bss) || int(nfilesOff)+4 > len(objs.bss) || genOff%8 != 0 || nfilesOff%4 != 0 {
		objs.Close()
		return nil, fmt.Errorf("map .bss: gen at %d, nfiles at %d of %d bytes", genOff, nfilesOff, len(objs.bss))
	}
	objs.gen = (*uint64)(unsafe.Pointer(&objs.bss[genOff]))
	objs.nfiles = (*uint32)(unsafe.Pointer(&objs.bss[nfilesOff]))
	return &objs, nil
}

// setFileOps fills the loaded program's ops map: which syscall numbers
// are file operations.
func setFileOps(objs *bpfprog.Objects, arch *linuxabi.Arch) error {
	for name, op := range fileOps {
		nr, ok := arch.Number(name)
		if !ok || nr < 0 || nr >= bpfprog.FilesMaxNr {
			continue
		}
		if err := objs.Ops.Put(uint32(nr), op); err != nil {
			return fmt.Errorf("set file operation %s: %w", name, err)
		}
	}
	return nil
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

// names lists the names of as.
func names(as []attachment) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.name)
	}
	return out
}
