package enforce

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// symlinkError is a rule path that is, or passes through, a symbolic
// link (Link; empty when it changed again before it could be named).
type symlinkError struct {
	Path, Link string
}

func (e *symlinkError) Error() string {
	switch e.Link {
	case e.Path:
		return "path is a symlink (a rule names the object itself, not a link to it)"
	case "":
		return "path is or passes through a symlink"
	}
	return fmt.Sprintf("path passes through the symlink %s (name the path it resolves to)", e.Link)
}

// procSelf rewrites a rule path under /proc/self or /proc/thread-self to
// the process pid: the helper execs the target in the same process, so
// its /proc/<pid> is the target's. /proc/thread-self becomes the task
// directory of the thread group leader, /proc/<pid>/task/<pid>: the
// thread that execs takes over the leader's pid, whichever thread the
// helper ran on. The target's children have other pids and get no such
// rule.
func procSelf(path string, pid int) string {
	p := strconv.Itoa(pid)
	for prefix, to := range map[string]string{"/proc/self": "/proc/" + p, "/proc/thread-self": "/proc/" + p + "/task/" + p} {
		if rest, ok := strings.CutPrefix(path, prefix); ok && (rest == "" || rest[0] == '/') {
			return to + rest
		}
	}
	return path
}

// openRulePath opens a rule's path (absolute and clean) as an O_PATH
// descriptor without following any symbolic link on the way: a rule
// learned for out.txt must not grant its rights on whatever a link
// planted at out.txt since then points to. A link anywhere in the path
// is a *symlinkError; magic links (/proc/PID/fd/N) count as links.
func openRulePath(path string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &how)
	switch {
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		// No openat2 (before Linux 5.6, or a seccomp filter that
		// refuses it, as container runtimes' older defaults do).
		return openRulePathWalk(path)
	case errors.Is(err, unix.ELOOP):
		return -1, symlinkIn(path)
	}
	return fd, err
}

// openRulePathWalk opens path one component at a time with O_NOFOLLOW
// and refuses a component that is a link: what openat2's
// RESOLVE_NO_SYMLINKS does in one call.
func openRulePathWalk(path string) (int, error) {
	dir, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	walked := ""
	for _, name := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if name == "" {
			continue // the path is "/"
		}
		walked += "/" + name
		fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(dir)
		if err != nil {
			return -1, err
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return -1, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			unix.Close(fd)
			return -1, &symlinkError{path, walked}
		}
		dir = fd
	}
	return dir, nil
}

// symlinkIn names the first link in path, which openat2 refused with
// ELOOP.
func symlinkIn(path string) error {
	walked := ""
	for _, name := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		walked += "/" + name
		var st unix.Stat_t
		if err := unix.Lstat(walked, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return &symlinkError{path, walked}
		}
	}
	return &symlinkError{Path: path} // replaced again since openat2 saw it
}
