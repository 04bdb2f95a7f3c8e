package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// madeBin builds testdata/madefiles/made.c: less's history and php's
// mkstemp lock, and the attacks on the supervisor that makes them.
func madeBin(t *testing.T) string {
	t.Helper()
	testenv.RequireRoot(t)
	gcc := testenv.RequireTool(t, "gcc")
	bin := filepath.Join(t.TempDir(), "made")
	if out, err := exec.Command(gcc, "-O2", "-pthread", "-o", bin, filepath.Join("..", "testdata", "madefiles", "made.c")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return bin
}

// madeHome sets $HOME to a fresh directory, resolved.
func madeHome(t *testing.T) string {
	t.Helper()
	h, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", h)
	return h
}

// recordMade records argv with files on, syscalls and all.
func recordMade(t *testing.T, argv ...string) *profiles.Profile {
	t.Helper()
	var out bytes.Buffer
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: argv, Files: true, Env: os.Environ(), Stdout: &out, Stderr: &out},
		Reduce:   reducer.Options{Runtime: RuntimeAuto},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil || res.Recording.ExitStatus != 0 {
		t.Fatalf("record %v: %v\n%s", argv, err, out.Bytes())
	}
	return res.Profile
}

// runMade runs argv under p, Landlock required, and returns its exit
// status and output.
func runMade(t *testing.T, p *profiles.Profile, argv ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	ex, err := Run(context.Background(), p, argv, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
	if err != nil {
		t.Fatalf("run %v: %v\n%s", argv, err, out.Bytes())
	}
	return ex.Status, out.String()
}

// TestMadeHeldOut: a program's own history file in $HOME, replaced as
// less replaces ~/.lesshst, and a mkstemp lock in /tmp as php's opcache
// makes: recorded once, they are made files, and the next runs (another
// $HOME) pass, where Landlock alone refused them.
func TestMadeHeldOut(t *testing.T) {
	bin := madeBin(t)
	t.Run("history", func(t *testing.T) {
		madeHome(t)
		p := recordMade(t, bin, "history", "made")
		var made []string
		for _, m := range p.Filesystem.Made {
			made = append(made, m.Path)
		}
		if want := []string{"$HOME/.madehsQ", "$HOME/.madehst"}; !slices.Equal(made, want) {
			t.Fatalf("made %q, want %q", made, want)
		}
		h := madeHome(t)
		fds := openFDs(t)
		for i, want := range []string{"ok 0 old bytes", "ok 6 old bytes"} {
			if st, out := runMade(t, p, bin, "history", "made"); st != 0 || !strings.HasPrefix(out, want) {
				t.Fatalf("run %d: status %d, want %q\n%s", i+1, st, want, out)
			}
		}
		if n := openFDs(t); n != fds {
			t.Errorf("%d descriptors open after the runs, %d before", n, fds)
		}
		if b, err := os.ReadFile(filepath.Join(h, ".madehst")); err != nil || string(b) != "entry\nentry\n" {
			t.Errorf("history %q, %v", b, err)
		}
		// Without the supervisor, Landlock refuses the same run.
		q := p.Clone()
		q.Filesystem.Made = nil
		if st, out := runMade(t, q, bin, "history", "made"); st == 0 || !strings.Contains(out, "Permission denied") {
			t.Errorf("without made files: status %d\n%s", st, out)
		}
	})
	t.Run("mkstemp", func(t *testing.T) {
		madeHome(t)
		p := recordMade(t, bin, "mkstemp")
		if !slices.ContainsFunc(p.Filesystem.Made, func(m profiles.MadeFile) bool { return m.Path == "/tmp/.Test.XXXXXX" }) {
			t.Fatalf("made %+v, want /tmp/.Test.XXXXXX", p.Filesystem.Made)
		}
		for i := range 2 {
			if st, out := runMade(t, p, bin, "mkstemp"); st != 0 || out != "ok\n" {
				t.Fatalf("run %d: status %d\n%s", i+1, st, out)
			}
		}
	})
}

// TestMadeLoginNames: a recorded program that writes files other
// programs run or trust (an alias file bash sources, a debugger's init
// file, less's key file whose LESSOPEN runs a command, a database
// client's...) gets no made file for them, so the next run, confined,
// cannot plant them.
func TestMadeLoginNames(t *testing.T) {
	bin := madeBin(t)
	names := []string{".bash_aliases", ".lesskey", ".gdbinit", ".pdbrc", ".psqlrc", ".hgrc", ".selected_editor", ".Xauthority", ".git-credentials"}
	// And in /tmp, a Kerberos credential cache (its clients trust it).
	ccache := "/tmp/krb5cc_sysrec_test"
	t.Cleanup(func() { os.Remove(ccache) })
	args := func(h string) []string {
		a := []string{bin, "touch", ccache}
		for _, n := range names {
			a = append(a, filepath.Join(h, n))
		}
		return a
	}
	p := recordMade(t, args(madeHome(t))...)
	for _, m := range p.Filesystem.Made {
		t.Errorf("made %s", m.Path)
	}
	if err := os.Remove(ccache); err != nil {
		t.Fatal(err)
	}
	h := madeHome(t)
	// Their rules (file rules of their own, not made files) are for
	// paths this home lacks: warned of, then refused.
	if st, out := runMade(t, p, args(h)...); st == 0 || !strings.HasSuffix(out, "\ncreate: Permission denied\n") {
		t.Errorf("run: status %d: %q", st, out)
	}
	if got := dirNames(t, h); len(got) != 0 {
		t.Errorf("home holds %q", got)
	}
	if _, err := os.Stat(ccache); err == nil {
		t.Errorf("%s made", ccache)
	}
}

// TestMadeScratchLoginNames: a recorded program that makes and removes
// ~/.abcdef, as mkstemp("~/.XXXXXX") does, gets the scratch pattern
// $HOME/.XXXXXX, which stands for ~/.zshenv and ~/.pgpass too: the
// supervisor makes none of those.
func TestMadeScratchLoginNames(t *testing.T) {
	bin := madeBin(t)
	p := recordMade(t, bin, "scratch", madeHome(t)+"/.XXXXXX")
	// The reducer keeps a dot and six letters exact (the pattern would
	// stand for every seven-character dotfile); a profile may still say
	// $HOME/.XXXXXX, and the supervisor never makes a login name for it.
	if slices.ContainsFunc(p.Filesystem.Made, func(m profiles.MadeFile) bool { return m.Path == "$HOME/.XXXXXX" }) {
		t.Fatalf("made %+v: the reducer proposed $HOME/.XXXXXX", p.Filesystem.Made)
	}
	p.Filesystem.Made = []profiles.MadeFile{{Path: "$HOME/.XXXXXX"}}
	h := madeHome(t)
	for _, name := range []string{".zshenv", ".zlogin", ".pgpass", ".rhosts", ".psqlrc"} {
		if _, out := runMade(t, p, bin, "excl", filepath.Join(h, name)); !strings.HasSuffix(out, "create: Permission denied\n") {
			t.Errorf("create %s: %q", name, out)
		}
	}
	if names := dirNames(t, h); len(names) != 0 {
		t.Errorf("home holds %q", names)
	}
	if st, out := runMade(t, p, bin, "scratch", h+"/.XXXXXX"); st != 0 || !strings.HasSuffix(out, "ok\n") {
		t.Errorf("scratch: status %d: %q", st, out)
	}
}

// attackProfile allows every syscall and reads everywhere, and makes
// $HOME/.lesshst, $HOME/.lesshsQ and /tmp/.Test.XXXXXX only.
func attackProfile() *profiles.Profile {
	return &profiles.Profile{Version: 2, Name: "made", Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow,
		Filesystem: &profiles.Filesystem{
			Rules: []profiles.PathRule{{Path: "/", Access: []string{"execute", "read_file", "read_dir"}}},
			Made:  []profiles.MadeFile{{Path: "$HOME/.lesshst"}, {Path: "$HOME/.lesshsQ"}, {Path: "/tmp/.Test.XXXXXX"}},
		}}
}

// TestMadeAttacks: the target, under a profile with made files, tries
// to have the supervisor make, replace or remove what the profile does
// not name; each attempt fails, and the made files still work.
func TestMadeAttacks(t *testing.T) {
	bin := madeBin(t)
	p := attackProfile()
	run := func(t *testing.T, args ...string) string {
		t.Helper()
		_, out := runMade(t, p, append([]string{bin}, args...)...)
		return strings.TrimSpace(out)
	}
	t.Run("other names", func(t *testing.T) {
		h := madeHome(t)
		for _, name := range []string{".bashrc", ".lesshst2", ".lesshs"} {
			if out := run(t, "create", filepath.Join(h, name)); out != "create: Permission denied" {
				t.Errorf("create %s: %q", name, out)
			}
		}
		// Not clean: the kernel resolves it (x is not there).
		if out := run(t, "create", h+"/x/../.lesshst"); out != "create: No such file or directory" {
			t.Errorf("create x/../.lesshst: %q", out)
		}
		if out := run(t, "create", filepath.Join(h, ".lesshst")); out != "ok mode 644" {
			t.Errorf("create .lesshst: %q", out)
		}
		if out := run(t, "openat2", filepath.Join(h, ".bashrc")); out != "create: Permission denied" {
			t.Errorf("openat2 .bashrc: %q", out)
		}
		if out := run(t, "openat2", filepath.Join(h, ".lesshsQ")); out != "ok mode 640 cloexec" {
			t.Errorf("openat2 .lesshsQ: %q", out)
		}
		if names := dirNames(t, h); !slices.Equal(names, []string{".lesshsQ", ".lesshst"}) {
			t.Errorf("home holds %q", names)
		}
	})
	t.Run("rename over another", func(t *testing.T) {
		h := madeHome(t)
		write(t, filepath.Join(h, ".profile"), "safe")
		if out := run(t, "create", filepath.Join(h, ".lesshsQ")); out != "ok mode 644" {
			t.Fatalf("create .lesshsQ: %q", out)
		}
		for _, to := range []string{".profile", ".other"} {
			if out := run(t, "rename", filepath.Join(h, ".lesshsQ"), filepath.Join(h, to)); out != "rename: Permission denied" {
				t.Errorf("rename over %s: %q", to, out)
			}
		}
		if out := run(t, "rename", filepath.Join(h, ".lesshsQ"), filepath.Join(h, ".lesshst")); out != "ok" {
			t.Errorf("rename to .lesshst: %q", out)
		}
		if b, _ := os.ReadFile(filepath.Join(h, ".profile")); string(b) != "safe" {
			t.Errorf(".profile: %q", b)
		}
	})
	t.Run("race", func(t *testing.T) {
		h := madeHome(t)
		good, bad := filepath.Join(h, ".lesshst"), filepath.Join(h, ".bashrcx")
		out := run(t, "race", good, bad, "3000")
		if !strings.HasPrefix(out, "ok ") || !strings.HasSuffix(out, " 0 wrong") || strings.HasPrefix(out, "ok 0 opened") {
			t.Errorf("race: %q", out)
		}
		if names := dirNames(t, h); !slices.Equal(names, []string{".lesshst"}) {
			t.Errorf("home holds %q", names)
		}
	})
	t.Run("planted links", func(t *testing.T) {
		h := madeHome(t)
		secret := filepath.Join(h, "secret")
		write(t, secret, "key")
		// Planted before the run: the Landlock rule on the made file
		// refuses to start (a rule never names a link).
		if err := os.Symlink(secret, filepath.Join(h, ".lesshst")); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Run(context.Background(), p, []string{bin, "append", filepath.Join(h, ".lesshst"), "pwned"}, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired}); err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("run with a symlink at the made name: %v\n%s", err, out.Bytes())
		}
		os.Remove(filepath.Join(h, ".lesshst"))
		// Planted once the rules are made: the supervisor refuses.
		for _, plant := range []struct {
			name, want string
			link       func(string, string) error
		}{
			{".lesshst", "open: Too many levels of symbolic links", os.Symlink},
			{".lesshsQ", "open: Operation not permitted", os.Link},
		} {
			if got := runPlanted(t, p, func() error { return plant.link(secret, filepath.Join(h, plant.name)) }, bin, "wait-append", filepath.Join(h, plant.name), "pwned"); got != plant.want {
				t.Errorf("through %s: %q, want %q", plant.name, got, plant.want)
			}
			os.Remove(filepath.Join(h, plant.name))
		}
		if b, _ := os.ReadFile(secret); string(b) != "key" {
			t.Errorf("secret: %q", b)
		}
	})
	t.Run("directory at the made name", func(t *testing.T) {
		h := madeHome(t)
		if err := os.Mkdir(filepath.Join(h, ".lesshst"), 0o755); err != nil {
			t.Fatal(err)
		}
		inside := filepath.Join(h, ".lesshst", "notes")
		write(t, inside, "mine")
		// The made file's own rule is for a regular file: it grants
		// nothing beneath a directory.
		if out := run(t, "append", inside, "pwned"); out != "open: Permission denied" {
			t.Errorf("append beneath: %q", out)
		}
		if b, _ := os.ReadFile(inside); string(b) != "mine" {
			t.Errorf("%s: %q", inside, b)
		}
	})
	t.Run("unlink a scratch name not made", func(t *testing.T) {
		madeHome(t)
		f, err := os.CreateTemp("/tmp", ".Test.")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		t.Cleanup(func() { os.Remove(f.Name()) })
		other := "/tmp/.Test.Ab12Cd"
		if err := os.Rename(f.Name(), other); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(other) })
		if out := run(t, "unlink", other); out != "unlink: Permission denied" {
			t.Errorf("unlink %s: %q", other, out)
		}
		if _, err := os.Stat(other); err != nil {
			t.Errorf("%s: %v", other, err)
		}
		// And a scratch name is made only new.
		if out := run(t, "create", other); out != "create: Permission denied" {
			t.Errorf("open %s without O_EXCL: %q", other, out)
		}
	})
	t.Run("inode reused", func(t *testing.T) {
		// The supervisor removes a mkstemp name only if it made that
		// file: a file that got the inode of one it made, once that
		// one is gone (ext4 hands out a freed inode at once), is
		// another's.
		madeHome(t)
		d := ext4Dir(t)
		q := attackProfile()
		q.Filesystem.Made = []profiles.MadeFile{{Path: d + "/.Test.XXXXXX"}, {Path: d + "/lock"}}
		victim := filepath.Join(d, ".Test.Victim")
		var ino uint64
		out := runPlanted(t, q, func() error {
			var st unix.Stat_t
			write(t, victim, "another's")
			err := unix.Stat(victim, &st)
			ino = st.Ino
			return err
		}, bin, "reuse", filepath.Join(d, ".Test.Aaaaaa"), filepath.Join(d, "lock"), victim)
		if want := fmt.Sprintf("freed %d\nunlink: Permission denied", ino); out != want {
			t.Errorf("target: %q, want %q", out, want)
		}
		if b, err := os.ReadFile(victim); string(b) != "another's" {
			t.Errorf("%s: %q, %v", victim, b, err)
		}
	})
	t.Run("directory replaced with a link", func(t *testing.T) {
		// An earlier run, granted ~/.cache, replaced the made files'
		// directory with a link to ~/.ssh.
		h := madeHome(t)
		for _, d := range []string{".ssh", ".cache"} {
			if err := os.Mkdir(filepath.Join(h, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(filepath.Join(h, ".ssh"), filepath.Join(h, ".cache", "app")); err != nil {
			t.Fatal(err)
		}
		q := attackProfile()
		q.Filesystem.Made = []profiles.MadeFile{{Path: "$HOME/.cache/app/.tXXXXXX"}}
		var out bytes.Buffer
		_, err := Run(context.Background(), q, []string{bin, "excl", filepath.Join(h, ".cache", "app", ".tAbcdef")}, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
		if err == nil || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("run: %v\n%s", err, out.Bytes())
		}
		if names := dirNames(t, filepath.Join(h, ".ssh")); len(names) != 0 {
			t.Errorf("~/.ssh holds %q", names)
		}
	})
	t.Run("setuid mode", func(t *testing.T) {
		h := madeHome(t)
		if out := run(t, "create", filepath.Join(h, ".lesshst"), "6777"); out != "ok mode 755" {
			t.Errorf("create 6777: %q (umask 022)", out)
		}
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(h, ".lesshst"), &st); err != nil || st.Mode&0o7777 != 0o755 {
			t.Errorf("mode %o, %v", st.Mode&0o7777, err)
		}
	})
	t.Run("rights given up", func(t *testing.T) {
		// A root target that gave up its capabilities, or moved to a
		// user namespace of its own, keeps uid 0: the supervisor (root,
		// every capability) must not make a file where the target's
		// own rights could not, here in a home of another user's.
		h := madeHome(t)
		if err := os.Chown(h, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(h, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, how := range []string{"nocaps", "userns"} {
			if out := run(t, how, "create", filepath.Join(h, ".lesshst")); out != "create: Permission denied" {
				t.Errorf("%s: create .lesshst: %q", how, out)
			}
		}
		if names := dirNames(t, h); len(names) != 0 {
			t.Errorf("home holds %q", names)
		}
		if out := run(t, "create", filepath.Join(h, ".lesshst")); out != "ok mode 644" {
			t.Errorf("with its capabilities: create .lesshst: %q", out)
		}
	})
	t.Run("a domain of its own", func(t *testing.T) {
		// A target that restricts itself further (no write anywhere)
		// gets nothing made by the supervisor, which acts outside every
		// domain: from then on the kernel decides.
		h := madeHome(t)
		if out := run(t, "sandbox", "create", filepath.Join(h, ".lesshst")); out != "create: Permission denied" {
			t.Errorf("sandboxed: create .lesshst: %q", out)
		}
		if names := dirNames(t, h); len(names) != 0 {
			t.Errorf("home holds %q", names)
		}
	})
	t.Run("login file of a home not known as one", func(t *testing.T) {
		// $CWD, $TMPDIR or a path may be the home of an account sysrec
		// does not know as one (a service's, /var/lib/postgresql):
		// its .bashrc and .ssh are no one's to make either.
		madeHome(t)
		svc, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(svc, ".ssh"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Chdir(svc)
		q := attackProfile()
		for _, m := range []string{"$CWD/.bashrc", svc + "/.profile"} {
			q.Filesystem.Made = []profiles.MadeFile{{Path: m}}
			var out bytes.Buffer
			_, err := Run(context.Background(), q, []string{bin, "create", filepath.Join(svc, path.Base(m))}, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
			if err == nil || !strings.Contains(err.Error(), "never made") {
				t.Errorf("made %s: %v\n%s", m, err, out.Bytes())
			}
		}
		// Known as a secret directory once instantiated only.
		t.Chdir(filepath.Join(svc, ".ssh"))
		q.Filesystem.Made = []profiles.MadeFile{{Path: "$CWD/authorized_keys"}}
		if _, out := runMade(t, q, bin, "create", filepath.Join(svc, ".ssh", "authorized_keys")); !strings.HasSuffix(out, "\ncreate: Permission denied\n") {
			t.Errorf("made $CWD/authorized_keys in .ssh: %q", out)
		}
		if names := append(dirNames(t, svc), dirNames(t, filepath.Join(svc, ".ssh"))...); !slices.Equal(names, []string{".ssh"}) {
			t.Errorf("%s holds %q", svc, names)
		}
	})
	t.Run("directory of start-up files", func(t *testing.T) {
		// $CWD is the person's choice, but a made file's directory is
		// never one whose files a program runs at start (Fedora's
		// .bashrc sources ~/.bashrc.d/*).
		h := madeHome(t)
		d := filepath.Join(h, ".bashrc.d")
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(d)
		q := attackProfile()
		q.Filesystem.Made = []profiles.MadeFile{{Path: "$CWD/app.sh"}}
		if _, out := runMade(t, q, bin, "create", filepath.Join(d, "app.sh")); !strings.HasSuffix(out, "\ncreate: Permission denied\n") {
			t.Errorf("create in %s: %q", d, out)
		}
		if names := dirNames(t, d); len(names) != 0 {
			t.Errorf("%s holds %q", d, names)
		}
	})
	t.Run("dirfd elsewhere", func(t *testing.T) {
		h := madeHome(t)
		other := t.TempDir()
		if out := run(t, "dirfd", other, ".lesshst"); out != "create: Permission denied" {
			t.Errorf("openat(other, .lesshst): %q", out)
		}
		if names := dirNames(t, h); len(names) != 0 {
			t.Errorf("home holds %q", names)
		}
		if names := dirNames(t, other); len(names) != 0 {
			t.Errorf("%s holds %q", other, names)
		}
		if out := run(t, "dirfd", h, ".lesshst"); out != "ok" {
			t.Errorf("openat(home, .lesshst): %q", out)
		}
	})
}

// ext4Dir mounts a fresh ext4 file system (it reuses a freed inode
// number at once, as /tmp on ext4 does; its 256-byte inodes keep a
// birth time) and returns its root.
func ext4Dir(t *testing.T) string {
	t.Helper()
	mkfs := testenv.RequireTool(t, "mkfs.ext4")
	mount := testenv.RequireTool(t, "mount")
	umount := testenv.RequireTool(t, "umount")
	img := filepath.Join(t.TempDir(), "ext4.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-I", "256", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	d := t.TempDir()
	if out, err := exec.Command(mount, "-o", "loop", img, d).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(umount, d).CombinedOutput(); err != nil {
			t.Errorf("umount: %v\n%s", err, out)
		}
	})
	return d
}

// runPlanted runs argv (a wait- mode of made) under p, and once it is
// running calls plant, then lets it go on; it returns the last line the
// target printed.
func runPlanted(t *testing.T, p *profiles.Profile, plant func() error, argv ...string) string {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inW.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), p, argv, RunOptions{Stdio: Stdio{In: inR, Out: outW, Err: &stderr}, Landlock: enforce.LandlockRequired})
		inR.Close()
		outW.Close()
		done <- err
	}()
	r := bufio.NewReader(outR)
	first := make(chan string, 1)
	go func() {
		l, _ := r.ReadString('\n')
		first <- l
	}()
	select {
	case l := <-first:
		if l != "ready\n" {
			err := <-done
			t.Fatalf("target: %q, %v\n%s", l, err, stderr.Bytes())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("target not ready within 30s")
	}
	if err := plant(); err != nil {
		t.Fatal(err)
	}
	inW.Write([]byte("go\n"))
	rest, _ := io.ReadAll(r)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(rest))
}

func dirNames(t *testing.T, d string) []string {
	t.Helper()
	es, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMadeCost measures an open (and close) of a made file with
// O_CREAT, which the supervisor makes, against the same open of a file
// in a directory Landlock grants (sent to the supervisor, which lets it
// continue) and without O_CREAT (never sent), in one run of one process.
func TestMadeCost(t *testing.T) {
	bin := madeBin(t)
	h := madeHome(t)
	plain := filepath.Join(t.TempDir(), "plain")
	p := attackProfile()
	p.Filesystem.Rules = append(p.Filesystem.Rules, profiles.PathRule{Path: filepath.Dir(plain), Access: []string{"write_file", "make_reg"}})
	_, out := runMade(t, p, bin, "cost", "6000", filepath.Join(h, ".lesshst"), plain)
	var made, cont, direct int
	if _, err := fmt.Sscanf(out, "ok %d %d %d", &made, &cont, &direct); err != nil {
		t.Fatalf("cost: %q: %v", out, err)
	}
	t.Logf("open+close: O_CREAT of a made file (the supervisor opens it) %d ns; O_CREAT of a file Landlock grants (the supervisor lets it continue) %d ns; without O_CREAT (never sent) %d ns", made, cont, direct)
}

// TestMadeCheck: check reports no violation for what the supervisor of
// run makes (the made names), and the fragment of a profile without
// them brings them back as made files, not as rights on $HOME.
func TestMadeCheck(t *testing.T) {
	bin := madeBin(t)
	madeHome(t)
	p := recordMade(t, bin, "history", "made")
	h := madeHome(t)
	check := func(p *profiles.Profile) *CheckResult {
		t.Helper()
		var out bytes.Buffer
		res, err := Check(context.Background(), p, []string{bin, "history", "made"}, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockBestEffort, Home: h, Output: filepath.Join(t.TempDir(), "frag.json")})
		if err != nil || res.Exit.Status != 0 {
			t.Fatalf("check: %v\n%s", err, out.Bytes())
		}
		return res
	}
	if res := check(p); len(res.Files) != 0 || len(res.Violations) != 0 {
		t.Errorf("with made files: %q, %+v", refused(res), res.Violations)
	}
	q := p.Clone()
	q.Filesystem.Made = nil
	res := check(q)
	if got := refused(res); !slices.Contains(got, "make_reg "+filepath.Join(h, ".madehst")) {
		t.Errorf("without made files: %q", got)
	}
	var made []string
	for _, m := range res.Fragment.Filesystem.Made {
		made = append(made, m.Path)
	}
	if want := []string{"$HOME/.madehsQ", "$HOME/.madehst"}; !slices.Equal(made, want) || len(res.Fragment.Filesystem.NotAllowed) != 0 {
		t.Errorf("fragment: made %q, not allowed %+v; want %q", made, res.Fragment.Filesystem.NotAllowed, want)
	}
}

// TestMadePhases: a profile with phases and made files runs under one
// filter and one supervisor: openat, an init entry here, makes the
// history file while the process is in init.
func TestMadePhases(t *testing.T) {
	bin := madeBin(t)
	h := madeHome(t)
	p := attackProfile()
	p.Version = 3
	p.Syscalls = []profiles.Syscall{{Name: "openat", Phase: profiles.PhaseInit}, {Name: "socket", Phase: profiles.PhaseInit},
		{Name: "io_uring_setup", Action: profiles.ActEPERM}, {Name: "io_uring_enter", Action: profiles.ActEPERM}, {Name: "bpf", Action: profiles.ActEPERM}}
	p.Phases = &profiles.Phases{Transition: profiles.DefaultTransition()}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"ok 0 old bytes", "ok 6 old bytes"} {
		if st, out := runMade(t, p, bin, "history", "less"); st != 0 || !strings.HasPrefix(out, want) {
			t.Fatalf("run %d: status %d, want %q\n%s", i+1, st, want, out)
		}
	}
	if names := dirNames(t, h); !slices.Equal(names, []string{".lesshst"}) {
		t.Errorf("home holds %q", names)
	}
}
