package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// setAudit turns the kernel's audit on or off (struct audit_status over
// NETLINK_AUDIT) and returns the previous state.
func setAudit(t *testing.T, enabled uint32) uint32 {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		t.Fatalf("audit socket: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	send := func(typ uint16, payload []byte) []byte {
		msg := make([]byte, 16+len(payload))
		binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
		binary.LittleEndian.PutUint16(msg[4:], typ)
		binary.LittleEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
		copy(msg[16:], payload)
		if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	const auditGet, auditSet = 1000, 1001
	reply := send(auditGet, nil)
	if len(reply) < 16+8 {
		t.Fatalf("audit get: short reply %d", len(reply))
	}
	prev := binary.LittleEndian.Uint32(reply[16+4:]) // struct audit_status: mask, enabled, ...
	status := make([]byte, 40)
	binary.LittleEndian.PutUint32(status[0:], 1) // AUDIT_STATUS_ENABLED
	binary.LittleEndian.PutUint32(status[4:], enabled)
	send(auditSet, status)
	return prev
}

// TestLandlockExplained: with audit on, a file the profile's Landlock
// rules do not grant is refused (EACCES, the same syscalls pass seccomp)
// and Run names the path and the right.
func TestLandlockExplained(t *testing.T) {
	testenv.RequireRoot(t)
	prev := setAudit(t, 1)
	t.Cleanup(func() { setAudit(t, prev) })
	p := &profiles.Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{Rules: []profiles.PathRule{
			{Path: "/usr", Access: []string{"execute", "read_file", "read_dir"}},
			{Path: "/etc/ld.so.cache", Access: []string{"read_file"}},
			{Path: "/etc/hostname", Access: []string{"read_file"}},
		}}}
	var out bytes.Buffer
	ex, err := Run(context.Background(), p, []string{"cat", "/etc/hostname", "/etc/passwd"}, Stdio{Out: &out, Err: &out}, enforce.LandlockRequired)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status == 0 || !strings.Contains(out.String(), "/etc/passwd: Permission denied") {
		t.Fatalf("cat /etc/passwd under the rules: status %d\n%s", ex.Status, out.Bytes())
	}
	found := false
	for _, d := range ex.Landlock {
		if d.Path == "/etc/passwd" && strings.Contains(d.Blockers, "read_file") {
			found = true
		}
	}
	if !found {
		t.Errorf("no denial of read_file on /etc/passwd reported: %+v", ex.Landlock)
	}
}
