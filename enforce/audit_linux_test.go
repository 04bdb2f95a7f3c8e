package enforce

import (
	"strings"
	"testing"
)

func TestParseKmsgSeccomp(t *testing.T) {
	for _, tc := range []struct {
		rec  string
		want Violation
		ok   bool
	}{
		{
			rec:  `5,1203,8121212,-;audit: type=1326 audit(1700000000.123:45): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=4242 comm="target" exe="/tmp/target" sig=31 arch=c000003e syscall=140 compat=0 ip=0x46b5ce code=0x80000000`,
			want: Violation{PID: 4242, Comm: "target", Arch: 0xc000003e, Nr: 140, Code: 0x80000000},
			ok:   true,
		},
		{rec: `6,1,1,-;audit: type=1400 apparmor="DENIED" pid=1`, ok: false},
		{rec: `6,1,1,-;audit: type=1326 audit(1.2:3): pid=x syscall=1`, ok: false},
		{rec: `garbage`, ok: false},
	} {
		var got Violation
		ok := false
		if typ, text, isAudit := parseKmsg(tc.rec); isAudit && typ == auditSeccomp {
			got, ok = parseSeccomp(text)
		}
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v, %v", tc.rec, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseLandlockDenial(t *testing.T) {
	for _, tc := range []struct {
		rec, want string
	}{
		{`domain=1a blockers=fs.read_file path="/etc/passwd" dev="vda1" ino=42`, "read_file on /etc/passwd"},
		{`domain=1a blockers=fs.write_file path=2F746D702F6120622E747874 dev="vda1" ino=42`, "write_file on /tmp/a b.txt"},
		// As Linux 6.18 writes them (lsm_audit's dest= and src=).
		{`domain=1a blockers=net.connect_tcp daddr=127.0.0.1 dest=80`, "connect_tcp on port 80"},
		{`domain=1a blockers=net.bind_tcp saddr=127.0.0.1 src=23458`, "bind_tcp on port 23458"},
		{`domain=1a blockers=scope.signal opid=21378 ocomm="sleep"`, "signal to pid 21378 (sleep), outside the target's process tree"},
		{`domain=1a blockers=scope.abstract_unix_socket path=007363727465737432`, "connect to abstract unix socket @scrtest2, created outside the target's process tree"},
	} {
		d := parseLandlockDenial(auditFields(tc.rec))
		if got := d.String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.rec, got, tc.want)
		}
	}
}

// TestDenialPrintable: a refusal's path and process name, which the
// target chose, are shown without terminal controls.
func TestDenialPrintable(t *testing.T) {
	for _, d := range []LandlockDenial{
		{Blockers: "fs.read_file", Path: "/tmp/x\x1b[1A\x1b[2K"},
		{Blockers: "scope.signal", PID: 7, Comm: "\x1b]0;owned\x07"},
		{Blockers: "scope.abstract_unix_socket", Path: "@s\x1b[2J"},
	} {
		if s := d.String(); strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("%q", s)
		}
	}
}
