package enforce

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sysrec/sysrec/linuxabi"
	"golang.org/x/sys/unix"
)

// Violation is one seccomp audit record (type=1326) from the kernel log:
// the kernel writes one for every action listed in
// /proc/sys/kernel/seccomp/actions_logged (kill_process by default).
type Violation struct {
	PID  int
	Comm string
	Arch uint32
	Nr   int
	Code uint32 // SECCOMP_RET_* the filter returned
}

// AuditLog reads seccomp records from /dev/kmsg written after it was opened.
type AuditLog struct {
	f *os.File
}

// OpenAuditLog starts reading the kernel log at its current end.
func OpenAuditLog() (*AuditLog, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open kernel log: %w", err)
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open kernel log: %w", err)
	}
	return &AuditLog{f: os.NewFile(uintptr(fd), "/dev/kmsg")}, nil
}

// Close releases the log.
func (l *AuditLog) Close() error { return l.f.Close() }

// Wait returns the first seccomp record of pid logged since the log was
// opened, waiting for it until deadline: the kernel may write it after
// the parent has already seen the process die. ok is false when none
// came in time.
func (l *AuditLog) Wait(pid int, deadline time.Time) (v Violation, ok bool) {
	buf := make([]byte, 8192) // one record per read
	fd := int(l.f.Fd())
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == nil:
			if v, ok := parseAudit(string(buf[:n])); ok && v.PID == pid {
				return v, true
			}
			continue
		case errors.Is(err, unix.EPIPE):
			continue // records were overwritten before we read them
		case !errors.Is(err, unix.EAGAIN):
			return Violation{}, false
		}
		left := time.Until(deadline)
		if left <= 0 {
			return Violation{}, false
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return Violation{}, false
		}
	}
}

// Syscall names the call of v: "getpriority (nr 140, x86_64)".
func (v Violation) Syscall() string {
	if a, ok := linuxabi.ArchByAudit(v.Arch); ok {
		if name := a.SyscallName(v.Nr); name != "" {
			return fmt.Sprintf("%s (nr %d, %s)", name, v.Nr, a.Name)
		}
		return fmt.Sprintf("#%d (%s)", v.Nr, a.Name)
	}
	return fmt.Sprintf("#%d (arch %#x)", v.Nr, v.Arch)
}

// parseAudit reads a kmsg record such as
// "5,123,456,-;audit: type=1326 audit(...): ... pid=7 comm="x" ... arch=c000003e syscall=140 compat=0 ip=0x... code=0x80000000".
func parseAudit(rec string) (Violation, bool) {
	_, msg, ok := strings.Cut(rec, ";")
	if !ok || !strings.Contains(msg, "type=1326") {
		return Violation{}, false
	}
	msg, _, _ = strings.Cut(msg, "\n") // continuation lines follow
	var v Violation
	s := bufio.NewScanner(strings.NewReader(msg))
	s.Split(bufio.ScanWords)
	seen := 0
	for s.Scan() {
		k, val, ok := strings.Cut(s.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "pid":
			v.PID, _ = strconv.Atoi(val)
			seen++
		case "comm":
			v.Comm = strings.Trim(val, `"`)
		case "arch":
			a, _ := strconv.ParseUint(val, 16, 32)
			v.Arch = uint32(a)
		case "syscall":
			v.Nr, _ = strconv.Atoi(val)
			seen++
		case "code":
			c, _ := strconv.ParseUint(strings.TrimPrefix(val, "0x"), 16, 32)
			v.Code = uint32(c)
		}
	}
	return v, seen == 2
}

// LandlockDenial is one Landlock denial record (type=1423) of a domain
// the target's helper created: what was refused and where. The kernel
// logs them only while audit is enabled (auditctl -e 1) and, for an
// exec'd program, because the helper asks for it (ABI 7).
type LandlockDenial struct {
	// Blockers names the refused rights, e.g. "fs.read_file",
	// "net.connect_tcp".
	Blockers string
	// Path is the file, or Port the TCP port, the access was for.
	Path string
	Port string
}

// LandlockDenials drains the log and returns the Landlock denials of the
// domains that process pid created (the helper restricts itself, then
// becomes the target: its pid is the domain's).
func (l *AuditLog) LandlockDenials(pid int) []LandlockDenial {
	byDomain := map[string][]LandlockDenial{}
	ours := map[string]bool{}
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(int(l.f.Fd()), buf)
		if errors.Is(err, unix.EPIPE) {
			continue
		}
		if err != nil {
			break // EAGAIN: drained
		}
		_, msg, ok := strings.Cut(string(buf[:n]), ";")
		if !ok {
			continue
		}
		msg, _, _ = strings.Cut(msg, "\n")
		f := auditFields(msg)
		switch {
		case strings.Contains(msg, "type=1423"):
			byDomain[f["domain"]] = append(byDomain[f["domain"]], LandlockDenial{Blockers: f["blockers"], Path: f["path"], Port: f["dport"] + f["sport"]})
		case strings.Contains(msg, "type=1424") && f["pid"] == strconv.Itoa(pid):
			ours[f["domain"]] = true
		}
	}
	var out []LandlockDenial
	for d := range ours {
		out = append(out, byDomain[d]...)
	}
	return out
}

// auditFields splits an audit record into its key=value fields (quotes
// removed).
func auditFields(msg string) map[string]string {
	f := map[string]string{}
	for _, w := range strings.Fields(msg) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = strings.Trim(v, `"`)
		}
	}
	return f
}
