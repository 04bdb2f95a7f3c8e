package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
)

// recordFilesIn records argv in dir with files on and returns a profile
// that allows every syscall: the tests below are about its Landlock
// rules alone.
func recordFilesIn(t *testing.T, dir string, argv ...string) *profiles.Profile {
	t.Helper()
	t.Chdir(dir)
	var out bytes.Buffer
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: argv, Files: true, Stdout: &out, Stderr: &out},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil || res.Recording.ExitStatus != 0 {
		t.Fatalf("record %v: %v (exit %d)\n%s", argv, err, res.Recording.ExitStatus, out.Bytes())
	}
	p := res.Profile
	p.DefaultAction, p.Syscalls = profiles.ActAllow, []profiles.Syscall{}
	return p
}

// runIn runs argv in dir under p with Landlock required.
func runIn(t *testing.T, p *profiles.Profile, dir string, argv ...string) (int, string) {
	t.Helper()
	t.Chdir(dir)
	var out bytes.Buffer
	ex, err := Run(context.Background(), p, argv, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
	if err != nil {
		t.Fatalf("run %v: %v\n%s", argv, err, out.Bytes())
	}
	return ex.Status, out.String()
}

// files makes the files (contents by path, relative to root) and returns
// root with symbolic links resolved.
func files(t *testing.T, root string, contents map[string]string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range contents {
		p := filepath.Join(root, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestTemplatesFollowInput: rules learned from `tar czf a.tgz src` and
// `sort -o out/s small` let the same jobs through on other inputs in
// another directory (the recorded paths are not there), and refuse what
// the new command line does not name: a file listed in a file (tar -T,
// sort --files0-from) standing for /etc/shadow, and an output template
// pointed at / or $HOME, which would be a write right on the whole of
// either (the file is not created).
func TestTemplatesFollowInput(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "tar")
	testenv.RequireTool(t, "sort")
	root := files(t, t.TempDir(), map[string]string{
		"rec/src/a": "a\n", "rec/src/sub/b": "b\n", "rec/small": "b\na\n", "rec/out/": "",
		"other/src2/c": "c\n", "other/big": strings.Repeat("big\n", 50000), "other/in2/big": "z\ny\n", "other/out2/": "",
		"other/names": "../secret/shadow\n", "other/list0": "../secret/shadow\x00",
		"secret/shadow": "root:secret\n", "home/": "",
	})
	rec, other := filepath.Join(root, "rec"), filepath.Join(root, "other")
	tar := recordFilesIn(t, rec, "tar", "czf", "a.tgz", "src")
	sort := recordFilesIn(t, rec, "sort", "-o", "out/s", "small")
	attack := "/sysrec-template-attack-" + strconv.Itoa(os.Getpid()) + ".tgz"
	t.Cleanup(func() { os.Remove(attack) })
	home := filepath.Join(root, "home")
	t.Setenv("HOME", home)

	for _, tc := range []struct {
		name    string
		p       *profiles.Profile
		argv    []string
		pass    bool
		created string // with pass false: a file that must not exist after
	}{
		{"tar, other inputs", tar, []string{"tar", "czf", "b.tgz", "src2", "big"}, true, ""},
		{"tar, a file listed in a file", tar, []string{"tar", "czf", "c.tgz", "-T", "names"}, false, ""},
		{"tar, output in /", tar, []string{"tar", "czf", attack, "src2"}, false, attack},
		{"tar, output in $HOME", tar, []string{"tar", "czf", filepath.Join(home, "h.tgz"), "src2"}, false, filepath.Join(home, "h.tgz")},
		{"sort, other input and output", sort, []string{"sort", "-o", "out2/t", "in2/big"}, true, ""},
		{"sort, a file listed in a file", sort, []string{"sort", "-o", "out2/u", "--files0-from=list0"}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := runIn(t, tc.p, other, tc.argv...)
			if tc.pass {
				if st != 0 {
					t.Fatalf("status %d\n%s", st, out)
				}
				return
			}
			if st == 0 || !strings.Contains(out, "Permission denied") {
				t.Errorf("not refused: status %d\n%s", st, out)
			}
			if strings.Contains(out, "root:secret") {
				t.Errorf("the secret was read:\n%s", out)
			}
			if tc.created != "" {
				if _, err := os.Stat(tc.created); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s was created (%v)", tc.created, err)
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(other, "out2/t")); err != nil || string(b) != "y\nz\n" {
		t.Errorf("sorted output %q, %v", b, err)
	}
}

// TestTemplatesPort: a server recorded listening on the port its command
// line names listens on the port the next command line names; a port
// its command line does not name is refused.
func TestTemplatesPort(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	port := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	dir := t.TempDir()
	p := recordFilesIn(t, dir, target, "tcp", port(), "listen")
	if n := p.Network.Rules; len(n) != 1 || n[0].From != "$ARG2" {
		t.Fatalf("network rules %+v, want bind_tcp from $ARG2", n)
	}
	again := port()
	if st, out := runIn(t, p, dir, target, "tcp", again, "listen"); st != 0 || !strings.Contains(out, "listened on "+again) {
		t.Errorf("on port %s: status %d\n%s", again, st, out)
	}
	if st, out := runIn(t, p, dir, target, "tcp", port(), "listen-next"); st == 0 || !strings.Contains(out, "permission denied") {
		t.Errorf("the port after the one named: status %d\n%s", st, out)
	}
}

// TestExecutableBeside: a program installed in a data directory, recorded
// doing something else, cannot read the data beside it. Before, the
// loader's read of the program's own file widened to the directory.
func TestExecutableBeside(t *testing.T) {
	testenv.RequireRoot(t)
	dash := testenv.RequireTool(t, "dash")
	root := files(t, t.TempDir(), map[string]string{"data/secret": "root:secret\n"})
	b, err := os.ReadFile(dash)
	if err != nil {
		t.Fatal(err)
	}
	sh := filepath.Join(root, "data", "sh")
	if err := os.WriteFile(sh, b, 0o755); err != nil {
		t.Fatal(err)
	}
	p := recordFilesIn(t, root, sh, "-c", "echo hi")
	st, out := runIn(t, p, root, sh, "-c", `read x < "$1" && echo "$x"`, "sh", filepath.Join(root, "data", "secret"))
	if st == 0 || strings.Contains(out, "root:secret") || !strings.Contains(out, "Permission denied") {
		t.Errorf("the program read the file beside it: status %d\n%s", st, out)
	}
}

// TestPrivateTmpdir: a program that makes its temporary files in
// $TMPDIR (mktemp) gets a private TMPDIR at run time, so it works
// without a write right on /tmp, which stays whole: the same program
// told to use /tmp itself is refused. The private directory is gone
// afterwards.
func TestPrivateTmpdir(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mktemp")
	dir := t.TempDir()
	p := recordFilesIn(t, dir, "mktemp")
	if !p.Uses("TMPDIR") {
		t.Fatalf("no $TMPDIR rule: %+v", p.Filesystem.Rules)
	}
	t.Setenv("TMPDIR", "")
	st, out := runIn(t, p, dir, "mktemp")
	made := strings.TrimSpace(out)
	if st != 0 || !strings.HasPrefix(made, filepath.Join(os.TempDir(), "sysrec-tmp-")) {
		t.Fatalf("mktemp: status %d: %s", st, out)
	}
	if _, err := os.Stat(filepath.Dir(made)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the private TMPDIR %s is left (%v)", filepath.Dir(made), err)
	}
	if st, out := runIn(t, p, dir, "mktemp", "-p", "/tmp"); st == 0 || !strings.Contains(out, "Permission denied") {
		t.Errorf("mktemp -p /tmp: status %d: %s", st, out)
		if made := strings.TrimSpace(out); strings.HasPrefix(made, "/tmp/tmp.") {
			os.Remove(made)
		}
	}
}

// openPTY returns a new pseudo-terminal's master and its terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// TestTerminal: a program given a terminal may open it and use its
// terminal ioctls ($TTY, the run's terminal, with ioctl_dev), but not
// write to another terminal. Before, the recorded /dev/pts/N became
// /dev/pts: every terminal on the machine.
func TestTerminal(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "stty")
	_, a := openPTY(t)
	_, b := openPTY(t)
	dir := t.TempDir()
	t.Chdir(dir)
	var out bytes.Buffer
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: []string{"sh", "-c", `echo hi > "$(tty)"; stty -g > /dev/null`}, Files: true, Stdin: a, Stdout: a, Stderr: &out},
		Output:   filepath.Join(dir, "p.json"),
	})
	if err != nil || res.Recording.ExitStatus != 0 {
		t.Fatalf("record: %v\n%s", err, out.Bytes())
	}
	p := res.Profile
	p.DefaultAction, p.Syscalls = profiles.ActAllow, []profiles.Syscall{}
	run := func(script string, args ...string) (int, string) {
		var errs bytes.Buffer
		ex, err := Run(context.Background(), p, append([]string{"sh", "-c", script, "sh"}, args...), RunOptions{Stdio: Stdio{In: a, Out: a, Err: &errs}, Landlock: enforce.LandlockRequired})
		if err != nil {
			t.Fatal(err)
		}
		return ex.Status, errs.String()
	}
	if st, errs := run(`stty size < "$(tty)"`); st != 0 {
		t.Errorf("stty on its own terminal: status %d: %s", st, errs)
	}
	if st, errs := run(`echo intruder > "$1"`, b.Name()); st == 0 || !strings.Contains(errs, "Permission denied") {
		t.Errorf("wrote to another terminal: status %d: %s", st, errs)
	}
}

// TestStandardDevices: the devices of the baseline answer a program's
// ioctls (isatty on /dev/null: ENOTTY; random's requests: its own
// answer) instead of Landlock's EACCES, in a run that never touched
// them; a device outside the baseline stays refused.
func TestStandardDevices(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "stty")
	dir := t.TempDir()
	p := recordFilesIn(t, dir, "stty", "--version")
	for _, tc := range []struct {
		dev, want string
	}{
		{"/dev/null", "Inappropriate ioctl"},
		{"/dev/zero", "Inappropriate ioctl"},
		{"/dev/urandom", "Invalid argument"},
		{"/dev/random", "Invalid argument"},
		{"/dev/kmsg", "Permission denied"},
	} {
		st, out := runIn(t, p, dir, "stty", "-F", tc.dev)
		if st == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("stty -F %s: status %d, want %q: %s", tc.dev, st, tc.want, out)
		}
	}
}

// TestOwnPseudoTerminal: script makes its pseudo-terminal with
// /dev/ptmx and opens the other side with ioctl(TIOCGPTPEER), which
// Landlock checks as an open of /dev/pts/N and the recorder does not
// see as a path; the profile recorded from one run lets the next open
// it.
func TestOwnPseudoTerminal(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "script")
	dir := files(t, t.TempDir(), nil)
	p := recordFilesIn(t, dir, "script", "-q", "-e", "-c", "true", "a.log")
	if st, out := runIn(t, p, dir, "script", "-q", "-e", "-c", "true", "b.log"); st != 0 {
		t.Errorf("script under its own profile: status %d: %s", st, out)
	}
}

// TestWordsAttack: under the profile of sh -c "cp a.txt b.txt", which
// wrote b.txt in place, the next command string's input stays read
// only: a target that writes the file cp is given to read (the shell,
// standing for a cp its input compromised) is refused. $WORDS[cp] stood
// for every operand of cp, the input too, and the file was overwritten
// (the third review's).
func TestWordsAttack(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "cp")
	sh := testenv.RequireTool(t, "sh")
	rec := files(t, t.TempDir(), map[string]string{"a.txt": "a\n", "b.txt": "b\n"})
	p := recordFilesIn(t, rec, sh, "-c", "cp a.txt b.txt")
	next := files(t, t.TempDir(), map[string]string{"precious.db": "precious\n", "b2.txt": "old\n"})
	precious := filepath.Join(next, "precious.db")
	st, out := runIn(t, p, next, sh, "-c", `cp `+precious+` b2.txt; echo pwned > "$0"; echo done`, precious)
	if st != 0 || !strings.Contains(out, "done") {
		t.Fatalf("status %d\n%s", st, out)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "precious\n" {
		t.Errorf("the input cp was given was written: %q %v\n%s\n%s", b, err, out, profiles.Format(p))
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("the write was not refused:\n%s", out)
	}
}
