package recorder

import (
	"path/filepath"
	"runtime"
	"testing"
)

// TestCompatCalls: a program that makes i386 calls through int $0x80
// must not get their x86_64 namesakes, with the x86_64 argument
// registers it chose, into its recording. i386 dup(-1) is x86_64 nr 41,
// socket, with rdi=AF_PACKET rsi=SOCK_RAW; fadvise64_64(-1) is nr 272,
// unshare, with rdi=CLONE_NEWUSER|CLONE_NEWNET; getrlimit is nr 76,
// truncate, with rdi pointing at a file. They are counted as compat
// calls instead.
func TestCompatCalls(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("int $0x80 is an x86_64 test")
	}
	target := rootTarget(t)
	victim := filepath.Join(t.TempDir(), "victim")
	rec := record(t, Options{Command: []string{target, "i386", victim}, Files: true})
	if rec.ExitStatus != 0 {
		t.Fatalf("target exited %d", rec.ExitStatus)
	}
	for _, s := range rec.Samples {
		if s.Name == "socket" || s.Name == "unshare" || s.Name == "truncate" {
			t.Errorf("recorded %s%v ×%d (errors %v) by %s: an i386 call read as x86_64", s.Name, s.Args, s.Count, s.Errors, s.Exe)
		}
	}
	noFile(t, rec, victim)
	if rec.Compat != 3 {
		t.Errorf("compat calls: %d, want 3", rec.Compat)
	}
}
