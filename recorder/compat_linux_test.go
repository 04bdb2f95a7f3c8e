package recorder

import (
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestCompatCalls: a program that makes i386 calls through int $0x80
// must not get their x86_64 namesakes, with the x86_64 argument
// registers it chose, into its recording. i386 dup(-1) is x86_64 nr 41,
// socket, with rdi=AF_PACKET rsi=SOCK_RAW; fadvise64_64(-1) is nr 272,
// unshare, with rdi=CLONE_NEWUSER|CLONE_NEWNET; getrlimit is nr 76,
// truncate, with rdi pointing at a file. They are recorded as i386
// calls, with the i386 argument registers (getrlimit's resource from
// bx, mmap2's prot and flags from dx and si) and errnos; with file
// recording they are counted as calls whose files are not recorded.
func TestCompatCalls(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("int $0x80 is an x86_64 test")
	}
	target := rootTarget(t)
	for _, files := range []bool{false, true} {
		t.Run(fmt.Sprintf("files=%v", files), func(t *testing.T) {
			victim := filepath.Join(t.TempDir(), "victim")
			rec := record(t, Options{Command: []string{target, "i386", victim}, Files: files})
			if rec.ExitStatus != 0 {
				t.Fatalf("target exited %d", rec.ExitStatus)
			}
			i386 := map[string]profiles.Sample{}
			for _, s := range rec.Samples {
				switch {
				case s.Arch == "i386":
					i386[s.Name] = s
				case s.Name == "socket" || s.Name == "unshare" || s.Name == "truncate":
					t.Errorf("recorded %s%v ×%d (errors %v) by %s: an i386 call read as x86_64", s.Name, s.Args, s.Count, s.Errors, s.Exe)
				}
			}
			const ebadf = 9
			for _, name := range []string{"dup", "fadvise64_64"} {
				if s := i386[name]; s.Count != 1 || s.Errors[ebadf] != 1 {
					t.Errorf("i386 %s: %+v, want one call failing with EBADF", name, s)
				}
			}
			const rlimitNofile = 7
			if s := i386["getrlimit"]; s.Count != 1 || !s.Recorded[0] || s.Args[0] != rlimitNofile || len(s.Errors) != 0 || slices.Contains(s.Recorded[1:], true) {
				t.Errorf("i386 getrlimit: %+v, want one successful call with resource RLIMIT_NOFILE (bx) recorded", s)
			}
			const rw, anon = 3, 0x22
			if s := i386["mmap2"]; s.Count != 1 || s.Args[2] != rw || s.Args[3] != anon || !s.Recorded[2] || !s.Recorded[3] {
				t.Errorf("i386 mmap2: %+v, want one call with prot PROT_READ|PROT_WRITE (dx), flags MAP_PRIVATE|MAP_ANONYMOUS (si)", s)
			}
			if len(i386) != 4 {
				t.Errorf("i386 calls %v, want dup, fadvise64_64, getrlimit, mmap2", slices.Sorted(maps.Keys(i386)))
			}
			want := uint64(0)
			if files {
				noFile(t, rec, victim)
				want = 4
			}
			if rec.Compat != want {
				t.Errorf("compat calls with files not recorded: %d, want %d", rec.Compat, want)
			}
		})
	}
}
