package recorder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
)

// What a recorder and the owner say to each other, one message per
// packet, descriptors passed beside it (SCM_RIGHTS).
const (
	opHello        = "hello"        // owner: the shared maps and programs (Names: what each fd is), the shapes of a recording's maps
	opRegister     = "register"     // recorder: its cgroup and its maps (Names)
	opRegistered   = "registered"   // owner: the recording's ID, or Error
	opUnregister   = "unregister"   // recorder: stop counting
	opUnregistered = "unregistered" // owner: Last: it was the last recording, the owner exits
	opError        = "error"
)

type message struct {
	Op       string        `json:"op"`
	Version  string        `json:"version,omitempty"`
	Names    []string      `json:"names,omitempty"`
	Shapes   []mapShape    `json:"shapes,omitempty"`
	Register *registration `json:"register,omitempty"`
	ID       uint32        `json:"id,omitempty"`
	Last     bool          `json:"last,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// registration is what a recording asks the owner for: see
// bpfprog.RecState.
type registration struct {
	Cgroup      uint64 `json:"cgroup"`
	RequireExec bool   `json:"require_exec"`
	Files       bool   `json:"files"`
	MaxDepth    uint32 `json:"max_depth"`
	Mntns       uint32 `json:"mntns"`
	RootMnt     uint32 `json:"root_mnt"`
	RootIno     uint64 `json:"root_ino"`
	// Phases is the recording's transition rule, lowered; nil: phases
	// are not tracked.
	Phases *bpfprog.PhaseRule `json:"phases,omitempty"`
}

func send(conn *net.UnixConn, m message, fds []int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	_, _, err = conn.WriteMsgUnix(b, oob, nil)
	return err
}

// recv reads one message and the descriptors that came with it, which
// the caller owns.
func recv(conn *net.UnixConn) (message, []int, error) {
	var m message
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(64*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return m, nil, err
	}
	var fds []int
	if oobn > 0 {
		cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return m, nil, fmt.Errorf("read descriptors: %w", err)
		}
		for _, c := range cmsgs {
			f, err := unix.ParseUnixRights(&c)
			if err != nil {
				return m, nil, fmt.Errorf("read descriptors: %w", err)
			}
			fds = append(fds, f...)
		}
	}
	if n == 0 {
		closeFDs(fds)
		return m, nil, io.EOF
	}
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		closeFDs(fds)
		return m, nil, fmt.Errorf("read message: %w", err)
	}
	return m, fds, nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func peerCred(conn *net.UnixConn) (*unix.Ucred, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, cerr
}

// sessionOptions configure one recording's registration.
type sessionOptions struct {
	fromExec bool               // count only processes that exec'd after the start
	maxKeys  int                // size of the counts map
	files    bool               // also record files and ports
	fileKeys int                // size of the file maps (≤ 0: DefaultMaxFileKeys)
	depth    int                // components a path walk may take (≤ 0: fileMaxDepth)
	phases   *bpfprog.PhaseRule // the transition rule; nil: phases not tracked
}

// session is one recording registered with the owner: its own maps,
// its id, and what it needs of the shared object to read its losses.
type session struct {
	conn   *net.UnixConn
	pidfd  int // the owner's
	owner  int // its pid, for messages
	id     uint32
	files  bool
	maps   map[string]*ebpf.Map // this recording's (perRecordingMaps)
	stats  *ebpf.Map            // shared per-CPU stats, this recording's at id*StatCount
	fstats *ebpf.Map            // shared file stats, at id*FilesStatCount
	progs  []attachment         // the shared programs, for their statistics
	misses map[string]uint64    // recursion misses of each program at the start

	active bool // registered, not yet stopped
	last   bool // the owner said this was the last recording
}

// startSession makes the recording's maps, joins the owner (starting
// one if none runs) and registers cg: when it returns, every task in cg
// or below is counted.
func startSession(cg *cgroup, o sessionOptions) (*session, error) {
	s := &session{pidfd: -1, files: o.files}
	shapes, err := s.join()
	if err != nil {
		s.close()
		return nil, err
	}
	if s.maps, err = recordingMaps(shapes, o); err != nil {
		s.close()
		return nil, err
	}
	reg := registration{Cgroup: cg.id, RequireExec: o.fromExec, Files: o.files, Phases: o.phases}
	if o.files {
		if reg.MaxDepth = uint32(o.depth); o.depth <= 0 {
			reg.MaxDepth = fileMaxDepth
		}
		if reg.Mntns, reg.RootMnt, reg.RootIno, err = fileTree(); err != nil {
			s.close()
			return nil, err
		}
	}
	m := message{Op: opRegister, Register: &reg}
	var fds []int
	for _, pm := range perRecordingMaps {
		m.Names = append(m.Names, pm.name)
		fds = append(fds, s.maps[pm.name].FD())
	}
	// Baselines before the registration: the programs are shared, so
	// what they missed meanwhile is charged to every recording.
	if s.misses, err = s.missCounts(); err != nil {
		s.close()
		return nil, err
	}
	reply, err := s.ask(m, fds, opRegistered)
	if err == nil && reply.Error != "" {
		err = errors.New(reply.Error)
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("register recording: %w", err)
	}
	s.id, s.active = reply.ID, true
	return s, nil
}

// ask sends m and waits for the reply op.
func (s *session) ask(m message, fds []int, op string) (message, error) {
	if err := send(s.conn, m, fds); err != nil {
		return message{}, s.ownerGone(err)
	}
	reply, rfds, err := recv(s.conn)
	closeFDs(rfds)
	if err != nil {
		return reply, s.ownerGone(err)
	}
	if reply.Op != op {
		return reply, fmt.Errorf("recorder owner answered %q: %s", reply.Op, reply.Error)
	}
	return reply, nil
}

func (s *session) ownerGone(err error) error {
	return fmt.Errorf("recorder owner (pid %d) gone: %w", s.owner, err)
}

// join connects to the owner, starting one if none listens, and
// returns the shapes of the maps a recording makes. An owner that is
// ending drops the connection; then a new one is started.
func (s *session) join() ([]mapShape, error) {
	var last error
	for range 5 {
		conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: ownerSocket(), Net: "unixpacket"})
		if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT) {
			if err := startOwner(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("connect to recorder owner: %w", err)
		}
		shapes, err := s.hello(conn)
		if err != nil {
			conn.Close()
			last = err
			continue
		}
		return shapes, nil
	}
	return nil, fmt.Errorf("connect to recorder owner: %w", last)
}

// hello checks who answered and takes the shared maps and programs.
func (s *session) hello(conn *net.UnixConn) ([]mapShape, error) {
	cred, err := peerCred(conn)
	if err != nil {
		return nil, err
	}
	if cred.Uid != uint32(os.Geteuid()) {
		return nil, fmt.Errorf("%s is held by uid %d (pid %d), not by this user", ownerSocket(), cred.Uid, cred.Pid)
	}
	// Loading and verifying the object takes the owner a moment.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	m, fds, err := recv(conn)
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		return nil, err
	}
	if m.Op != opHello || m.Version != bpfprog.Version() || len(m.Names) != len(fds) {
		closeFDs(fds)
		return nil, fmt.Errorf("recorder owner of another version (%q %s)", m.Op, m.Version)
	}
	pidfd, err := unix.PidfdOpen(int(cred.Pid), 0)
	if err != nil {
		closeFDs(fds)
		return nil, fmt.Errorf("open recorder owner: %w", err)
	}
	s.conn, s.pidfd, s.owner = conn, pidfd, int(cred.Pid)
	for i, name := range m.Names {
		switch name {
		case "stats", "file_stats":
			mp, err := ebpf.NewMapFromFD(fds[i])
			if err != nil {
				closeFDs(fds[i:])
				return nil, fmt.Errorf("open shared map %s: %w", name, err)
			}
			if name == "stats" {
				s.stats = mp
			} else {
				s.fstats = mp
			}
		default:
			p, err := ebpf.NewProgramFromFD(fds[i])
			if err != nil {
				closeFDs(fds[i:])
				return nil, fmt.Errorf("open shared program %s: %w", name, err)
			}
			s.progs = append(s.progs, attachment{name: name, prog: p})
		}
	}
	if s.stats == nil || s.fstats == nil {
		return nil, errors.New("recorder owner sent no stats maps")
	}
	return m.Shapes, nil
}

// startOwner starts this binary as the owner, outside any cgroup a
// recording may kill (the root of the cgroup2 tree when it can be
// placed there) and in a session of its own (a terminal's Ctrl-C is
// for the recorder, not for it), and waits until it listens.
func startOwner() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start recorder owner: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start recorder owner: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), ownerEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if mount, err := CgroupMount(); err == nil {
		if fd, err := unix.Open(mount, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			defer unix.Close(fd)
			cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
		}
	}
	err = cmd.Start()
	if err != nil && cmd.SysProcAttr.UseCgroupFD {
		// A cgroup namespace's root may not take processes.
		cmd.SysProcAttr.UseCgroupFD = false
		err = cmd.Start()
	}
	w.Close()
	if err != nil {
		return fmt.Errorf("start recorder owner: %w", err)
	}
	// It starts the owner and exits: the owner outlives this recording,
	// maybe this process, and is nobody's child.
	cmd.Wait()
	said, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("start recorder owner: %w", err)
	}
	switch string(said) {
	case "ok", errOwnerExists.Error():
		return nil
	case "":
		return errors.New("start recorder owner: it exited")
	}
	return fmt.Errorf("start recorder owner: %s", said)
}

// recordingMaps makes the maps of one recording at the sizes it asked
// for, in the shapes the shared object's arrays of maps hold (the owner
// says which: reading them from the object would cost every recording's
// start the parsing of it). They are charged to this process's memory
// cgroup.
func recordingMaps(shapes []mapShape, o sessionOptions) (map[string]*ebpf.Map, error) {
	fileKeys := o.fileKeys
	if fileKeys <= 0 {
		fileKeys = DefaultMaxFileKeys
	}
	if len(shapes) != len(perRecordingMaps) {
		return nil, fmt.Errorf("make recording maps: %d shapes, want %d", len(shapes), len(perRecordingMaps))
	}
	maps := map[string]*ebpf.Map{}
	for i, pm := range perRecordingMaps {
		sh := shapes[i]
		ms := &ebpf.MapSpec{Name: pm.name, Type: ebpf.MapType(sh.Type), KeySize: sh.KeySize, ValueSize: sh.ValueSize, MaxEntries: sh.MaxEntries, Flags: sh.Flags}
		switch {
		case pm.files && !o.files:
			ms.MaxEntries = 1
		case pm.name == "counts":
			ms.MaxEntries = uint32(o.maxKeys)
		case pm.name == "errnos":
			ms.MaxEntries = uint32(errnoKeys(o.maxKeys))
		case pm.name == "file_counts", pm.name == "paths", pm.name == "path_changed":
			ms.MaxEntries = uint32(fileKeys)
		}
		m, err := ebpf.NewMap(ms)
		if err != nil {
			for _, m := range maps {
				m.Close()
			}
			return nil, fmt.Errorf("make map %s: %w", pm.name, permHint(err))
		}
		maps[pm.name] = m
	}
	return maps, nil
}

// fileTree names this process's file tree as the program compares a
// task's with: mount namespace, root mount id and root inode.
func fileTree() (mntns, rootMnt uint32, rootIno uint64, err error) {
	var ns unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &ns); err != nil {
		return 0, 0, 0, fmt.Errorf("find mount namespace: %w", err)
	}
	var root unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, "/", 0, unix.STATX_INO|unix.STATX_MNT_ID, &root); err != nil {
		return 0, 0, 0, fmt.Errorf("find root mount: %w", err)
	}
	return uint32(ns.Ino), uint32(root.Mnt_id), root.Ino, nil
}

// missCounts reads the recursion misses of every shared program.
func (s *session) missCounts() (map[string]uint64, error) {
	out := map[string]uint64{}
	for _, a := range s.progs {
		n, err := recursionMisses([]attachment{a})
		if err != nil {
			return nil, err
		}
		out[a.name] = n
	}
	return out, nil
}

// missesSince sums the recursion misses of the named programs since the
// registration.
func (s *session) missesSince(names ...string) (uint64, error) {
	now, err := s.missCounts()
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, name := range names {
		n += now[name] - s.misses[name]
	}
	return n, nil
}

// prog returns the shared program name.
func (s *session) prog(name string) *ebpf.Program {
	for _, a := range s.progs {
		if a.name == name {
			return a.prog
		}
	}
	return nil
}

// stop ends the registration: from its return the maps no longer
// change, and may be read.
func (s *session) stop() error {
	if !s.active {
		return nil
	}
	s.active = false
	reply, err := s.ask(message{Op: opUnregister}, nil, opUnregistered)
	if err != nil {
		return err
	}
	s.last = reply.Last
	return nil
}

// ownerExitWait bounds the wait of the last recording for the owner to
// detach and exit.
const ownerExitWait = 10 * time.Second

// close stops the registration if it is still on and frees what the
// session holds. The last recording out waits for the owner to exit: on
// return, no program of the object is attached any more.
func (s *session) close() error {
	var err error
	if s.active {
		err = s.stop()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	if s.last {
		fds := []unix.PollFd{{Fd: int32(s.pidfd), Events: unix.POLLIN}}
		for {
			_, perr := unix.Poll(fds, int(ownerExitWait/time.Millisecond))
			if !errors.Is(perr, unix.EINTR) {
				break
			}
		}
	}
	if s.pidfd >= 0 {
		unix.Close(s.pidfd)
	}
	for _, m := range s.maps {
		m.Close()
	}
	for _, a := range s.progs {
		a.prog.Close()
	}
	if s.stats != nil {
		s.stats.Close()
	}
	if s.fstats != nil {
		s.fstats.Close()
	}
	return err
}
