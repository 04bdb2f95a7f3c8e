package recorder

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
)

// The owner is the one process of the host (of a network namespace,
// for one build of the object) that loads the shared object, holds its
// links and registers recordings in it. The first recording starts it
// (startOwner: this binary again, ownerEnv set); it lives as long as
// some recording is connected to it and detaches everything when the
// last one leaves. Links are never pinned: if the owner dies, even by
// SIGKILL, the kernel closes its descriptors and nothing stays
// attached; a recording that dies leaves its connection, and the owner
// removes its registration.

// ownerEnv makes this binary the owner (see init): "1" starts it again
// with "2" and exits at once, so that the owner is nobody's child (the
// recorder that started it reaps "1" and holds nothing of the owner's),
// "2" is the owner.
const ownerEnv = "SYSREC_RECORDER_OWNER"

// ownerIdle is how long a started owner waits for its first recording
// before it gives up (the recorder that started it died first).
const ownerIdle = 30 * time.Second

// instanceEnv names a separate owner (letters, digits, - and _): a test
// binary's recordings get one of their own, so that what its tests count
// and kill is theirs, not another package's running beside it.
const instanceEnv = "SYSREC_RECORDER_INSTANCE"

// ownerName names the owner: by the object's version, so recorders of
// another build start their own, and by instanceEnv.
func ownerName() string {
	n := "sysrec-recorder-" + bpfprog.Version()
	i := os.Getenv(instanceEnv)
	if i != "" && strings.Trim(i, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == "" {
		n += "-" + i
	}
	return n
}

// ownerSocket is the owner's abstract unix socket.
func ownerSocket() string { return "@" + ownerName() }

// ownerLock is held by an owner from before it loads the object until
// it exits: an owner that starts while the last one is still detaching
// waits for it, so the programs are attached once at any moment.
func ownerLock() string { return filepath.Join("/run", ownerName()+".lock") }

// errOwnerExists: another owner holds the socket.
var errOwnerExists = errors.New("exists")

func init() {
	// A package init, not a call each main must remember: any binary
	// that records can be started as the owner.
	switch os.Getenv(ownerEnv) {
	case "1":
		os.Exit(ownerDetach())
	case "2":
		os.Exit(ownerMain())
	}
}

// ownerDetach starts the owner, passing it the ready pipe (fd 3), and
// returns.
func ownerDetach() int {
	exe, err := os.Executable()
	if err == nil {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), ownerEnv+"=2")
		cmd.ExtraFiles = []*os.File{os.NewFile(3, "ready")}
		err = cmd.Start()
	}
	if err != nil {
		os.NewFile(3, "ready").WriteString(err.Error())
		return 1
	}
	return 0
}

// ownerMain runs the owner; fd 3 is the pipe on which the recorder that
// started it waits for "ok", "exists" or an error.
func ownerMain() int {
	ready := os.NewFile(3, "ready")
	// It outlives the recording that started it: its directory must not
	// stay busy (an unmount) for it.
	os.Chdir("/")
	o, err := newOwner()
	if errors.Is(err, errOwnerExists) {
		ready.WriteString(errOwnerExists.Error())
		return 0
	}
	if err != nil {
		ready.WriteString(err.Error())
		return 1
	}
	ready.WriteString("ok")
	ready.Close()
	o.serve()
	return 0
}

// owner is the state of the owner process.
type owner struct {
	objs  *loaded
	outer map[string]*ebpf.Map // the arrays of the recordings' maps, by name
	core  []link.Link
	ln    *net.UnixListener
	lock  *os.File
	cpus  int

	mu        sync.Mutex
	files     []link.Link // attached while some recording records files
	nfileRecs uint32
	used      [bpfprog.MaxRecordings]bool
	seq       uint64
	clients   int
	joined    bool // a recorder has connected
	closing   bool
	handlers  sync.WaitGroup
}

// newOwner takes the socket, waits for a previous owner to be gone,
// loads the object and attaches the programs every recording needs.
func newOwner() (*owner, error) {
	arch, err := hostArch()
	if err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: ownerSocket(), Net: "unixpacket"})
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, errOwnerExists
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", ownerSocket(), err)
	}
	o := &owner{ln: ln}
	fail := func(err error) (*owner, error) {
		o.close()
		return nil, err
	}
	o.lock, err = os.OpenFile(ownerLock(), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", ownerLock(), err))
	}
	if err := unix.Flock(int(o.lock.Fd()), unix.LOCK_EX); err != nil {
		return fail(fmt.Errorf("lock %s: %w", ownerLock(), err))
	}
	if o.cpus, err = ebpf.PossibleCPU(); err != nil {
		return fail(err)
	}
	if o.objs, err = load(arch); err != nil {
		return fail(err)
	}
	o.outer = map[string]*ebpf.Map{
		"counts": o.objs.Counts, "errnos": o.objs.Errnos, "calls": o.objs.Calls, "slots": o.objs.Slots,
		"exes_left": o.objs.ExesLeft, "file_counts": o.objs.FileCounts, "paths": o.objs.Paths,
		"path_changed": o.objs.PathChanged, "ports": o.objs.Ports, "unix_counts": o.objs.UnixCounts,
		"own_unix": o.objs.OwnUnix, "signals_outside": o.objs.SignalsOutside,
	}
	if o.core, err = attach(coreAttachments(&o.objs.Objects)); err != nil {
		return fail(err)
	}
	return o, nil
}

// close detaches and frees everything; the lock goes last.
func (o *owner) close() {
	closeLinks(o.files)
	closeLinks(o.core)
	if o.objs != nil {
		o.objs.Close()
	}
	o.ln.Close()
	if o.lock != nil {
		o.lock.Close()
	}
}

// serve accepts recorders until the last one has left.
func (o *owner) serve() {
	idle := time.AfterFunc(ownerIdle, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if !o.joined {
			o.shut()
		}
	})
	defer idle.Stop()
	for {
		conn, err := o.ln.AcceptUnix()
		if err != nil {
			break // shut: the last recording has left
		}
		if !sameUser(conn) {
			conn.Close()
			continue
		}
		o.mu.Lock()
		if o.closing {
			o.mu.Unlock()
			conn.Close()
			continue
		}
		o.clients++
		o.joined = true
		o.handlers.Add(1)
		o.mu.Unlock()
		go o.handle(conn)
	}
	o.handlers.Wait()
	o.close()
}

// shut stops taking recorders: a recorder that connects from now on
// starts a new owner (which waits for this one's lock). Called with mu.
func (o *owner) shut() {
	if !o.closing {
		o.closing = true
		o.ln.Close()
	}
}

// sameUser reports whether the peer runs as the owner's user (root):
// another user may neither register a recording nor read the maps.
func sameUser(conn *net.UnixConn) bool {
	cred, err := peerCred(conn)
	return err == nil && cred.Uid == uint32(os.Geteuid())
}

// handle serves one recorder: the shared maps and programs, then its
// registration. Its connection closing (it ended, or died) ends its
// registration.
func (o *owner) handle(conn *net.UnixConn) {
	var reg *registered
	defer func() {
		o.mu.Lock()
		if reg != nil {
			o.unregister(reg)
			o.used[reg.id] = false
		}
		o.clients--
		if o.clients == 0 {
			o.shut()
		}
		o.mu.Unlock()
		conn.Close()
		o.handlers.Done()
	}()
	hello := message{Op: opHello, Version: bpfprog.Version(), Shapes: o.objs.shapes}
	fds := []int{o.objs.Stats.FD(), o.objs.FileStats.FD()}
	hello.Names = []string{"stats", "file_stats"}
	for _, a := range append(coreAttachments(&o.objs.Objects), fileAttachments(&o.objs.Objects)...) {
		hello.Names = append(hello.Names, a.name)
		fds = append(fds, a.prog.FD())
	}
	if err := send(conn, hello, fds); err != nil {
		return
	}
	for {
		m, fds, err := recv(conn)
		if err != nil {
			return
		}
		var reply message
		switch {
		case m.Op == opRegister && reg == nil && m.Register != nil:
			o.mu.Lock()
			reg, err = o.register(*m.Register, m.Names, fds)
			o.mu.Unlock()
			reply = message{Op: opRegistered}
			if err != nil {
				reply.Error = err.Error()
			} else {
				reply.ID = reg.id
			}
		case m.Op == opUnregister && reg != nil:
			o.mu.Lock()
			o.unregister(reg)
			// The last recording out: no new one joins this owner, and
			// its recorder waits for it to exit (everything detached).
			reply = message{Op: opUnregistered, Last: o.clients == 1}
			if reply.Last {
				o.shut()
			}
			o.mu.Unlock()
		default:
			reply = message{Op: opError, Error: fmt.Sprintf("unexpected %q", m.Op)}
		}
		for _, fd := range fds {
			unix.Close(fd) // the arrays of maps hold what they need
		}
		if err := send(conn, reply, nil); err != nil {
			return
		}
	}
}

// registered is one recording's registration.
type registered struct {
	id     uint32
	cgroup uint64
	files  bool
	active bool
}

// register gives a recording an id, puts its maps at that id and then
// its cgroup in targets: from there on the programs count its tasks.
// Called with mu.
func (o *owner) register(r registration, names []string, fds []int) (*registered, error) {
	if len(names) != len(fds) || len(names) != len(perRecordingMaps) {
		return nil, fmt.Errorf("register: %d maps, want %d", len(fds), len(perRecordingMaps))
	}
	var id uint32
	if err := o.objs.Targets.Lookup(r.Cgroup, &id); err == nil {
		return nil, fmt.Errorf("cgroup %d is being recorded already", r.Cgroup)
	}
	id = bpfprog.MaxRecordings
	for i, used := range o.used {
		if !used {
			id = uint32(i)
			break
		}
	}
	if id == bpfprog.MaxRecordings {
		return nil, fmt.Errorf("%d recordings are running: no more can share the programs", bpfprog.MaxRecordings)
	}
	zeros := make([]uint64, o.cpus)
	for _, s := range []struct {
		m *ebpf.Map
		n uint32
	}{{o.objs.Stats, bpfprog.StatCount}, {o.objs.FileStats, bpfprog.FilesStatCount}} {
		for i := range s.n {
			if err := s.m.Put(id*s.n+i, zeros); err != nil {
				return nil, fmt.Errorf("clear stats: %w", err)
			}
		}
	}
	if r.Phases != nil {
		// Before rec_state says phases: the programs read the rule then.
		if err := o.objs.PhaseRules.Put(id, r.Phases); err != nil {
			return nil, fmt.Errorf("register transition: %w", err)
		}
	}
	o.seq++
	st := bpfprog.RecState{Seq: o.seq, Cgid: r.Cgroup, RootIno: r.RootIno, Files: b2u(r.Files), RequireExec: b2u(r.RequireExec),
		MaxDepth: min(r.MaxDepth, bpfprog.FilesMaxDepth), Mntns: r.Mntns, RootMnt: r.RootMnt, Phases: b2u(r.Phases != nil)}
	if err := o.objs.Recs.Put(id, &st); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	reg := &registered{id: id, cgroup: r.Cgroup, files: r.Files}
	o.used[id] = true
	if err := o.putMaps(id, names, fds); err != nil {
		o.clearMaps(id)
		o.used[id] = false
		return nil, err
	}
	if r.Files {
		if o.nfileRecs == 0 {
			var err error
			if o.files, err = attach(fileAttachments(&o.objs.Objects)); err != nil {
				o.clearMaps(id)
				o.used[id] = false
				return nil, err
			}
		}
		o.nfileRecs++
		atomic.StoreUint32(o.objs.nfiles, o.nfileRecs)
	}
	if err := o.objs.Targets.Put(r.Cgroup, id); err != nil {
		reg.active = true
		o.unregister(reg)
		o.used[id] = false
		return nil, fmt.Errorf("register cgroup: %w", err)
	}
	reg.active = true
	atomic.AddUint64(o.objs.gen, 1)
	return reg, nil
}

// unregister ends a registration: its cgroup first (the programs stop
// choosing it), then its maps (a run that chose it just before finds
// none, and drops the call: it came after the stop). Called with mu.
func (o *owner) unregister(reg *registered) {
	if !reg.active {
		return
	}
	reg.active = false
	o.objs.Targets.Delete(reg.cgroup)
	atomic.AddUint64(o.objs.gen, 1)
	o.clearMaps(reg.id)
	if reg.files {
		o.nfileRecs--
		atomic.StoreUint32(o.objs.nfiles, o.nfileRecs)
		if o.nfileRecs == 0 {
			closeLinks(o.files)
			o.files = nil
		}
	}
}

// putMaps puts a recording's maps (fds, by name) at id in the arrays.
// The kernel makes each update of an array of maps wait for an RCU
// grace period once the map is in place (so that no program still uses
// what was there: nothing, here), ~15 ms on a busy host and most of a
// recording's start. So the updates run at once and putMaps returns as
// soon as look-ups show every map in place, leaving their waits to end
// on their own.
func (o *owner) putMaps(id uint32, names []string, fds []int) error {
	type put struct {
		i   int
		err error
	}
	outer := make([]*ebpf.Map, len(names))
	want := make([]uint32, len(names)) // the inner maps' ids
	for i, name := range names {
		m, ok := o.outer[name]
		if !ok {
			return fmt.Errorf("register: no map %s", name)
		}
		outer[i] = m
		dup, err := unix.FcntlInt(uintptr(fds[i]), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("register map %s: %w", name, err)
		}
		inner, err := ebpf.NewMapFromFD(dup)
		if err != nil {
			unix.Close(dup)
			return fmt.Errorf("register map %s: %w", name, err)
		}
		info, err := inner.Info()
		inner.Close()
		if err != nil {
			return fmt.Errorf("register map %s: %w", name, err)
		}
		mid, _ := info.ID()
		want[i] = uint32(mid)
	}
	done := make(chan put, len(names))
	for i := range outer {
		go func() { done <- put{i, outer[i].Put(id, uint32(fds[i]))} }()
	}
	placed := make([]bool, len(names))
	var errs []error
	for left := len(names); left > 0; {
		select {
		case p := <-done:
			if p.err != nil {
				errs = append(errs, fmt.Errorf("register map %s: %w", names[p.i], p.err))
			}
			if !placed[p.i] {
				placed[p.i] = true
				left--
			}
		default:
			for i := range outer {
				var got uint32
				if !placed[i] && outer[i].Lookup(id, &got) == nil && got == want[i] {
					placed[i] = true
					left--
				}
			}
			runtime.Gosched()
		}
	}
	return errors.Join(errs...)
}

// clearMaps removes the maps of recording id from the arrays.
func (o *owner) clearMaps(id uint32) {
	var outer []*ebpf.Map
	for _, m := range o.outer {
		outer = append(outer, m)
	}
	parallel(len(outer), func(i int) { outer[i].Delete(id) })
}

// parallel runs f(0..n-1) at once. The kernel waits for an RCU grace
// period after each update of an array of maps (so that no program
// still uses what was there); waits made at once end together, one
// grace period for all instead of one each.
func parallel(n int, f func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
