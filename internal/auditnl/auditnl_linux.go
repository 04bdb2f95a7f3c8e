// Package auditnl sends requests to the kernel's audit subsystem over
// NETLINK_AUDIT: the one home of that exchange for enforce (is audit on?
// a marker record) and the tests (turn audit on and off).
package auditnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// Message types (include/uapi/linux/audit.h).
const (
	Get     = 1000 // AUDIT_GET: reply struct audit_status
	Set     = 1001 // AUDIT_SET: struct audit_status with a mask
	UserMsg = 1112 // AUDIT_USER_MSG: log a user record
)

// Request sends one request of type typ and waits until the kernel has
// acknowledged it and, when reply is non-zero, sent its reply of that
// type (the two arrive in either order); it returns the reply's payload.
func Request(typ uint16, payload []byte, reply uint16) ([]byte, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("audit socket: %w", err)
	}
	defer syscall.Close(fd)
	msg := make([]byte, syscall.NLMSG_HDRLEN+len(payload))
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_ACK)
	copy(msg[syscall.NLMSG_HDRLEN:], payload)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("audit request: %w", err)
	}
	var got []byte
	acked := false
	buf := make([]byte, 8192)
	for !acked || (reply != 0 && got == nil) {
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("audit reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("audit reply: %w", err)
		}
		for _, m := range msgs {
			switch {
			case m.Header.Type == syscall.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("audit reply: short acknowledgement")
				}
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
					return nil, fmt.Errorf("audit request: %w", syscall.Errno(-e))
				}
				acked = true
			case reply != 0 && m.Header.Type == reply:
				got = append([]byte{}, m.Data...)
			}
		}
	}
	return got, nil
}

// Enabled reports whether audit is on (struct audit_status: mask,
// enabled, ...).
func Enabled() (bool, error) {
	b, err := Request(Get, nil, Get)
	if err != nil {
		return false, err
	}
	if len(b) < 8 {
		return false, errors.New("audit status: short reply")
	}
	return binary.NativeEndian.Uint32(b[4:]) != 0, nil
}

// SetEnabled turns audit on or off (auditctl -e) and returns the state
// before.
func SetEnabled(on bool) (prev bool, err error) {
	if prev, err = Enabled(); err != nil {
		return false, err
	}
	status := make([]byte, 40)                   // struct audit_status, as far as enabled
	binary.NativeEndian.PutUint32(status[0:], 1) // AUDIT_STATUS_ENABLED
	if on {
		binary.NativeEndian.PutUint32(status[4:], 1)
	}
	_, err = Request(Set, status, 0)
	return prev, err
}
