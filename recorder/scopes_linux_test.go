package recorder

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// TestScopeSignals: a signal to the recorded tree itself is not outside
// it; a signal (and a signal-0 probe) to an unrelated process is, charged
// to the sender. What a Landlock signal scope would refuse.
func TestScopeSignals(t *testing.T) {
	testenv.RequireRoot(t)
	sh := testenv.RequireTool(t, "sh")
	sleep := exec.Command(testenv.RequireTool(t, "sleep"), "1000")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	for _, tc := range []struct {
		name   string
		script string
		want   []profiles.ExeCount
	}{
		{"itself", `kill -0 $$ && kill -CONT $$`, nil},
		{"unrelated process", `kill -CONT $1 && kill -0 $1`, []profiles.ExeCount{{Exe: "sh", Count: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := record(t, Options{Command: []string{sh, "-c", tc.script, "sh", strconv.Itoa(sleep.Process.Pid)}, Files: true})
			if rec.ExitStatus != 0 {
				t.Fatalf("exit status %d", rec.ExitStatus)
			}
			if !slices.Equal(rec.SignalsOutside, tc.want) {
				t.Errorf("signals outside: %v, want %v", rec.SignalsOutside, tc.want)
			}
		})
	}
}

// TestScopeUnix: connects to an abstract and a pathname socket, and a
// datagram sent to an abstract socket by its address, are recorded with
// the socket's name. What a Landlock abstract unix socket scope would
// refuse (for the abstract ones).
func TestScopeUnix(t *testing.T) {
	target := rootTarget(t)
	abstract := fmt.Sprintf("@sysrec-test-%d", os.Getpid())
	path := filepath.Join(t.TempDir(), "s")
	for _, addr := range []string{abstract, path} {
		l, err := net.Listen("unix", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(io.Discard, c); c.Close() }()
			}
		}()
	}
	dgram, err := net.ListenPacket("unixgram", abstract+"-dgram")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dgram.Close() })

	for _, tc := range []struct {
		how, addr string
		want      profiles.UnixAccess
	}{
		{"connect", abstract, profiles.UnixAccess{Name: abstract, Abstract: true, Count: 1, Exe: "target"}},
		{"connect", path, profiles.UnixAccess{Name: path, Count: 1, Exe: "target"}},
		{"sendto", abstract + "-dgram", profiles.UnixAccess{Name: abstract + "-dgram", Abstract: true, Count: 1, Exe: "target"}},
	} {
		t.Run(tc.how+" "+tc.addr, func(t *testing.T) {
			rec := record(t, Options{Command: []string{target, "unix", tc.how, tc.addr}, Files: true})
			if rec.ExitStatus != 0 {
				t.Fatalf("exit status %d", rec.ExitStatus)
			}
			if !slices.Equal(rec.Unix, []profiles.UnixAccess{tc.want}) {
				t.Errorf("unix sockets: %+v, want %+v", rec.Unix, tc.want)
			}
		})
	}
}
