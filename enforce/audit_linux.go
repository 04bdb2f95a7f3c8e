package enforce

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
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
	v.Comm = f["comm"]
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
	// "net.connect_tcp".
	Blockers string
	// Path is the file, or Port the TCP port, the access was for.
	Path string
	Port string
}

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
	if enabled, err := auditEnabled(); err == nil && enabled {
		m := fmt.Sprintf("sysrec-sync-%d-%d", os.Getpid(), time.Now().UnixNano())
		if sendAuditUser(m) == nil {
			marker = m
		}
	}
	deadline := time.Now().Add(AuditWait)
	buf := make([]byte, 16384)
	for {
		typ, text, more := l.next(buf)
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
			byDomain[f["domain"]] = append(byDomain[f["domain"]], LandlockDenial{Blockers: f["blockers"], Path: f["path"], Port: f["dport"] + f["sport"]})
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

// auditRequest sends one request to the kernel's audit netlink socket and
// returns the reply's payload.
func auditRequest(typ uint16, payload []byte) ([]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	msg := make([]byte, unix.NLMSG_HDRLEN+len(payload))
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	copy(msg[unix.NLMSG_HDRLEN:], payload)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	if n < unix.NLMSG_HDRLEN {
		return nil, errors.New("short audit reply")
	}
	return buf[unix.NLMSG_HDRLEN:n], nil
}

// auditEnabled reports whether the kernel's audit is on (AUDIT_GET:
// struct audit_status {mask, enabled, ...}).
func auditEnabled() (bool, error) {
	const auditGet = 1000
	b, err := auditRequest(auditGet, nil)
	if err != nil {
		return false, err
	}
	if len(b) < 8 {
		return false, errors.New("short audit status")
	}
	return binary.NativeEndian.Uint32(b[4:]) != 0, nil
}

// sendAuditUser logs a user record (AUDIT_USER_MSG) with text.
func sendAuditUser(text string) error {
	const auditUserMsg = 1112
	_, err := auditRequest(auditUserMsg, append([]byte(text), 0))
	return err
}
