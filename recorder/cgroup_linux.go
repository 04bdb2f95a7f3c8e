package recorder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CgroupMount returns where the cgroup v2 hierarchy is mounted, read from
// /proc/self/mountinfo: /sys/fs/cgroup on unified hosts,
// /sys/fs/cgroup/unified on hybrid ones, anywhere else on others.
func CgroupMount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(s.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return unescapeMountinfo(fields[4]), nil
			}
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	return "", errors.New("find cgroup2 mount: no cgroup2 filesystem in /proc/self/mountinfo (mount -t cgroup2 none /sys/fs/cgroup/unified)")
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroup is one cgroup v2 directory.
type cgroup struct {
	path  string // absolute filesystem path
	id    uint64 // inode number: what bpf_get_current_cgroup_id returns
	level uint32 // depth below the cgroup2 root (root is 0)
	owned bool   // created by us: killed and removed at the end
}

func openCgroup(mount, path string) (*cgroup, error) {
	path = filepath.Clean(path)
	rel, err := filepath.Rel(mount, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("cgroup %s is not below the cgroup2 mount %s", path, mount)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("open cgroup %s: not a directory", path)
	}
	level := uint32(0)
	if rel != "." {
		level = uint32(len(strings.Split(rel, "/")))
	}
	return &cgroup{path: path, id: st.Ino, level: level}, nil
}

var cgroupSeq atomic.Uint64

// newCgroup makes a fresh child of the cgroup2 root for one recording.
// Two recordings never share one, so they never see each other's calls.
func newCgroup(mount string) (*cgroup, error) {
	for {
		path := filepath.Join(mount, fmt.Sprintf("sysrec-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
		cg, err := makeCgroup(mount, path)
		if !errors.Is(err, os.ErrExist) {
			return cg, err
		}
		// Left by a sysrec that was killed before it could remove it,
		// whose pid this process now has: its name is ours to reuse
		// once it is empty (rmdir refuses one that is not), or the next.
		if os.Remove(path) == nil {
			if cg, err := makeCgroup(mount, path); !errors.Is(err, os.ErrExist) {
				return cg, err
			}
		}
	}
}

// makeCgroup creates the cgroup at path, owned by the recording.
func makeCgroup(mount, path string) (*cgroup, error) {
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", permHint(err))
	}
	cg, err := openCgroup(mount, path)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	cg.owned = true
	return cg, nil
}

// pidCgroup returns the cgroup v2 path of pid.
func pidCgroup(mount string, pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("find cgroup of pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mount, rest), nil
		}
	}
	return "", fmt.Errorf("find cgroup of pid %d: no cgroup v2 entry in /proc/%d/cgroup", pid, pid)
}

// populated reports whether any process is left in the subtree. A
// cgroup that is gone has none: container runtimes remove a container's
// cgroup as soon as it has emptied, often before the next look; a read
// racing the removal fails with ENODEV (kernfs has deactivated the file),
// after it with ENOENT.
func (cg *cgroup) populated() (bool, error) {
	b, err := os.ReadFile(filepath.Join(cg.path, "cgroup.events"))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "populated "); ok {
			return v == "1", nil
		}
	}
	return false, fmt.Errorf("read %s/cgroup.events: no populated line", cg.path)
}

// waitEmpty waits until the subtree has no process or stop is closed.
// The kernel signals changes of cgroup.events and the removal of the
// cgroup to inotify watchers, so this sleeps until something changed
// rather than polling.
func (cg *cgroup) waitEmpty(stop <-chan struct{}) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("watch %s/cgroup.events: %w", cg.path, err)
	}
	events := os.NewFile(uintptr(fd), "inotify")
	defer events.Close()
	// Both watches: a populated change the kernel defers (it spaces
	// cgroup.events notifications 20 ms apart) is dropped, not sent, when
	// the cgroup is removed within those 20 ms; the removal itself is
	// seen on the directory.
	for _, w := range []struct {
		path string
		mask uint32
	}{
		{filepath.Dir(cg.path), unix.IN_DELETE | unix.IN_ONLYDIR},
		{filepath.Join(cg.path, "cgroup.events"), unix.IN_MODIFY},
	} {
		_, err = unix.InotifyAddWatch(fd, w.path, w.mask)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) {
			return nil // already removed, so empty
		}
		if err != nil {
			return fmt.Errorf("watch %s: %w", w.path, err)
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-stop:
			// Unblocks the read below.
			events.SetReadDeadline(time.Now())
		case <-done:
		}
	}()
	buf := make([]byte, 4096)
	for {
		// Read the state after the watch is in place, so a change
		// between the two is not missed.
		pop, err := cg.populated()
		if err != nil || !pop {
			return err
		}
		n, err := events.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil // stopped
		}
		if err != nil {
			return fmt.Errorf("watch %s/cgroup.events: %w", cg.path, err)
		}
		if removed(buf[:n], filepath.Base(cg.path)) {
			return nil
		}
	}
}

// removed reports whether an inotify read says the cgroup directory
// (name, in the watched parent) or a watched file is gone.
func removed(b []byte, name string) bool {
	for len(b) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&b[0]))
		if ev.Mask&unix.IN_IGNORED != 0 {
			return true
		}
		if ev.Mask&unix.IN_DELETE != 0 && ev.Len > 0 {
			n := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+int(ev.Len)]
			if string(bytes.TrimRight(n, "\x00")) == name {
				return true
			}
		}
		b = b[unix.SizeofInotifyEvent+int(ev.Len):]
	}
	return false
}

// kill kills every process in the subtree (cgroup.kill, Linux 5.14).
func (cg *cgroup) kill() error {
	return os.WriteFile(filepath.Join(cg.path, "cgroup.kill"), []byte("1"), 0)
}

// remove kills what is left in an owned cgroup and removes it.
func (cg *cgroup) remove() error {
	if !cg.owned {
		return nil
	}
	if pop, _ := cg.populated(); pop {
		cg.kill()
	}
	return rmdirTree(cg.path)
}

// rmdirTree removes a cgroup and the child cgroups the target made in it,
// deepest first (a cgroup with children cannot be removed).
func rmdirTree(path string) error {
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		if e.IsDir() {
			if err := rmdirTree(filepath.Join(path, e.Name())); err != nil {
				return err
			}
		}
	}
	var err error
	for range 200 { // EBUSY until the killed tasks are reaped
		if err = unix.Rmdir(path); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", path, err)
}
