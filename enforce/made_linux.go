package enforce

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// A made file (profiles.MadeFile) is one name in a directory no Landlock
// rule may write as a whole ($HOME, /tmp): making a file there is a right
// on the directory, which would reach ~/.bashrc. So the supervisor makes
// it itself, as a deputy that does exactly this and no more:
//
//   - it reads the call's path from the target's memory once, into its
//     own buffer, and acts on that copy: never "check, then let the
//     kernel read it again", which a thread of the target could change
//     in between;
//   - it acts in a directory it opened itself from the instantiated
//     profile, on one name (no slash, no symlink followed: O_NOFOLLOW;
//     never a login or secret file's, policy.LoginFile),
//     only if the target named that very directory (an absolute path
//     whose directory is the made one, with the target's / and mount
//     namespace ours; or a name relative to a directory descriptor or
//     working directory that is the same inode);
//   - it opens only regular files with one link, with the access mode
//     and the harmless flags the target gave (never O_PATH, O_DIRECTORY,
//     O_TMPFILE), a mode without setuid, setgid or sticky bits, masked
//     by the target's umask; a mkstemp name only with O_EXCL; it renames
//     only a made name to another in the same directory, and removes a
//     mkstemp name only if it made that file (device, inode and birth
//     time) in this run;
//   - it acts for a target of its own user only (file system uid and
//     gid), in its own user namespace, with every capability over files
//     it has itself in effect (fileCaps): it never lends the target another user's rights,
//     nor the capabilities the target dropped (a root target that gave
//     up CAP_DAC_OVERRIDE, or whose capabilities are a child user
//     namespace's, which count for nothing on the host's files).
//
// Anything else it lets continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the
// kernel then runs the call as the target made it, under the target's
// Landlock domain, which refuses what its rules do not grant. Continuing
// is safe because the supervisor grants nothing by continuing; what it
// read decided only whether it acted itself, and an action it did not
// take cannot be diverted to another file.

// madeDir is a directory holding made files, opened by the supervisor.
type madeDir struct {
	path     string
	fd       int
	dev, ino uint64
	names    []string // names and mkstemp patterns
}

// maker is the supervisor's made-file state.
type maker struct {
	dirs []*madeDir
	// threads: open the comm files of the caller's threads for it
	// (threadname_linux.go).
	threads bool
	// sandboxed: a process of the target added a Landlock domain of its
	// own; nothing is made from then on.
	sandboxed bool
	uid, gid  int
	capEff    uint64    // the supervisor's effective fileCaps
	root      [2]uint64 // the supervisor's /, mount and user namespace inodes
	mntns     [2]uint64
	pidns     [2]uint64
	userns    [2]uint64
	// created are the files made with O_EXCL for a mkstemp name: the
	// ones it may remove.
	created map[fileKey]bool
	buf     [pathMax]byte
	status  [4096]byte
}

// pathMax bounds a path read from the target (PATH_MAX, with its NUL).
const pathMax = 4096

// newMaker opens the directories of files (instantiated). A directory
// that is not there gets nothing made.
func newMaker(files []profiles.MadeFile, threads bool) (*maker, error) {
	m := &maker{uid: os.Geteuid(), gid: os.Getegid(), created: map[fileKey]bool{}, threads: threads}
	var ok bool
	if m.root, ok = statIno("/proc/self/root"); !ok {
		return nil, errors.New("stat /proc/self/root")
	}
	if m.mntns, ok = statIno("/proc/self/ns/mnt"); !ok {
		return nil, errors.New("stat /proc/self/ns/mnt")
	}
	if m.pidns, ok = statIno("/proc/self/ns/pid"); !ok {
		return nil, errors.New("stat /proc/self/ns/pid")
	}
	if m.userns, ok = statIno("/proc/self/ns/user"); !ok {
		return nil, errors.New("stat /proc/self/ns/user")
	}
	// The thread's own: capabilities are a thread's.
	self := target{pid: unix.Gettid()}
	if !m.readCaller(&self) {
		return nil, errors.New("read /proc/self/status")
	}
	m.capEff = self.capEff & fileCaps
	byPath := map[string]*madeDir{}
	for _, f := range files {
		dir, name := f.Split()
		d := byPath[dir]
		if d == nil {
			if !path.IsAbs(dir) {
				m.close()
				return nil, fmt.Errorf("made file %s: not instantiated", f.Path)
			}
			// No link followed, as for a rule's path: a directory the
			// target replaced with a link to ~/.ssh in an earlier run
			// must not have files made in ~/.ssh.
			fd, err := openRulePath(dir)
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			if err != nil {
				m.close()
				return nil, fmt.Errorf("open made files' directory %s: %w", dir, err)
			}
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				unix.Close(fd)
				m.close()
				return nil, fmt.Errorf("stat %s: %w", dir, err)
			}
			if st.Mode&unix.S_IFMT != unix.S_IFDIR {
				unix.Close(fd)
				m.close()
				return nil, fmt.Errorf("open made files' directory %s: %w", dir, unix.ENOTDIR)
			}
			d = &madeDir{path: dir, fd: fd, dev: st.Dev, ino: st.Ino}
			byPath[dir] = d
			m.dirs = append(m.dirs, d)
		}
		d.names = append(d.names, name)
	}
	return m, nil
}

func (m *maker) close() {
	for _, d := range m.dirs {
		unix.Close(d.fd)
	}
}

func statIno(p string) ([2]uint64, bool) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return [2]uint64{}, false
	}
	return [2]uint64{st.Dev, st.Ino}, true
}

// fileKey is a file the supervisor made: device, inode and birth time.
// The inode alone names it only while it lives: once it is gone (a tmp
// cleaner, or renamed and removed by its exact name), ext4 gives its
// number to the next file made, another's.
type fileKey struct {
	dev, ino uint64
	birth    unix.StatxTimestamp
}

// statFile stats name in dirfd (dirfd itself if name is empty), no link
// followed.
func statFile(dirfd int, name string) (unix.Statx_t, fileKey, error) {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var st unix.Statx_t
	if err := unix.Statx(dirfd, name, flags, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &st); err != nil {
		return st, fileKey{}, err
	}
	k := fileKey{dev: unix.Mkdev(st.Dev_major, st.Dev_minor), ino: st.Ino}
	if st.Mask&unix.STATX_BTIME != 0 {
		k.birth = st.Btime
	}
	return st, k, nil
}

// fileCaps are the capabilities that bear on what the supervisor does
// with a file (open, create, truncate, rename or remove it in a sticky
// directory): a caller without one it has could not do it itself.
const fileCaps = 1<<unix.CAP_CHOWN | 1<<unix.CAP_DAC_OVERRIDE | 1<<unix.CAP_DAC_READ_SEARCH | 1<<unix.CAP_FOWNER | 1<<unix.CAP_FSETID | 1<<unix.CAP_MAC_OVERRIDE

// madeCall is a notified call, decoded.
type madeCall struct {
	op       string // open, rename, unlink
	dirfd    [2]int32
	path     [2]uint64 // addresses in the target
	flags    uint64
	mode     uint64
	howAddr  uint64 // openat2
	howSize  uint64
	rflags   uint64 // renameat2, unlinkat
	openat2  bool
	excluded bool // a form never made (continue)
}

// decodeMade reads the registers of a notified call of name.
func decodeMade(name string, a [6]uint64) madeCall {
	cwd := int32(unix.AT_FDCWD)
	switch name {
	case "open":
		return madeCall{op: "open", dirfd: [2]int32{cwd}, path: [2]uint64{a[0]}, flags: uint64(uint32(a[1])), mode: a[2]}
	case "openat":
		return madeCall{op: "open", dirfd: [2]int32{int32(a[0])}, path: [2]uint64{a[1]}, flags: uint64(uint32(a[2])), mode: a[3]}
	case "creat":
		return madeCall{op: "open", dirfd: [2]int32{cwd}, path: [2]uint64{a[0]}, flags: unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, mode: a[1]}
	case "openat2":
		return madeCall{op: "open", dirfd: [2]int32{int32(a[0])}, path: [2]uint64{a[1]}, howAddr: a[2], howSize: a[3], openat2: true}
	case "rename":
		return madeCall{op: "rename", dirfd: [2]int32{cwd, cwd}, path: [2]uint64{a[0], a[1]}}
	case "renameat":
		return madeCall{op: "rename", dirfd: [2]int32{int32(a[0]), int32(a[2])}, path: [2]uint64{a[1], a[3]}}
	case "renameat2":
		return madeCall{op: "rename", dirfd: [2]int32{int32(a[0]), int32(a[2])}, path: [2]uint64{a[1], a[3]}, rflags: uint64(uint32(a[4]))}
	case "unlink":
		return madeCall{op: "unlink", dirfd: [2]int32{cwd}, path: [2]uint64{a[0]}}
	case "unlinkat":
		return madeCall{op: "unlink", dirfd: [2]int32{int32(a[0])}, path: [2]uint64{a[1]}, rflags: uint64(uint32(a[2]))}
	}
	return madeCall{excluded: true}
}

// madeOpenFlags are the open flags the supervisor passes on: the access
// mode and those that change nothing but how this one file is opened.
const madeOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_TRUNC | unix.O_APPEND | unix.O_CLOEXEC | unix.O_NONBLOCK

// madeNeverFlags make an open something else than of a named regular
// file: the supervisor lets such a call continue.
const madeNeverFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_TMPFILE

// target is what the supervisor reads of a caller, once.
type target struct {
	pid      int
	dirs     [2]*madeDir
	names    [2]string
	uid, gid int
	umask    uint32
	capEff   uint64
	tgid     int // its process (thread group)
}

// makeFile answers notification n (a call Profile.Making sends) for tid
// n.PID: it makes the file and answers, or lets the call continue.
// false: nothing to send (the answer went with the descriptor, or the
// caller is gone).
func (s *supervisor) makeFile(listener int, n *seccompNotif) (seccompNotifResp, bool) {
	cont := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	m := s.maker
	if a, ok := linuxabi.ArchByAudit(n.Arch); ok && a.SyscallName(int(n.Nr)) == "landlock_restrict_self" {
		// A process of the target restricts itself further (a
		// browser's renderer, a privilege-separated child). The
		// supervisor acts outside every Landlock domain and cannot read
		// one from /proc: from now on it makes nothing for any process
		// of the target, and the kernel decides every call under the
		// domains each process has.
		m.sandboxed = true
		return cont, true
	}
	if n.Arch != s.arch.Audit {
		return cont, true // a compat call: its paths are not read
	}
	c := decodeMade(s.arch.SyscallName(int(n.Nr)), n.Args)
	if c.excluded || m.sandboxed {
		return cont, true
	}
	t := target{pid: int(n.PID)}
	if c.openat2 {
		// struct open_how: flags, mode, resolve (u64 each). A resolve
		// flag asks for a lookup the supervisor does not make: continue.
		var how [24]byte
		if c.howSize != uint64(len(how)) || readTarget(t.pid, c.howAddr, how[:]) != nil {
			return cont, true
		}
		flags, mode, resolve := binary.NativeEndian.Uint64(how[:8]), binary.NativeEndian.Uint64(how[8:16]), binary.NativeEndian.Uint64(how[16:])
		if resolve != 0 || flags>>32 != 0 {
			return cont, true
		}
		c.flags, c.mode = flags, mode
	}
	if c.op == "open" && c.flags&unix.O_CREAT == 0 {
		if m.threads && c.flags&unix.O_ACCMODE != unix.O_RDONLY {
			return s.nameThread(listener, n, c)
		}
		return cont, true // openat2 without O_CREAT: nothing is made
	}
	nPaths := 1
	if c.op == "rename" {
		nPaths = 2
	}
	for i := range nPaths {
		p, err := readString(t.pid, c.path[i], m.buf[:])
		if err != nil {
			return cont, true
		}
		if t.dirs[i], t.names[i] = m.locate(t.pid, c.dirfd[i], p); t.dirs[i] == nil {
			// Not a made name: the kernel decides, under Landlock.
			return cont, true
		}
	}
	// Read last: most calls sent here name no made file, and need none
	// of it.
	if !m.readCaller(&t) || t.uid != m.uid || t.gid != m.gid || t.capEff&m.capEff != m.capEff {
		return cont, true
	}
	if ns, ok := statIno("/proc/" + strconv.Itoa(t.pid) + "/ns/user"); !ok || ns != m.userns {
		return cont, true
	}
	// What was read of the caller (memory, /proc) was its own only if it
	// is still waiting for this answer (seccomp_unotify(2)).
	if !notifValid(listener, n.ID) {
		return cont, false
	}
	switch c.op {
	case "open":
		return m.open(listener, n.ID, c, t)
	case "rename":
		return m.rename(n.ID, c, t)
	default:
		return m.unlink(n.ID, c, t)
	}
}

// readCaller reads the caller's file system uid and gid, umask and
// effective capabilities from /proc/TID/status; false if it cannot.
func (m *maker) readCaller(t *target) bool {
	fd, err := unix.Open("/proc/"+strconv.Itoa(t.pid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	nr, err := unix.Read(fd, m.status[:])
	unix.Close(fd)
	if err != nil {
		return false
	}
	t.uid, t.gid = -1, -1
	umask, caps := false, false
	for line := range strings.SplitSeq(string(m.status[:nr]), "\n") {
		k, v, _ := strings.Cut(line, ":\t")
		f := strings.Fields(v)
		switch {
		case k == "Umask" && len(f) == 1:
			u, err := strconv.ParseUint(f[0], 8, 32)
			t.umask, umask = uint32(u), err == nil
		case k == "Uid" && len(f) == 4:
			t.uid, _ = strconv.Atoi(f[3]) // real, effective, saved, file system
		case k == "Gid" && len(f) == 4:
			t.gid, _ = strconv.Atoi(f[3])
		case k == "CapEff" && len(f) == 1:
			c, err := strconv.ParseUint(f[0], 16, 64)
			t.capEff, caps = c, err == nil
		case k == "Tgid" && len(f) == 1:
			t.tgid, _ = strconv.Atoi(f[0])
		}
	}
	return umask && caps && t.uid >= 0 && t.gid >= 0
}

// locate returns the made directory and name the caller's path p
// (relative to dirfd) names, or nil. The directory is compared as an
// object, not as a string: an absolute path's directory must be the made
// directory's path, seen from the supervisor's own / and mount
// namespace; a relative path is one name in a directory (dirfd, or the
// working directory) that is the made directory's inode.
func (m *maker) locate(pid int, dirfd int32, p string) (*madeDir, string) {
	var dir *madeDir
	name := p
	proc := "/proc/" + strconv.Itoa(pid)
	if path.IsAbs(p) {
		if path.Clean(p) != p {
			return nil, ""
		}
		d := path.Dir(p)
		name = path.Base(p)
		for _, md := range m.dirs {
			if md.path == d {
				dir = md
			}
		}
		if dir == nil {
			return nil, ""
		}
		if r, ok := statIno(proc + "/root"); !ok || r != m.root {
			return nil, ""
		}
		if ns, ok := statIno(proc + "/ns/mnt"); !ok || ns != m.mntns {
			return nil, ""
		}
	} else {
		if strings.Contains(p, "/") {
			return nil, ""
		}
		base := proc + "/cwd"
		if dirfd != unix.AT_FDCWD {
			if dirfd < 0 {
				return nil, ""
			}
			base = proc + "/fd/" + strconv.Itoa(int(dirfd))
		}
		// stat follows the magic link to the object the caller holds.
		ino, ok := statIno(base)
		if !ok {
			return nil, ""
		}
		for _, md := range m.dirs {
			if [2]uint64{md.dev, md.ino} == ino {
				dir = md
			}
		}
	}
	// A mkstemp pattern stands for login files' names too ($HOME/.XXXXXX
	// for ~/.zshenv and ~/.pgpass): none is made, whatever matches it.
	if dir == nil || name == "." || name == ".." || name == "" || policy.LoginFile(path.Join(dir.path, name)) {
		return nil, ""
	}
	for _, pat := range dir.names {
		if profiles.MatchMade(pat, name) {
			return dir, name
		}
	}
	return nil, ""
}

// mkstemp reports whether name is one of d's only through a mkstemp
// pattern.
func (d *madeDir) mkstemp(name string) bool {
	for _, pat := range d.names {
		if pat == name {
			return false
		}
	}
	return true
}

// errno answers a call with the result of the supervisor's own action.
func errnoResp(id uint64, err error) (seccompNotifResp, bool) {
	resp := seccompNotifResp{ID: id}
	if err != nil {
		var e unix.Errno
		if !errors.As(err, &e) {
			e = unix.EPERM
		}
		resp.Error = -int32(e)
	}
	return resp, true
}

// seccompNotifAddfd is struct seccomp_notif_addfd.
type seccompNotifAddfd struct {
	ID         uint64
	Flags      uint32
	SrcFD      uint32
	NewFD      uint32
	NewFDFlags uint32
}

// open makes or opens the made file and hands the descriptor to the
// caller as the call's result.
func (m *maker) open(listener int, id uint64, c madeCall, t target) (seccompNotifResp, bool) {
	cont := seccompNotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	d, name := t.dirs[0], t.names[0]
	if c.flags&madeNeverFlags != 0 || c.flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return cont, true
	}
	tmp := d.mkstemp(name)
	if tmp && c.flags&unix.O_EXCL == 0 {
		return cont, true // a mkstemp name is only ever made new
	}
	flags := int(c.flags & madeOpenFlags)
	mode := uint32(c.mode) & 0o777 &^ t.umask
	// O_NONBLOCK and O_NOCTTY: a FIFO or a terminal planted at the name
	// must not block or adopt the supervisor; it is refused below. The
	// truncation waits until the file is known to be one to truncate.
	// One name beneath the supervisor's own descriptor, no link of any
	// kind followed.
	how := unix.OpenHow{Flags: uint64((flags &^ unix.O_TRUNC) | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC), Mode: uint64(mode),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(d.fd, name, &how)
	if err != nil {
		return errnoResp(id, err)
	}
	defer unix.Close(fd)
	st, k, err := statFile(fd, "")
	if err != nil {
		return errnoResp(id, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink > 1 {
		// A name of another file (a hard link planted beside the made
		// name) would give the target that file: refused.
		return errnoResp(id, unix.EPERM)
	}
	if c.flags&unix.O_NONBLOCK == 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^(unix.O_ACCMODE|unix.O_CREAT|unix.O_EXCL|unix.O_TRUNC|unix.O_CLOEXEC)); err != nil {
			return errnoResp(id, err)
		}
	}
	if c.flags&unix.O_TRUNC != 0 && c.flags&unix.O_ACCMODE != unix.O_RDONLY {
		if err := unix.Ftruncate(fd, 0); err != nil {
			return errnoResp(id, err)
		}
	}
	if tmp && len(m.created) < MaxViolations {
		m.created[k] = true
	}
	return handOver(listener, id, fd, c.flags&unix.O_CLOEXEC != 0)
}

// handOver installs fd in the caller of notification id as the call's
// result.
func handOver(listener int, id uint64, fd int, cloexec bool) (seccompNotifResp, bool) {
	add := seccompNotifAddfd{ID: id, Flags: unix.SECCOMP_ADDFD_FLAG_SEND, SrcFD: uint32(fd)}
	if cloexec {
		add.NewFDFlags = unix.O_CLOEXEC
	}
	// The descriptor is installed and the call answered with its number
	// in one step (5.14): the caller cannot see one without the other.
	if err := ioctl(listener, unix.SECCOMP_IOCTL_NOTIF_ADDFD, unsafe.Pointer(&add)); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return seccompNotifResp{}, false // the caller is gone
		}
		return errnoResp(id, err) // EMFILE: the caller's table is full
	}
	return seccompNotifResp{}, false
}

// rename renames a made name to another in the same directory.
func (m *maker) rename(id uint64, c madeCall, t target) (seccompNotifResp, bool) {
	cont := seccompNotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	d := t.dirs[0]
	if t.dirs[1] != d || c.rflags&^unix.RENAME_NOREPLACE != 0 || d.mkstemp(t.names[1]) {
		// Across directories, exchanges and whiteouts, or over a name
		// only a mkstemp pattern covers (another's scratch file):
		// Landlock decides.
		return cont, true
	}
	st, k, err := statFile(d.fd, t.names[0])
	if err != nil {
		return errnoResp(id, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink > 1 || d.mkstemp(t.names[0]) && !m.created[k] {
		return errnoResp(id, unix.EPERM)
	}
	return errnoResp(id, unix.Renameat2(d.fd, t.names[0], d.fd, t.names[1], uint(c.rflags)))
}

// unlink removes a made name: an exact one, or a mkstemp one the
// supervisor made.
func (m *maker) unlink(id uint64, c madeCall, t target) (seccompNotifResp, bool) {
	cont := seccompNotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	d, name := t.dirs[0], t.names[0]
	if c.rflags != 0 {
		return cont, true // AT_REMOVEDIR: no made file is a directory
	}
	if !d.mkstemp(name) {
		return errnoResp(id, unix.Unlinkat(d.fd, name, 0))
	}
	_, k, err := statFile(d.fd, name)
	if err != nil {
		return errnoResp(id, err)
	}
	if !m.created[k] {
		return cont, true // not its own: Landlock refuses it
	}
	err = unix.Unlinkat(d.fd, name, 0)
	if err == nil {
		delete(m.created, k)
	}
	return errnoResp(id, err)
}

// readString reads the NUL-terminated string at addr in process pid
// into buf, once: at most len(buf) bytes, a page at a time, so that a
// string ending before an unmapped page is read whole.
func readString(pid int, addr uint64, buf []byte) (string, error) {
	const page = 4096
	n := 0
	for n < len(buf) {
		chunk := min(page-int((addr+uint64(n))%page), len(buf)-n)
		if err := readTarget(pid, addr+uint64(n), buf[n:n+chunk]); err != nil {
			return "", err
		}
		if i := strings.IndexByte(string(buf[n:n+chunk]), 0); i >= 0 {
			return string(buf[:n+i]), nil
		}
		n += chunk
	}
	return "", unix.ENAMETOOLONG
}

// readTarget fills b from address addr of process pid.
func readTarget(pid int, addr uint64, b []byte) error {
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return err
	}
	if n != len(b) {
		return unix.EFAULT
	}
	return nil
}
