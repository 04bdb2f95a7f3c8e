package enforce

import (
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/profiles"
)

// nameThread answers an open for writing that Profile.Making sent for
// thread names (profiles/threadnames.go): if the path the caller gave is
// the comm file of a thread of its own process (/proc/self/task/TID/comm,
// or /proc/PID/task/TID/comm with PID its own), the supervisor opens that
// file itself and hands it over; anything else continues under Landlock,
// which grants nothing in /proc/PID/task. The path is read once; what the
// supervisor opens is built from two numbers it checked, never from the
// caller's string, so no other file can be reached through it: not
// another process's thread (the thread must be in the caller's own
// thread group, looked up in the supervisor's /proc), not
// /proc/self/task/TID/mem (the name is comm). A comm file renames only
// threads of the process that writes it (fs/proc/base.c comm_write).
func (s *supervisor) nameThread(listener int, n *seccompNotif, c madeCall) (seccompNotifResp, bool) {
	cont := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	m := s.maker
	if c.flags&(madeNeverFlags|unix.O_TRUNC) != 0 || c.flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return cont, true
	}
	caller := int(n.PID)
	p, err := readString(caller, c.path[0], m.buf[:])
	if err != nil {
		return cont, true
	}
	pid, tid, ok := profiles.ThreadComm(p)
	if !ok {
		return cont, true
	}
	t := target{pid: caller}
	if !m.readCaller(&t) || t.tgid <= 0 || pid != 0 && pid != t.tgid || t.uid != m.uid || t.gid != m.gid {
		return cont, true
	}
	// The numbers in the caller's path are its pid namespace's, and its
	// /proc its mount namespace's: act only where they are the
	// supervisor's.
	proc := "/proc/" + strconv.Itoa(caller)
	if ns, ok := statIno(proc + "/ns/pid"); !ok || ns != m.pidns {
		return cont, true
	}
	if ns, ok := statIno(proc + "/ns/mnt"); !ok || ns != m.mntns {
		return cont, true
	}
	if !notifValid(listener, n.ID) {
		return cont, false
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(t.tgid)+"/task/"+strconv.Itoa(tid)+"/comm", int(c.flags&unix.O_ACCMODE)|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return errnoResp(n.ID, err) // ENOENT: no such thread in its process
	}
	defer unix.Close(fd)
	return handOver(listener, n.ID, fd, c.flags&unix.O_CLOEXEC != 0)
}
