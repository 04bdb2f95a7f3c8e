package analyze

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A CacheMark is taken just before sysrec starts a program it does not
// trust (the target of record or check), and Distrust is called when
// that program has ended. The program runs as the user, often root, so
// it can write the cache directory like sysrec: the ownership checks
// cannot stop it from storing an entry, under the right content key,
// whose summary has every function call every other (issue 19).
//
// An authenticated entry would not help: whatever key sysrec could keep,
// a program running as the same user (root above all) can read too. What
// the program cannot forge is the kernel's own record of a change: the
// inode change time. Every write, rename, hard link, chmod or new
// directory entry sets it to the current time, and no call sets it to
// another (utimensat sets only atime and mtime). So an entry, or an entry
// directory, whose ctime is later than the mark may have been written by
// the program and is removed; a cache directory that is another one than
// at the mark, or was changed itself (an entry directory added, swapped
// or renamed in), loses every entry. Two ways around ctime remain, and
// the kernel witnesses both: setting the realtime clock back (a timerfd
// armed with TFD_TIMER_CANCEL_ON_SET is cancelled by any clock step, by
// whoever makes it), and mounting a filesystem whose timestamps the
// program chose (a crafted image, FUSE) over the cache
// (/proc/self/mountinfo reports any change of sysrec's mount table);
// after either, every entry goes. Losing entries costs only their
// recomputation, so an analysis that ran concurrently loses its entries
// too.
//
// Not covered: a program sysrec did not start (record --pid, --cgroup,
// --container) ran before the mark; processes still running after
// Distrust (those that left the recorded cgroup, or a service recorded
// for a while) can write later; a program that kills or ptraces sysrec
// before Distrust, or writes the raw disk or kernel memory, is beyond
// what any check in sysrec can catch.
type CacheMark struct {
	dir      string // the cache's real path; "" when there was none
	dev, ino uint64
	since    unix.Timespec // the filesystem's time at the mark
	clock    int           // timerfd cancelled by a clock step; -1 if none
	mounts   int           // /proc/self/mountinfo; -1 if none
	err      error         // why there is no mark: every entry goes
}

// markFile is where MarkCache reads the cache filesystem's clock. It
// has no entry's name, so no analysis reads it.
const markFile = ".mark"

// MarkCache marks the default cache directory (DefaultCacheDir, the one
// record analyses with). It returns once the filesystem's clock has
// moved past the mark, so that every change the program makes is dated
// after it.
func MarkCache() *CacheMark {
	m := &CacheMark{clock: -1, mounts: -1}
	m.err = m.mark()
	return m
}

func (m *CacheMark) mark() error {
	// The witnesses are armed first: a clock step or a mount after them
	// is seen even if it comes before the time is read.
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("create timerfd: %w", err)
	}
	m.clock = fd
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &now); err != nil {
		return fmt.Errorf("read clock: %w", err)
	}
	// Far enough ahead never to expire; it is there to be cancelled.
	far := unix.ItimerSpec{Value: unix.Timespec{Sec: now.Sec + 100*365*24*3600}}
	if err := unix.TimerfdSettime(fd, unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET, &far, nil); err != nil {
		return fmt.Errorf("arm timerfd: %w", err)
	}
	if m.mounts, err = unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return fmt.Errorf("open mountinfo: %w", err)
	}
	dir, err := DefaultCacheDir()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		// Whatever is there after the program is its own.
		return nil
	}
	c, err := openCache(dir)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(c.dir, &st); err != nil {
		return err
	}
	f, err := unix.Open(filepath.Join(c.dir, markFile), unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open cache mark: %w", err)
	}
	defer unix.Close(f)
	// The kernel dates changes with a clock that advances in ticks (and a
	// filesystem may keep coarser times): a change in the tick of the
	// mark would carry the mark's time, whether made before the program
	// or by it. Wait until a change is dated later; from then on every
	// change is.
	res := time.Millisecond
	var r unix.Timespec
	if unix.ClockGetres(unix.CLOCK_REALTIME_COARSE, &r) == nil && time.Duration(r.Nano()) > res {
		res = time.Duration(r.Nano())
	}
	deadline := time.Now().Add(10 * time.Second)
	for first := true; ; first = false {
		var ms unix.Stat_t
		if err := unix.Fchmod(f, 0o600); err != nil {
			return fmt.Errorf("touch cache mark: %w", err)
		}
		if err := unix.Fstat(f, &ms); err != nil {
			return fmt.Errorf("touch cache mark: %w", err)
		}
		if first {
			// Where the filesystem dates a change fine-grained once its
			// time was read (multigrain timestamps), the next one is
			// already later.
			m.since = ms.Ctim
			continue
		}
		if later(ms.Ctim, m.since) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the change times in %s did not advance in 10 s", c.dir)
		}
		time.Sleep(res)
	}
	m.dir, m.dev, m.ino = c.dir, st.Dev, st.Ino
	return nil
}

func later(a, b unix.Timespec) bool {
	return a.Sec > b.Sec || (a.Sec == b.Sec && a.Nsec > b.Nsec)
}

// Distrust removes the cache entries the program could have written
// since the mark (all of them if it cannot tell) and releases the mark.
// An error means some could not be removed: later analyses would trust
// them.
func (m *CacheMark) Distrust() error {
	defer m.close()
	all := m.err != nil || m.dir == "" || m.clockStepped() || mountsChanged(m.mounts)
	dir, err := DefaultCacheDir()
	if err != nil {
		return nil // no cache for later analyses either
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := openCache(dir)
	if err != nil {
		return nil // later analyses refuse it as well
	}
	var st unix.Stat_t
	if err := unix.Stat(c.dir, &st); err != nil {
		return err
	}
	if m.dir != "" && st.Dev != m.dev {
		return fmt.Errorf("%s is on another filesystem than before the program ran (a mount): remove what it holds", dir)
	}
	all = all || st.Ino != m.ino || later(st.Ctim, m.since)
	subs, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range subs {
		if len(d.Name()) != 2 || !isHex(d.Name()) {
			continue // not a directory load reads
		}
		sub := filepath.Join(c.dir, d.Name())
		var sst unix.Stat_t
		if err := unix.Lstat(sub, &sst); err != nil {
			if !errors.Is(err, unix.ENOENT) { // gone: another Distrust of this process removed it
				errs = append(errs, err)
			}
			continue
		}
		if sst.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue // load refuses it
		}
		if sst.Dev != st.Dev {
			errs = append(errs, fmt.Errorf("%s is a mount point: remove what it holds", sub))
			continue
		}
		whole := all || later(sst.Ctim, m.since)
		entries, err := os.ReadDir(sub)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".gob")
			if !ok || len(name) != 64 || !isHex(name) {
				continue // only names load opens are removed
			}
			p := filepath.Join(sub, e.Name())
			var est unix.Stat_t
			if err := unix.Lstat(p, &est); err != nil {
				if !errors.Is(err, unix.ENOENT) {
					errs = append(errs, err)
				}
				continue
			}
			if whole || later(est.Ctim, m.since) || est.Dev != st.Dev {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// clockStepped reports whether the realtime clock was set since the
// mark: the timerfd is cancelled (ECANCELED) or, set far forward, expired.
func (m *CacheMark) clockStepped() bool {
	var b [8]byte
	_, err := unix.Read(m.clock, b[:])
	return err != unix.EAGAIN
}

// mountsChanged reports whether sysrec's mount table changed since the
// mountinfo file open at fd was opened: the kernel flags it with POLLPRI.
func mountsChanged(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n != 0
}

func (m *CacheMark) close() {
	for _, fd := range []*int{&m.clock, &m.mounts} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
