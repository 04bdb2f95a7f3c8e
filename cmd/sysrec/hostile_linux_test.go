package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/internal/testenv"
)

// A target that names a FIFO, as its #! interpreter or as itself (with
// execute bits), is refused at once: the analysis (and the runtime
// detection) used to wait forever for a writer, deaf to SIGTERM.
func TestFIFOTarget(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!"+fifo+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const refused = "not a regular file (a FIFO)"
	for _, tt := range []struct {
		name string
		root bool
		args []string
		code int
	}{
		{"analyze script", false, []string{"analyze", script}, exitstatus.Error},
		{"analyze fifo", false, []string{"analyze", fifo}, exitstatus.Error},
		{"record --generalize related script", true, []string{"record", "--generalize", "related", "-o", filepath.Join(dir, "a.json"), "--", script}, exitstatus.Error},
		// The default level falls back to families; the kernel then
		// refuses to execute the script or the FIFO.
		{"record script", true, []string{"record", "-o", filepath.Join(dir, "b.json"), "--", script}, exitstatus.Error},
		{"record fifo", true, []string{"record", "-o", filepath.Join(dir, "c.json"), "--", fifo}, exitstatus.Error},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testenv.RequireRoot(t)
			}
			type result struct {
				code int
				out  string
			}
			r := testenv.Within(t, 60*time.Second, func() result {
				code, out := sysrec(tt.args...)
				return result{code, out}
			})
			code, out := r.code, r.out
			if code != tt.code || !strings.Contains(out, refused) {
				t.Errorf("exit %d, want %d, and output saying %q:\n%s", code, tt.code, refused, out)
			}
		})
	}
}
