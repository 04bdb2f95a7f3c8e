package recorder

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestFilesLinkRepointed: a program that passes path strings through
// symlinks and repoints the links afterwards must not get rights where
// the links point by the time the recording is read (target repoint):
// make_dir on V (it only removed V/x), make or remove rights inside
// H/bin (only renamed), read on S/s (it exec'd W/s).
func TestFilesLinkRepointed(t *testing.T) {
	target := rootTarget(t)
	dir := realPath(t, t.TempDir())
	for _, d := range []string{"W", "V", "H", "H/bin", "S"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"V/x": "", "S/s": "secret\n", "W/s": "#!/bin/sh\n:\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, to := range map[string]string{"L": "W", "K": "W", "M": "H"} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	rec := recordFiles(t, fileMaxDepth, target, "repoint", dir)
	logFiles(t, rec)
	for _, f := range rec.Files {
		for _, never := range []string{"V/", "H/bin/", "S/"} {
			if strings.HasPrefix(f.Path, filepath.Join(dir, never)) {
				t.Errorf("%s recorded (%v): the kernel did that elsewhere", f.Path, linuxabi.LandlockFSNames(f.Access))
			}
		}
	}
	if rec.FilesRaced == 0 {
		t.Error("no access counted as raced: the strings through repointed links were not noticed")
	}
}

// TestFilesOpenat2FlagsRace: openat2's flags are in the caller's
// memory; a thread that flips them while the call runs must not make a
// plain read-only open look like an O_TMPFILE open (a right on the
// whole directory) or an O_TRUNC one (truncate). Each flipped value
// makes the kernel fail the open, so every open that succeeded was a
// plain read.
func TestFilesOpenat2FlagsRace(t *testing.T) {
	target := rootTarget(t)
	const (
		oTrunc   = 0o1000
		oTmpfile = 0o20000000 // __O_TMPFILE, without O_DIRECTORY: EINVAL
	)
	file := filepath.Join(realPath(t, t.TempDir()), "f")
	if err := os.WriteFile(file, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		file  string
		flags int
		never string // a path that must get no right
		not   []string
	}{
		{"tmpfile", file, oTmpfile, filepath.Dir(file), nil},
		// O_TRUNC on the running executable: ETXTBSY.
		{"truncate", realPath(t, target), oTrunc, realPath(t, target), []string{"truncate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := recordFiles(t, fileMaxDepth, target, "openat2-flip", tc.file, strconv.Itoa(tc.flags), "200000")
			wantFile(t, rec, tc.file, "read_file")
			noFile(t, rec, tc.never, tc.not...)
		})
	}
}

// TestScopeOwn: what reaches only the target itself drops no scope:
// kill(0, 0) in a session of its own (no signal outside), a connect to
// an abstract socket it listens on itself, a datagram to one it bound
// (not recorded).
func TestScopeOwn(t *testing.T) {
	target := rootTarget(t)
	for _, argv := range [][]string{
		{target, "signal-own-group"},
		{target, "unix-own", "stream", fmt.Sprintf("sysrec-own-%d", os.Getpid())},
		{target, "unix-own", "dgram", fmt.Sprintf("sysrec-own-dgram-%d", os.Getpid())},
	} {
		t.Run(strings.Join(argv[1:min(len(argv), 3)], " "), func(t *testing.T) {
			rec := record(t, Options{Command: argv, Files: true})
			if rec.ExitStatus != 0 {
				t.Fatalf("exit status %d", rec.ExitStatus)
			}
			if len(rec.SignalsOutside) != 0 || len(rec.Unix) != 0 {
				t.Errorf("signals outside %v, unix sockets %+v: want none", rec.SignalsOutside, rec.Unix)
			}
		})
	}
}

// TestCloneIntoCgroup: a child born in another cgroup (clone3 with
// CLONE_INTO_CGROUP) has left the target from its start: counted in
// Left, as a move out is, so that --strict fails.
func TestCloneIntoCgroup(t *testing.T) {
	target := rootTarget(t)
	out := testCgroup(t)
	rec := record(t, Options{Command: []string{target, "clone-into", out.path}})
	if rec.ExitStatus != 0 {
		t.Fatalf("exit status %d", rec.ExitStatus)
	}
	if n := byName(rec, "")["getpriority"]; n != 0 {
		t.Fatalf("getpriority recorded %d times: the child ran inside", n)
	}
	if want := []profiles.ExeCount{{Exe: "target", Count: 1}}; !slices.Equal(rec.Left, want) {
		t.Errorf("left: %v, want %v", rec.Left, want)
	}
}

// TestFilesFreshPage: a path string in a page the target has not
// touched yet cannot be read at sys_enter; the call is counted as
// unresolved (a fault), not as a path changed while the call ran.
func TestFilesFreshPage(t *testing.T) {
	target := rootTarget(t)
	dir := realPath(t, t.TempDir())
	rec := recordFiles(t, fileMaxDepth, target, "mkdir-fresh-page", dir)
	if rec.FilesRaced != 0 {
		t.Errorf("%d accesses counted as changed during the call, want 0", rec.FilesRaced)
	}
	if rec.FilesUnresolved == 0 {
		t.Error("the mkdir whose path sys_enter could not read was not counted")
	}
	noFile(t, rec, filepath.Join(dir, "x"))
}
