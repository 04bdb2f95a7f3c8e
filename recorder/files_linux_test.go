package recorder

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// recordFiles runs argv in a fresh cgroup with only the files program
// attached and returns what it saw.
func recordFiles(t *testing.T, depth int, argv ...string) *Recording {
	t.Helper()
	return recordFilesDuring(t, depth, nil, argv...)
}

// recordFilesDuring is recordFiles calling during (when not nil) once
// the command has started, then waiting for the command to exit.
func recordFilesDuring(t *testing.T, depth int, during func(*exec.Cmd), argv ...string) *Recording {
	t.Helper()
	testenv.RequireRoot(t)
	cg := testCgroup(t)
	fr, err := startFilesDepth(cg, 0, depth)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	rec := &Recording{ExitStatus: -1}
	startIn(t, cg, cmd)
	if during != nil {
		during(cmd)
	}
	if err := cmd.Wait(); err != nil && during == nil {
		t.Fatalf("%v: %v\n%s", argv, err, out.String())
	}
	rec.ExitStatus = cmd.ProcessState.ExitCode()
	if err := cg.waitEmpty(nil); err != nil {
		t.Fatal(err)
	}
	if err := fr.read(rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func logFiles(t *testing.T, rec *Recording) {
	t.Helper()
	for _, f := range rec.Files {
		t.Logf("%-60s %s ×%d", f.Path, strings.Join(linuxabi.LandlockFSNames(f.Access), ","), f.Count)
	}
	for _, p := range rec.Ports {
		t.Logf("port %d %s ×%d", p.Port, strings.Join(linuxabi.LandlockNetNames(p.Access), ","), p.Count)
	}
	t.Logf("unresolved %d", rec.FilesUnresolved)
}

// fileAccess returns what rec holds for path, over every executable.
func fileAccess(rec *Recording, path string) (profiles.FileAccess, bool) {
	all := profiles.FileAccess{Path: path}
	found := false
	for _, f := range rec.Files { // one entry per executable
		if f.Path == path {
			all.Access |= f.Access
			all.Count += f.Count
			found = true
		}
	}
	return all, found
}

// wantFile fails t unless rec has path with at least the rights want.
func wantFile(t *testing.T, rec *Recording, path string, want ...string) {
	t.Helper()
	bits, err := linuxabi.ParseLandlockFS(want)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := fileAccess(rec, path)
	if !ok {
		t.Errorf("%s not recorded", path)
		return
	}
	if f.Access&bits != bits {
		t.Errorf("%s: recorded %v, want at least %v", path, linuxabi.LandlockFSNames(f.Access), want)
	}
}

// noFile fails t if rec has path with any of the rights in not.
func noFile(t *testing.T, rec *Recording, path string, not ...string) {
	t.Helper()
	f, ok := fileAccess(rec, path)
	if !ok {
		return
	}
	if len(not) == 0 {
		t.Errorf("%s recorded (%v), want it absent", path, linuxabi.LandlockFSNames(f.Access))
		return
	}
	bits, _ := linuxabi.ParseLandlockFS(not)
	if f.Access&bits != 0 {
		t.Errorf("%s: recorded %v, want none of %v", path, linuxabi.LandlockFSNames(f.Access), not)
	}
}

func realPath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFilesCat: the file read, the executable and its ELF interpreter
// (opened by the kernel, not by a syscall) and the libraries.
func TestFilesCat(t *testing.T) {
	rec := recordFiles(t, fileMaxDepth, "cat", "/etc/hostname")
	logFiles(t, rec)
	wantFile(t, rec, "/etc/hostname", "read_file")
	noFile(t, rec, "/etc/hostname", "write_file", "execute")
	cat := realPath(t, mustLookPath(t, "cat"))
	wantFile(t, rec, cat, "execute", "read_file")
	libc := realPath(t, "/lib/x86_64-linux-gnu/libc.so.6")
	wantFile(t, rec, libc, "read_file")
	noFile(t, rec, libc, "execute") // mapped, not exec'd: Landlock does not ask
	ldso := realPath(t, "/lib64/ld-linux-x86-64.so.2")
	wantFile(t, rec, ldso, "execute", "read_file")
	if rec.FilesUnresolved != 0 {
		t.Errorf("%d accesses unresolved", rec.FilesUnresolved)
	}
	if len(rec.Ports) != 0 {
		t.Errorf("ports %v, want none", rec.Ports)
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFilesWriteDir: files created in a directory carry make_reg (the
// directory's right, recorded on the object) and write_file; an existing
// file opened with O_CREAT is not "made"; mkdir, rm, mv, ln -s, mkfifo
// and truncate give their rights.
func TestFilesWriteDir(t *testing.T) {
	dir := realPath(t, t.TempDir())
	if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `cd "$1" && echo hi > new && echo more >> existing && mkdir sub && echo x > sub/f &&
		rm sub/f && rmdir sub && mv new renamed && ln -s renamed sym && mkfifo fifo && truncate -s 0 existing &&
		mkdir -p other && mv renamed other/moved`
	rec := recordFiles(t, fileMaxDepth, "sh", "-c", script, "sh", dir)
	logFiles(t, rec)
	wantFile(t, rec, dir+"/new", "make_reg", "write_file", "truncate", "remove_file")
	wantFile(t, rec, dir+"/existing", "write_file", "truncate")
	noFile(t, rec, dir+"/existing", "make_reg")
	wantFile(t, rec, dir+"/sub", "make_dir", "remove_dir")
	wantFile(t, rec, dir+"/sub/f", "make_reg", "write_file", "remove_file")
	wantFile(t, rec, dir+"/renamed", "make_reg", "remove_file", "refer")
	wantFile(t, rec, dir+"/other/moved", "make_reg", "refer")
	wantFile(t, rec, dir+"/sym", "make_sym")
	wantFile(t, rec, dir+"/fifo", "make_fifo")
	if rec.FilesUnresolved != 0 {
		t.Errorf("%d accesses unresolved", rec.FilesUnresolved)
	}
}

// TestFilesSymlinkAndBindMount: an open through a symlink records the
// file it points to; one through a bind mount (in the target's own
// mount namespace) records the path the target used, which names the
// same file.
func TestFilesSymlinkAndBindMount(t *testing.T) {
	testenv.RequireTool(t, "unshare")
	dir := realPath(t, t.TempDir())
	for _, d := range []string{"real", "bound"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real/f", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	rec := recordFiles(t, fileMaxDepth, "unshare", "-m", "--propagation", "private", "sh", "-c",
		`cat "$1/link" && mount --bind "$1/real" "$1/bound" && cat "$1/bound/f"`, "sh", dir)
	logFiles(t, rec)
	wantFile(t, rec, dir+"/real/f", "read_file")
	noFile(t, rec, dir+"/link")
	wantFile(t, rec, dir+"/bound/f", "read_file")
	if rec.FilesUnresolved != 0 {
		t.Errorf("%d accesses unresolved", rec.FilesUnresolved)
	}
}

// TestFilesDeepPath: a path deeper than the walk may go is counted as
// unresolved, not dropped silently and not recorded cut short.
func TestFilesDeepPath(t *testing.T) {
	dir := realPath(t, t.TempDir())
	deep := dir
	for range fileMaxDepth + 6 {
		deep = filepath.Join(deep, "d")
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deep, "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := recordFiles(t, fileMaxDepth, "sh", "-c", `cd "$1" && cat f`, "sh", deep)
	if rec.FilesUnresolved == 0 {
		t.Errorf("the deep open was not counted as unresolved")
	}
	for _, f := range rec.Files {
		if strings.HasSuffix(f.Path, "/d/f") || strings.HasSuffix(f.Path, "/d/d") {
			t.Errorf("deep path recorded cut short: %s", f.Path)
		}
	}
	// Within the limit it is resolved.
	shallow := filepath.Join(dir, "d", "d", "d")
	rec = recordFiles(t, fileMaxDepth, "sh", "-c", `cat "$1/d/d/d/d/d/d/f" >/dev/null; cd "$2" && : > g`, "sh", shallow, shallow)
	wantFile(t, rec, shallow+"/g", "make_reg", "write_file")
}

// TestFilesScript: executing a script needs execute and read_file on
// the script and on its interpreter.
func TestFilesScript(t *testing.T) {
	dir := realPath(t, t.TempDir())
	script := filepath.Join(dir, "s.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := recordFiles(t, fileMaxDepth, script)
	logFiles(t, rec)
	wantFile(t, rec, script, "execute", "read_file")
	wantFile(t, rec, realPath(t, "/bin/sh"), "execute", "read_file")
}

// TestFilesPorts: a TCP connect and a TCP bind give connect_tcp and
// bind_tcp on their ports; UDP and unix sockets give no port, and a
// named unix socket is a file made in its directory.
func TestFilesPorts(t *testing.T) {
	python := testenv.RequireTool(t, "python3")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := realPath(t, t.TempDir())
	prog := `
import socket, sys
port = int(sys.argv[1])
socket.create_connection(("127.0.0.1", port), timeout=5).close()
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::1", 0))
s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.connect(("127.0.0.1", 9))
u.close()
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
x.bind(sys.argv[2] + "/sock")
x.close()
`
	rec := recordFiles(t, fileMaxDepth, python, "-c", prog, strconv.Itoa(port), dir)
	logFiles(t, rec)
	want := map[[2]uint64]bool{{uint64(port), 2}: true, {0, 1}: true}
	for _, p := range rec.Ports {
		if !want[[2]uint64{uint64(p.Port), p.Access}] {
			t.Errorf("unexpected port %d %v", p.Port, linuxabi.LandlockNetNames(p.Access))
		}
		delete(want, [2]uint64{uint64(p.Port), p.Access})
	}
	if len(want) > 0 {
		t.Errorf("ports not recorded: %v", want)
	}
	wantFile(t, rec, dir+"/sock", "make_sock")
}

// TestFilesByExe: an access is charged to the executable that made it,
// as its syscalls are: the shell creates and appends, cat reads.
func TestFilesByExe(t *testing.T) {
	testenv.RequireRoot(t)
	f := filepath.Join(realPath(t, t.TempDir()), "f")
	rec := recordFiles(t, fileMaxDepth, "sh", "-c", `echo x >> "$1"; cat "$1" > /dev/null`, "sh", f)
	by := map[string]uint64{}
	for _, fa := range rec.Files {
		if fa.Path == f {
			by[fa.Exe] |= fa.Access
		}
	}
	rights := func(names ...string) uint64 {
		b, err := linuxabi.ParseLandlockFS(names)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if want := rights("make_reg", "write_file"); by["sh"]&want != want || by["sh"]&rights("read_file") != 0 {
		t.Errorf("sh on %s: %v, want make_reg and write_file, no read_file", f, linuxabi.LandlockFSNames(by["sh"]))
	}
	if by["cat"] != rights("read_file") {
		t.Errorf("cat on %s: %v, want read_file alone", f, linuxabi.LandlockFSNames(by["cat"]))
	}
	if len(by) != 2 {
		t.Errorf("%s charged to %v, want sh and cat", f, by)
	}
}

// TestFilesConcurrent: recordings running at once see only their own
// target.
func TestFilesConcurrent(t *testing.T) {
	testenv.RequireRoot(t)
	dir := realPath(t, t.TempDir())
	const n = 4
	recs := make([]*Recording, n)
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				f := filepath.Join(dir, fmt.Sprintf("f%d", i))
				recs[i] = recordFiles(t, fileMaxDepth, "sh", "-c", `for i in 1 2 3 4 5 6 7 8 9 10; do echo $i >> "$1"; cat "$1" > /dev/null; done`, "sh", f)
			})
		}
	})
	for i, rec := range recs {
		if rec == nil {
			continue
		}
		for j := range n {
			f := filepath.Join(dir, fmt.Sprintf("f%d", j))
			if i == j {
				wantFile(t, rec, f, "make_reg", "write_file", "read_file")
				if fa, _ := fileAccess(rec, f); fa.Count < 20 {
					t.Errorf("recording %d: %s seen %d times, want ≥ 20", i, f, fa.Count)
				}
			} else {
				noFile(t, rec, f)
			}
		}
	}
}

func TestPathString(t *testing.T) {
	mk := func(flags uint32, parts ...string) *bpfprog.PathBuf {
		pb := &bpfprog.PathBuf{Flags: flags}
		n := 0
		for _, p := range parts {
			for _, c := range []byte(p) {
				pb.S[n] = int8(c)
				n++
			}
			pb.S[n] = 0
			n++
		}
		pb.Len = uint32(n)
		return pb
	}
	other := uint32(bpfprog.PathFlagString | bpfprog.PathFlagOtherRoot)
	for _, tc := range []struct {
		pb   *bpfprog.PathBuf
		want string
	}{
		{mk(0, "hostname", "etc"), "/etc/hostname"},
		{mk(0), "/"},
		{mk(other, "a/../b/c", "tmp"), "/tmp/b/c"},
		{mk(other, "/abs/x"), "/abs/x"},
		{mk(other, "x"), "/x"},
	} {
		if got := pathString(tc.pb, time.Now()).path; got != tc.want {
			t.Errorf("pathString(%q) = %q, want %q", tc.pb.Strings(), got, tc.want)
		}
	}
}

// TestRecordFiles: Record with Files fills the syscall samples and the
// files, for the same target; without it no file is recorded.
func TestRecordFiles(t *testing.T) {
	rec := record(t, Options{Command: []string{"cat", "/etc/hostname"}, Files: true})
	if len(rec.Samples) == 0 || rec.ExitStatus != 0 {
		t.Fatalf("samples %d, exit %d", len(rec.Samples), rec.ExitStatus)
	}
	wantFile(t, rec, "/etc/hostname", "read_file")
	wantFile(t, rec, realPath(t, mustLookPath(t, "cat")), "execute", "read_file")
	rec = record(t, Options{Command: []string{"cat", "/etc/hostname"}})
	if len(rec.Files) != 0 || len(rec.Ports) != 0 {
		t.Errorf("files recorded without Files: %v %v", rec.Files, rec.Ports)
	}
}

// TestFilesTmpfile: an O_TMPFILE file has no name; its rights are on
// the directory it was made in.
func TestFilesTmpfile(t *testing.T) {
	python := testenv.RequireTool(t, "python3")
	dir := realPath(t, t.TempDir())
	rec := recordFiles(t, fileMaxDepth, python, "-c", `import os, sys
fd = os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(fd, b"x")
os.close(fd)`, dir)
	wantFile(t, rec, dir, "write_file")
	for _, f := range rec.Files {
		if strings.HasPrefix(f.Path, dir+"/") {
			t.Errorf("unnamed file recorded by name: %s", f.Path)
		}
	}
}

// TestNamesChangedRole: a string is checked against the inode of its
// role only: the directory for a make or remove, the object for a
// truncate. The object changed (a rename's moved object, a truncated
// file) never vouches for a make or remove in it or beside it.
func TestNamesChangedRole(t *testing.T) {
	changed := func(paths ...string) *bpfprog.Changed {
		c := &bpfprog.Changed{N: uint32(len(paths))}
		for i, p := range paths {
			c.Path[i] = pathHash(p)
		}
		return c
	}
	for _, tc := range []struct {
		path   string
		access uint64
		c      *bpfprog.Changed
		want   bool
	}{
		{"/d/x", linuxabi.LandlockMakeDir, changed("/d", "/d/x"), true},
		{"/d/x", linuxabi.LandlockMakeDir, changed("/d/x"), false}, // only the object
		{"/d/x", linuxabi.LandlockTruncate, changed("/d/x"), true}, // the object
		{"/d/x", linuxabi.LandlockTruncate, changed("/d"), false},  // not its directory
		{"/d/x", linuxabi.LandlockRemoveFile | linuxabi.LandlockMakeReg, changed("/e", "/e/x"), false},
	} {
		if got := namesChanged(tc.path, uint32(tc.access), tc.c, false); got != tc.want {
			t.Errorf("namesChanged(%s, %v, ...) = %v, want %v", tc.path, linuxabi.LandlockFSNames(tc.access), got, tc.want)
		}
	}
}
