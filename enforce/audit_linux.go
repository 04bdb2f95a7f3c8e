package enforce

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/auditnl"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Violation is one seccomp audit record (type=1326): the kernel writes
// one for every action listed in /proc/sys/kernel/seccomp/actions_logged
// (kill_process by default).
type Violation struct {
	PID  int
	Comm string
	Arch uint32
	Nr   int
	Code uint32 // SECCOMP_RET_* the filter returned
}

// Audit record types (include/uapi/linux/audit.h).
const (
	auditSeccomp        = 1326
	auditLandlockAccess = 1423
	auditLandlockDomain = 1424
	// AUDIT_NLGRP_READLOG: the multicast group that receives every
	// audit record (CAP_AUDIT_READ).
	auditNLGroupReadlog = 1
)

// AuditLog reads the kernel's audit records written after it was opened.
//
// It listens on the audit netlink multicast group when it can: records
// arrive there whether or not audit is enabled or auditd runs, and are
// not subject to the printk rate limit (10 lines per 5 s, system wide)
// that drops them from the kernel log when several processes are killed
// at once. Without that (no CAP_AUDIT_READ), it reads /dev/kmsg.
type AuditLog struct {
	fd      int
	netlink bool
	// passed holds the records Wait read past (Landlock's, logged
	// before the seccomp kill it waits for): LandlockDenials reads them
	// first.
	passed []record
}

// maxPassed bounds what Wait keeps: a target can make the kernel log
// denials as fast as it likes.
const maxPassed = 65536

type record struct {
	typ  int
	text string
}

// OpenAuditLog starts reading audit records at this moment.
func OpenAuditLog() (*AuditLog, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_AUDIT)
	if err == nil {
		if err = unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (auditNLGroupReadlog - 1)}); err == nil {
			// A busy host's records must not overflow the socket between
			// the target's start and our reads.
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
			return &AuditLog{fd: fd, netlink: true}, nil
		}
		unix.Close(fd)
	}
	fd, err = unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open kernel log: %w", err)
	}
	if _, err := unix.Seek(fd, 0, io.SeekEnd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open kernel log: %w", err)
	}
	return &AuditLog{fd: fd}, nil
}

// Close releases the log.
func (l *AuditLog) Close() error { return unix.Close(l.fd) }

// next returns the next audit record as its type and text ("audit(...):
// key=value ..."), or ok false when none is waiting.
func (l *AuditLog) next(buf []byte) (typ int, text string, ok bool) {
	for {
		n, err := unix.Read(l.fd, buf)
		if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EINTR) {
			continue // kmsg overwritten, or the socket overflowed: read on
		}
		if err != nil || n <= 0 {
			return 0, "", false
		}
		if l.netlink {
			if n < unix.NLMSG_HDRLEN {
				continue
			}
			size := int(binary.NativeEndian.Uint32(buf[0:]))
			typ := int(binary.NativeEndian.Uint16(buf[4:]))
			size = min(max(size, unix.NLMSG_HDRLEN), n)
			return typ, strings.TrimRight(string(buf[unix.NLMSG_HDRLEN:size]), "\x00\n"), true
		}
		if typ, text, ok := parseKmsg(string(buf[:n])); ok {
			return typ, text, true
		}
	}
}

// parseKmsg splits a /dev/kmsg record "5,123,456,-;audit: type=1326
// audit(...): ..." into its audit type and text.
func parseKmsg(rec string) (typ int, text string, ok bool) {
	_, msg, ok := strings.Cut(rec, ";")
	if !ok {
		return 0, "", false
	}
	msg, _, _ = strings.Cut(msg, "\n") // continuation lines follow
	rest, ok := strings.CutPrefix(msg, "audit: type=")
	if !ok {
		return 0, "", false
	}
	num, text, _ := strings.Cut(rest, " ")
	typ, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return typ, text, true
}

// Wait returns the first seccomp record of pid logged since the log was
// opened, waiting for it until deadline: the kernel may log it after the
// parent has already seen the process die. ok is false when none came in
// time.
func (l *AuditLog) Wait(pid int, deadline time.Time) (v Violation, ok bool) {
	buf := make([]byte, 16384)
	for {
		for {
			typ, text, more := l.next(buf)
			if !more {
				break
			}
			if typ != auditSeccomp {
				if (typ == auditLandlockAccess || typ == auditLandlockDomain) && len(l.passed) < maxPassed {
					l.passed = append(l.passed, record{typ, text})
				}
				continue
			}
			if v, ok := parseSeccomp(text); ok && v.PID == pid {
				return v, true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return Violation{}, false
		}
		fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
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

// parseSeccomp reads the text of a seccomp record: "audit(...): ...
// pid=7 comm="x" ... arch=c000003e syscall=140 compat=0 ip=0x...
// code=0x80000000".
func parseSeccomp(text string) (Violation, bool) {
	f := auditFields(text)
	var v Violation
	var err1, err2 error
	v.PID, err1 = strconv.Atoi(f["pid"])
	v.Nr, err2 = strconv.Atoi(f["syscall"])
	if err1 != nil || err2 != nil {
		return Violation{}, false
	}
	v.Comm = untrusted(f["comm"])
	if a, err := strconv.ParseUint(f["arch"], 16, 32); err == nil {
		v.Arch = uint32(a)
	}
	if c, err := strconv.ParseUint(strings.TrimPrefix(f["code"], "0x"), 16, 32); err == nil {
		v.Code = uint32(c)
	}
	return v, true
}

// LandlockDenial is one Landlock denial record (type=1423) of a domain
// the target's helper created: what was refused and where. The kernel
// logs them only while audit is enabled (auditctl -e 1) and, for an
// exec'd program, because the helper asks for it (ABI 7).
type LandlockDenial struct {
	// Blockers names the refused rights, e.g. "fs.read_file",
	// "net.connect_tcp", "scope.signal".
	Blockers string
	// Path is the file (or "@name", the abstract unix socket), or Port
	// the TCP port, the access was for.
	Path string
	Port string
	// PID and Comm are the process a signal was refused to.
	PID  int
	Comm string
}

// String says what was refused: "read_file on /etc/passwd", "connect_tcp
// on port 80", "signal to pid 42 (sleep)", "connect to abstract unix
// socket @name".
func (d LandlockDenial) String() string {
	switch d.Blockers {
	case "scope.signal":
		return fmt.Sprintf("signal to pid %d (%s), outside the target's process tree", d.PID, profiles.Printable(d.Comm))
	case "scope.abstract_unix_socket":
		return fmt.Sprintf("connect to abstract unix socket %s, created outside the target's process tree", profiles.Printable(d.Path))
	}
	what := profiles.Printable(d.Path)
	if what == "" {
		what = "port " + d.Port
	}
	rights := strings.ReplaceAll(strings.ReplaceAll(d.Blockers, "fs.", ""), "net.", "")
	return rights + " on " + what
}

// Scope reports whether d is a scope denial (a signal or abstract unix
// socket beyond the target's tree) rather than a file or port right.
func (d LandlockDenial) Scope() bool { return strings.HasPrefix(d.Blockers, "scope.") }

// LandlockDenials returns the Landlock denials of the domains that
// process pid created (the helper restricts itself, then becomes the
// target: its pid is the domain's). The kernel queues audit records and
// a kernel thread delivers them later, so it first sends a marker record
// of its own and reads until the marker arrives (records are delivered
// in order), within AuditWait. With audit disabled the kernel writes no
// Landlock records and drops the marker: it returns at once.
func (l *AuditLog) LandlockDenials(pid int) []LandlockDenial {
	byDomain := map[string][]LandlockDenial{}
	ours := map[string]bool{}
	marker := ""
	if enabled, err := auditnl.Enabled(); err == nil && enabled {
		m := fmt.Sprintf("sysrec-sync-%d-%d", os.Getpid(), time.Now().UnixNano())
		if _, err := auditnl.Request(auditnl.UserMsg, append([]byte(m), 0), 0); err == nil {
			marker = m
		}
	}
	deadline := time.Now().Add(AuditWait)
	buf := make([]byte, 16384)
	for {
		var typ int
		var text string
		var more bool
		if len(l.passed) > 0 {
			typ, text, more = l.passed[0].typ, l.passed[0].text, true
			l.passed = l.passed[1:]
		} else {
			typ, text, more = l.next(buf)
		}
		if !more {
			left := time.Until(deadline)
			if marker == "" || left <= 0 {
				break
			}
			fds := []unix.PollFd{{Fd: int32(l.fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
				break
			}
			continue
		}
		if marker != "" && strings.Contains(text, marker) {
			marker = "" // everything logged before it has arrived
			continue
		}
		f := auditFields(text)
		switch typ {
		case auditLandlockAccess:
			byDomain[f["domain"]] = append(byDomain[f["domain"]], parseLandlockDenial(f))
		case auditLandlockDomain:
			if f["pid"] == strconv.Itoa(pid) {
				ours[f["domain"]] = true
			}
		}
	}
	var out []LandlockDenial
	for d := range ours {
		out = append(out, byDomain[d]...)
	}
	return out
}

// parseLandlockDenial reads the fields of a type=1423 record.
func parseLandlockDenial(f map[string]string) LandlockDenial {
	d := LandlockDenial{Blockers: f["blockers"], Path: untrusted(f["path"]), Port: f["dest"] + f["src"], Comm: untrusted(f["ocomm"])}
	d.PID, _ = strconv.Atoi(f["opid"])
	if d.Blockers == "scope.abstract_unix_socket" {
		d.Path = "@" + strings.TrimPrefix(d.Path, "\x00")
	}
	return d
}

// auditFields splits an audit record into its key=value fields, values
// as written (see untrusted).
func auditFields(msg string) map[string]string {
	f := map[string]string{}
	for _, w := range strings.Fields(msg) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = v
		}
	}
	return f
}

// untrusted decodes a string the kernel logs with
// audit_log_untrustedstring: quoted when plain, else hex (a path with a
// space, an abstract socket name starting with a NUL byte).
func untrusted(v string) string {
	if s, ok := strings.CutPrefix(v, `"`); ok {
		return strings.TrimSuffix(s, `"`)
	}
	if b, err := hex.DecodeString(v); err == nil {
		return string(b)
	}
	return v
}

// explainKill says which call a seccomp kill was for, from the kernel's
// record of it (v; nil when the kernel logged none within AuditWait).
func explainKill(v *Violation) string {
	if v == nil {
		return "the kernel log has no seccomp record of it within 3s (rate-limited, read by auditd, or kill_process not in /proc/sys/kernel/seccomp/actions_logged)"
	}
	return "syscall " + v.Syscall() + " is not allowed by the profile"
}
