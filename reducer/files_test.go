package reducer

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// fa builds a FileAccess from right names.
func fa(path string, count uint64, rights ...string) profiles.FileAccess {
	m, err := linuxabi.ParseLandlockFS(rights)
	if err != nil {
		panic(err)
	}
	return profiles.FileAccess{Path: path, Access: m, Count: count}
}

func fsRec(files ...profiles.FileAccess) *profiles.Recording {
	return &profiles.Recording{Arch: "x86_64", Files: files}
}

// catFiles is what the recorder saw for `cat /etc/hostname` on Debian.
var catFiles = []profiles.FileAccess{
	fa("/etc/hostname", 1, "read_file"),
	fa("/etc/ld.so.cache", 1, "read_file"),
	fa("/usr/bin/cat", 1, "execute", "read_file"),
	fa("/usr/lib/locale/C.utf8/LC_CTYPE", 1, "read_file"),
	fa("/usr/lib/locale/C.utf8/LC_MESSAGES", 1, "read_dir"),
	fa("/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES", 1, "read_file"),
	fa("/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", 1, "read_file"),
	fa("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 1, "execute", "read_file"),
	fa("/usr/lib/x86_64-linux-gnu/libc.so.6", 1, "read_file"),
	fa("/dev/null", 2, "write_file"),
}

// rulesText is "path rights" per line, for comparing.
func rulesText(fs *profiles.Filesystem) string {
	var b strings.Builder
	for _, r := range fs.Rules {
		b.WriteString(r.Path + " " + strings.Join(r.Access, ",") + "\n")
	}
	return b.String()
}

// withheldText is filesystem.not_allowed as "path rights" per line.
func withheldText(fs *profiles.Filesystem) string {
	var b strings.Builder
	for _, w := range fs.NotAllowed {
		b.WriteString(w.Path + " " + strings.Join(w.Access, ",") + "\n")
	}
	for _, m := range fs.Made {
		b.WriteString("made " + m.Path + "\n")
	}
	return b.String()
}

func TestFilesystem(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level FSLevel
		home  string
		files []profiles.FileAccess
		want  string
		// withheld is filesystem.not_allowed as "path rights" lines.
		withheld string
	}{
		{"cat exact", FSExact, "", catFiles, `
/dev/null write_file
/etc/hostname read_file
/etc/ld.so.cache read_file
/usr/bin/cat execute,read_file
/usr/lib/locale/C.utf8/LC_CTYPE read_file
/usr/lib/locale/C.utf8/LC_MESSAGES read_dir
/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES read_file
/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache read_file
/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 execute,read_file
/usr/lib/x86_64-linux-gnu/libc.so.6 read_file
`, ""},
		// Reads under system trees stand for the package directory;
		// executes and writes stay exact; /etc files stay exact. The
		// program's own file is read by the loader: that says nothing
		// about the files beside it (/usr/bin/cat stays exact), unless
		// it is in a package directory (the loader's own).
		{"cat dirs", FSDirs, "", catFiles, `
/dev/null write_file
/etc/hostname read_file
/etc/ld.so.cache read_file
/usr/bin/cat execute,read_file
/usr/lib/locale read_file,read_dir
/usr/lib/x86_64-linux-gnu read_file
/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 execute
`, ""},
		// Files created in a directory: make_reg and the rights used on
		// them go to the directory; a file that was there keeps its own
		// rule; a removed file gives remove_file on its directory.
		{"writes", FSDirs, "", []profiles.FileAccess{
			fa("/srv/app/out/result-1234.txt", 3, "make_reg", "write_file", "truncate"),
			fa("/srv/app/out/result-1234.txt.tmp", 1, "make_reg", "write_file", "remove_file"),
			fa("/srv/app/log/app.log", 5, "write_file"),
			fa("/srv/app/lock", 1, "remove_file"),
		}, `
/srv/app remove_file
/srv/app/log/app.log write_file
/srv/app/out write_file,read_dir,make_reg,truncate
`, ""},
		// A temporary directory made by the target: everything done in
		// it goes to the directory above it, which existed.
		{"temp dir", FSExact, "", []profiles.FileAccess{
			fa("/srv/app/tmp/tmp.Xa81kq", 1, "make_dir", "remove_dir", "read_dir"),
			fa("/srv/app/tmp/tmp.Xa81kq/a", 2, "make_reg", "write_file", "remove_file"),
			fa("/srv/app/tmp/tmp.Xa81kq/sub", 1, "make_dir"),
			fa("/srv/app/tmp/tmp.Xa81kq/sub/b", 1, "make_reg", "write_file", "read_file"),
		}, `
/srv/app/tmp write_file,read_file,read_dir,remove_dir,remove_file,make_dir,make_reg,truncate
`, ""},
		// The same in /tmp, which is never written as a whole: no rule
		// (the directory is gone at the end), the rights withheld.
		{"temp dir in /tmp", FSExact, "", []profiles.FileAccess{
			fa("/tmp/tmp.Xa81kq", 1, "make_dir", "remove_dir", "read_dir"),
			fa("/tmp/tmp.Xa81kq/a", 2, "make_reg", "write_file", "remove_file"),
			fa("/tmp/tmp.Xa81kq/sub", 1, "make_dir"),
			fa("/tmp/tmp.Xa81kq/sub/b", 1, "make_reg", "write_file", "read_file"),
		}, "", `
/tmp write_file,read_file,read_dir,remove_dir,remove_file,make_dir,make_reg
`},
		// A file created in $HOME and kept: a rule on the file (it holds
		// once the file exists), make_reg on $HOME withheld; a file
		// removed there: remove_file withheld.
		// Files of the program's own made in $HOME and /tmp: made files
		// (run's supervisor makes them), a scratch name ending in six
		// letters or digits as mkstemp's; a file made as something
		// else, or moved across directories, stays withheld.
		{"created in home", FSDirs, "/home/u", []profiles.FileAccess{
			fa("/home/u/.myapp_history", 1, "make_reg", "write_file", "truncate"),
			fa("/home/u/.myapp.lock", 1, "make_reg", "write_file", "remove_file"),
			fa("/home/u/.fifo", 1, "make_fifo"),
			fa("/home/u/.moved", 1, "make_reg", "refer"),
			fa("/tmp/.ZendSem.aB3xYz", 1, "make_reg", "read_file", "write_file", "remove_file"),
		}, "", `
/home/u make_reg,make_fifo,refer
made $HOME/.myapp.lock
made $HOME/.myapp_history
made /tmp/.ZendSem.XXXXXX
`},
		// Directories made in / and in $HOME: make_dir withheld; what was
		// done inside a kept one is a rule on it.
		{"mkdir in / and home", FSDirs, "/home/u", []profiles.FileAccess{
			fa("/newdir", 1, "make_dir"),
			fa("/home/u/.myapp", 1, "make_dir"),
			fa("/home/u/.myapp/db", 1, "make_reg", "write_file", "read_file"),
		}, `
/home/u/.myapp write_file,read_file,read_dir,remove_file,make_dir,make_reg,make_sym
`, `
/ make_dir
/home/u write_file,read_file,make_dir,make_reg
`},
		// Secret and login directories of a home, /etc and any other
		// home are kept whole too; a directory of one program's own is
		// not.
		{"kept whole", FSDirs, "/home/u", []profiles.FileAccess{
			fa("/home/u/.ssh/authorized_keys", 1, "make_reg", "write_file"),
			fa("/home/u/.config/app.conf", 1, "make_reg", "write_file"),
			fa("/home/v/notes.txt", 1, "make_reg", "write_file"),
			fa("/etc/app.conf.new", 1, "make_reg", "write_file", "remove_file"),
			fa("/home/u/.cache/app/x", 1, "make_reg", "write_file"),
		}, `
/home/u/.cache/app write_file,read_dir,remove_file,make_reg,truncate
/home/u/.config/app.conf write_file
/home/u/.ssh/authorized_keys write_file
`, `
/etc write_file,remove_file,make_reg
/home/u/.config write_file,make_reg
/home/u/.ssh write_file,make_reg
made /home/v/notes.txt
`},
		// /proc/<pid>/... goes to /proc/self/..., a thread's entries to
		// /proc/thread-self/... (the pid differs every run); other /proc
		// files stay exact; the terminal the target was given is the
		// next run's ($TTY), not every pseudo-terminal.
		{"proc and pts", FSExact, "", []profiles.FileAccess{
			fa("/proc/4242/status", 1, "read_file"),
			fa("/proc/4242/task/4243/stat", 1, "read_file"),
			fa("/proc/4242/oom_score_adj", 1, "write_file", "read_file"),
			fa("/proc/meminfo", 1, "read_file"),
			fa("/dev/pts/7", 3, "read_file", "write_file", "ioctl_dev"),
			fa("/dev/tty", 1, "read_file", "write_file"),
		}, `
$TTY write_file,read_file,ioctl_dev
/dev/tty write_file,read_file
/proc/meminfo read_file
/proc/self/oom_score_adj write_file,read_file
/proc/self/status read_file
/proc/thread-self/stat read_file
`, ""},
		// A program that opens pseudo-terminals of its own (script,
		// tmux): /dev/pts.
		{"ptmx", FSExact, "", []profiles.FileAccess{
			fa("/dev/ptmx", 1, "read_file", "write_file", "ioctl_dev"),
			fa("/dev/pts/9", 3, "read_file", "write_file", "ioctl_dev"),
		}, `
/dev/ptmx write_file,read_file,ioctl_dev
/dev/pts write_file,read_file,ioctl_dev
`, ""},
		// ... whose other side it opens with ioctl(TIOCGPTPEER) (script
		// through openpty): Landlock checks that open on /dev/pts/N,
		// the recorder sees no path.
		{"ptmx peer", FSExact, "", []profiles.FileAccess{
			fa("/dev/ptmx", 1, "read_file", "write_file", "ioctl_dev"),
		}, `
/dev/ptmx write_file,read_file,ioctl_dev
/dev/pts write_file,read_file,ioctl_dev
`, ""},
		{"ptmx read only", FSExact, "", []profiles.FileAccess{
			fa("/dev/ptmx", 1, "read_file"),
		}, `
/dev/ptmx read_file
/dev/pts read_file
`, ""},
		// An executable outside the system trees: its own file exactly,
		// not the data beside it.
		{"program in a data directory", FSDirs, "", []profiles.FileAccess{
			fa("/srv/data/tool", 1, "execute", "read_file"),
			fa("/srv/lib/libtool.so", 1, "read_file"),
		}, `
/srv/data/tool execute,read_file
/srv/lib read_file
`, ""},
		// Reads in /proc are never widened: beside /proc/meminfo are
		// /proc/kallsyms and /proc/kcore.
		{"proc dirs", FSDirs, "", []profiles.FileAccess{
			fa("/proc/4242/status", 1, "read_file"),
			fa("/proc/4242/fd", 1, "read_dir"),
			fa("/proc/meminfo", 1, "read_file"),
			fa("/proc/sys/kernel/ngroups_max", 1, "read_file"),
			fa("/proc/sys/kernel/pid_max", 1, "read_file"),
		}, `
/proc/meminfo read_file
/proc/self/fd read_dir
/proc/self/status read_file
/proc/sys/kernel/ngroups_max read_file
/proc/sys/kernel/pid_max read_file
`, ""},
		// A process lister: its own entries, the listing of /proc, and
		// the other processes' entries withheld.
		{"ps", FSDirs, "", []profiles.FileAccess{
			fa("/proc", 1, "read_dir"),
			fa("/proc/1/stat", 1, "read_file"),
			fa("/proc/77/stat", 1, "read_file"),
			fa("/proc/4242/stat", 1, "read_file"),
			fa("/proc/4242/status", 1, "read_file"),
		}, `
/proc read_dir
/proc/self/stat read_file
/proc/self/status read_file
`, `
/proc read_file
`},
		// Reads are never widened to /etc, a home directory, its secret
		// directories, /tmp or /dev as a whole.
		{"sensitive", FSDirs, "/home/u", []profiles.FileAccess{
			fa("/etc/passwd", 1, "read_file"),
			fa("/etc/ssl/certs/ca-certificates.crt", 1, "read_file"),
			fa("/home/u/.bashrc", 1, "read_file"),
			fa("/home/u/.ssh/config", 1, "read_file"),
			fa("/home/u/project/data/a.csv", 1, "read_file"),
			fa("/root/.profile", 1, "read_file"),
			fa("/tmp/input", 1, "read_file"),
			fa("/dev/urandom", 1, "read_file"),
		}, `
/dev/urandom read_file
/etc/passwd read_file
/etc/ssl read_file
/home/u/.bashrc read_file
/home/u/.ssh/config read_file
/home/u/project/data read_file
/root/.profile read_file
/tmp/input read_file
`, ""},
		// A rule an ancestor covers is dropped; a listing stays on the
		// directory listed.
		{"covered", FSDirs, "", []profiles.FileAccess{
			fa("/usr/share/doc", 1, "read_dir"),
			fa("/usr/share/doc/bash", 1, "read_dir"),
			fa("/usr/share/doc/bash/copyright", 1, "read_file"),
			fa("/srv/www", 1, "read_dir"),
		}, `
/srv/www read_dir
/usr/share/doc read_file,read_dir
`, ""},
		// Reads in two or more directories of one parent stand for the
		// parent (git's object shards), never for a sensitive one.
		{"siblings", FSDirs, "/home/u", []profiles.FileAccess{
			fa("/home/u/repo/.git/HEAD", 1, "read_file"),
			fa("/home/u/repo/.git/objects/aa/ff7498", 1, "read_file"),
			fa("/home/u/repo/.git/objects/42/0c1b2e", 1, "read_file"),
			fa("/home/u/repo/.git/objects/42", 1, "read_dir"),
			fa("/home/u/repo/.git/objects/aa", 1, "read_dir"),
			fa("/home/u/a/x", 1, "read_file"),
			fa("/home/u/b/y", 1, "read_file"),
		}, `
/home/u/a read_file
/home/u/b read_file
/home/u/repo/.git read_file
/home/u/repo/.git/objects read_dir
`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, net, err := Filesystem([]*profiles.Recording{fsRec(tc.files...)}, FSOptions{Level: tc.level, Home: tc.home})
			if err != nil {
				t.Fatal(err)
			}
			if got := rulesText(fs); got != strings.TrimPrefix(tc.want, "\n") {
				t.Errorf("rules:\n%s\nwant:\n%s", got, strings.TrimPrefix(tc.want, "\n"))
			}
			if got := withheldText(fs); got != strings.TrimPrefix(tc.withheld, "\n") {
				t.Errorf("not_allowed:\n%s\nwant:\n%s", got, strings.TrimPrefix(tc.withheld, "\n"))
			}
			for _, w := range fs.NotAllowed {
				if w.Reason == "" {
					t.Errorf("not_allowed %s: no reason", w.Path)
				}
			}
			if net == nil || len(net.Rules) != 0 {
				t.Errorf("network %+v, want a section with no rules", net)
			}
			for _, r := range fs.Rules {
				if r.Count == 0 || r.Reason == "" {
					t.Errorf("%s: count %d, reason %q: every rule needs both", r.Path, r.Count, r.Reason)
				}
			}
			p := &profiles.Profile{Version: profiles.Version, Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess, Filesystem: fs, Network: net}
			if err := p.Validate(); err != nil {
				t.Errorf("profile does not validate: %v", err)
			}
		})
	}
}

// TestFilesystemNoWriteWidening: whatever the level, a write right lands
// on a directory only where something was created or removed in it.
func TestFilesystemNoWriteWidening(t *testing.T) {
	files := []profiles.FileAccess{
		fa("/etc/app.conf", 1, "write_file", "truncate"),
		fa("/home/u/.history", 1, "write_file"),
		fa("/var/log/app.log", 1, "write_file"),
		fa("/usr/lib/x86_64-linux-gnu/libc.so.6", 1, "read_file"),
		fa("/home/u/notes/new.txt", 1, "make_reg", "write_file"),
	}
	for _, level := range FSLevels {
		fs, _, err := Filesystem([]*profiles.Recording{fsRec(files...)}, FSOptions{Level: level, Home: "/home/u"})
		if err != nil {
			t.Fatal(err)
		}
		writes := map[string]bool{}
		for _, r := range fs.Rules {
			if slices.ContainsFunc(r.Access, func(a string) bool { return a != "read_file" && a != "read_dir" && a != "execute" }) {
				writes[r.Path] = true
			}
		}
		want := map[string]bool{"/etc/app.conf": true, "/home/u/.history": true, "/var/log/app.log": true, "/home/u/notes": true}
		if !equalSets(writes, want) {
			t.Errorf("%s: write rules on %v, want %v", level, writes, want)
		}
	}
}

// TestFilesystemKeepsWhole: no way of creating or removing something in
// /, /etc, /tmp, a home directory or its secret and login directories
// puts a right on the directory itself, at any level; each goes to
// not_allowed instead.
func TestFilesystemKeepsWhole(t *testing.T) {
	// Homes and /tmp may hold made files instead (TestMadeFiles).
	madeDirs := map[string]bool{"/tmp": true, "/home/u": true, "/root": true, "/home/other": true}
	shapes := map[string][]profiles.FileAccess{
		"file created":             {fa("D/new", 1, "make_reg", "write_file", "truncate")},
		"file created and removed": {fa("D/tmp.1", 1, "make_reg", "write_file", "read_file", "remove_file")},
		"file removed":             {fa("D/old", 1, "remove_file")},
		"renamed over":             {fa("D/f.tmp", 1, "make_reg", "write_file", "remove_file", "refer"), fa("D/f", 1, "make_reg", "remove_file", "refer")},
		"symlink, fifo, socket":    {fa("D/l", 1, "make_sym"), fa("D/p", 1, "make_fifo"), fa("D/s", 1, "make_sock")},
		"dir created":              {fa("D/d", 1, "make_dir")},
		"dir with contents":        {fa("D/d", 1, "make_dir", "read_dir"), fa("D/d/a/b", 1, "make_reg", "write_file"), fa("D/d/a", 1, "make_dir")},
		"temp dir":                 {fa("D/t", 1, "make_dir", "remove_dir"), fa("D/t/x", 1, "make_reg", "write_file", "read_file", "remove_file")},
	}
	for _, d := range []string{"/", "/etc", "/tmp", "/var/tmp", "/dev/shm", "/usr", "/home", "/home/u", "/home/u/.ssh", "/home/u/.gnupg/private-keys-v1.d", "/home/u/.local/bin", "/root", "/home/other"} {
		for name, shape := range shapes {
			var files []profiles.FileAccess
			for _, f := range shape {
				f.Path = path.Join(d, strings.TrimPrefix(f.Path, "D/"))
				files = append(files, f)
			}
			for _, level := range FSLevels {
				fs, _, err := Filesystem([]*profiles.Recording{fsRec(files...)}, FSOptions{Level: level, Home: "/home/u"})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range fs.Rules {
					if r.Path == d || strings.HasPrefix(d, r.Path+"/") || r.Path == "/" {
						t.Errorf("%s in %s (%s): rule %s %v", name, d, level, r.Path, r.Access)
					}
				}
				made := slices.ContainsFunc(fs.Made, func(m profiles.MadeFile) bool {
					return strings.HasPrefix(m.Path, d+"/") || d == "/home/u" && strings.HasPrefix(m.Path, "$HOME/")
				})
				if madeDirs[d] && (name == "file created" || name == "file created and removed") {
					// A regular file of the program's own in $HOME or
					// /tmp: run's supervisor makes it (by name).
					if !made || len(fs.NotAllowed) > 0 {
						t.Errorf("%s in %s (%s): made %+v, not_allowed %+v: want it made", name, d, level, fs.Made, fs.NotAllowed)
					}
					continue
				}
				if made {
					t.Errorf("%s in %s (%s): made %+v", name, d, level, fs.Made)
				}
				if !slices.ContainsFunc(fs.NotAllowed, func(w profiles.PathWithheld) bool { return w.Path == d }) {
					t.Errorf("%s in %s (%s): not_allowed %+v does not name %s", name, d, level, fs.NotAllowed, d)
				}
			}
		}
	}
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestFilesystemPortsAndMerge(t *testing.T) {
	a := fsRec(fa("/etc/hosts", 1, "read_file"))
	a.Ports = []profiles.PortAccess{{Port: 443, Access: 2, Count: 3}, {Port: 0, Access: 1, Count: 1}}
	a.FilesUnresolved = 2
	b := fsRec(fa("/etc/hosts", 2, "read_file"), fa("/etc/resolv.conf", 1, "read_file"))
	b.Ports = []profiles.PortAccess{{Port: 443, Access: 2, Count: 1}, {Port: 8080, Access: 3, Count: 1}}
	fs, net, err := Filesystem([]*profiles.Recording{a, b}, FSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rulesText(fs); got != "/etc/hosts read_file\n/etc/resolv.conf read_file\n" {
		t.Errorf("rules:\n%s", got)
	}
	if fs.Rules[0].Count != 3 || fs.Unresolved != 2 {
		t.Errorf("count %d unresolved %d, want 3 and 2", fs.Rules[0].Count, fs.Unresolved)
	}
	var got []string
	for _, r := range net.Rules {
		got = append(got, fmt.Sprintf("%s %d ×%d", r.Access, r.Port, r.Count))
	}
	want := []string{"bind_tcp 0 ×1", "connect_tcp 443 ×4", "bind_tcp 8080 ×1", "connect_tcp 8080 ×1"}
	if !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}

	// A recording made without file recording knows nothing: no sections.
	fs, net, err = Filesystem([]*profiles.Recording{a, {Arch: "x86_64"}}, FSOptions{})
	if err != nil || fs != nil || net != nil {
		t.Errorf("with a recording without files: %v %v %v, want nil sections", fs, net, err)
	}
	if _, _, err := Filesystem([]*profiles.Recording{a}, FSOptions{Level: "wide"}); err == nil {
		t.Error("level wide accepted")
	}
}

// TestFilesystemExe: FSOptions.Exe keeps the accesses of the matching
// executables, files and ports alike.
func TestFilesystemExe(t *testing.T) {
	test, cc := fa("/tmp/data", 1, "read_file"), fa("/root/.cache/go-build/x", 1, "write_file")
	test.Exe, cc.Exe = "pkg.test", "compile"
	r := fsRec(test, cc)
	r.Ports = []profiles.PortAccess{{Port: 443, Access: 2, Count: 1, Exe: "go"}, {Port: 8080, Access: 2, Count: 1, Exe: "pkg.test"}}
	for _, c := range []struct {
		glob, files string
		ports       int
	}{
		{"", "/root/.cache/go-build/x write_file\n/tmp/data read_file\n", 2},
		{"*.test", "/tmp/data read_file\n", 1},
		{"cc*", "", 0},
	} {
		fs, net, err := Filesystem([]*profiles.Recording{r}, FSOptions{Level: FSExact, Exe: c.glob})
		if err != nil {
			t.Fatal(err)
		}
		if got := rulesText(fs); got != c.files || len(net.Rules) != c.ports {
			t.Errorf("exe %q: rules\n%s%d port rules, want\n%s%d", c.glob, got, len(net.Rules), c.files, c.ports)
		}
	}
}

// TestReduceFilesystem: Reduce adds the Landlock sections when the
// recordings have files, and none when they were made without.
func TestReduceFilesystem(t *testing.T) {
	r := rec(sample("openat", 3, nil), sample("read", 2, nil))
	p, err := Reduce([]*profiles.Recording{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Filesystem != nil || p.Network != nil {
		t.Fatalf("sections without file recording: %+v %+v", p.Filesystem, p.Network)
	}
	r.Files = catFiles
	p, err = Reduce([]*profiles.Recording{r}, Options{FS: FSExact})
	if err != nil {
		t.Fatal(err)
	}
	// With the standard devices and the working directory's listing of the
	// baseline (catFiles has /dev/null).
	if p.Filesystem == nil || len(p.Filesystem.Rules) != len(catFiles)+len(deviceBaseline)+len(workDirBaseline)-1 || p.Network == nil || len(p.Network.Rules) != 0 {
		t.Fatalf("filesystem %+v network %+v", p.Filesystem, p.Network)
	}
	p, err = Reduce([]*profiles.Recording{r}, Options{FS: FSExact, NoBaseline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Filesystem.Rules) != len(catFiles) {
		t.Errorf("NoBaseline: %d rules, want %d", len(p.Filesystem.Rules), len(catFiles))
	}
	if _, err := Reduce([]*profiles.Recording{r}, Options{FS: "wide"}); err == nil {
		t.Error("filesystem level wide accepted")
	}
	// A runtime's own files: glibc's threads, not a program without.
	for _, tc := range []struct {
		rt   string
		want bool
	}{{RuntimeGlibc, false}, {RuntimeGlibcThreads, true}, {RuntimePython, true}, {RuntimeGo, false}} {
		p, err = Reduce([]*profiles.Recording{r}, Options{FS: FSExact, Runtime: tc.rt})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(p.Filesystem.Rules, func(r profiles.PathRule) bool {
			return r.Path == "/proc/sys/vm/overcommit_memory" && slices.Equal(r.Access, []string{"read_file"})
		})
		if got != tc.want {
			t.Errorf("runtime %s: overcommit_memory rule %v, want %v", tc.rt, got, tc.want)
		}
		// Every runtime: the time zone database localtime reads.
		zone := slices.ContainsFunc(p.Filesystem.Rules, func(r profiles.PathRule) bool {
			return r.Path == "/usr/share/zoneinfo" && slices.Equal(r.Access, []string{"read_file"})
		})
		if !zone {
			t.Errorf("runtime %s: no zoneinfo rule", tc.rt)
		}
	}
}

// TestFilesystemTemplates: rules on what the command line and the
// environment named become templates, which the next run's command line
// instantiates; what they did not name stays constant.
func TestFilesystemTemplates(t *testing.T) {
	usr := []profiles.FileAccess{fa("/usr/bin/tool", 1, "execute", "read_file"), fa("/etc/passwd", 1, "read_file")}
	for _, tc := range []struct {
		name  string
		argv  []string
		dir   string
		env   []string
		files []profiles.FileAccess
		ports []profiles.PortAccess
		// argFiles are the small files the arguments name, read before
		// the run (Recording.ArgFiles).
		argFiles map[int][]byte
		want     string
		// ports is "access port from key" per line.
		wantPorts string
		level     FSLevel // "" is FSDirs
	}{
		// tar czf a.tgz src: reads under the directory argument 3 names
		// are reads of what the command line names; the archive is
		// created beside argument 2.
		{name: "tar", argv: []string{"tar", "czf", "a.tgz", "src"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/src", 1, "read_dir"), fa("/w/src/a", 1, "read_file"), fa("/w/src/sub/b", 1, "read_file"), fa("/w/src/sub", 1, "read_dir"),
			fa("/w/a.tgz", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$ARG2/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// At the exact level, reads under it stay where they were, on
		// the argument.
		{name: "tar exact", level: FSExact, argv: []string{"tar", "czf", "a.tgz", "src"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/src", 1, "read_dir"), fa("/w/src/a", 1, "read_file"), fa("/w/src/sub/b", 1, "read_file"),
			fa("/w/a.tgz", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$ARG2/.. write_file,make_reg,truncate
$OPERANDS[3]/a read_file
$OPERANDS[3]/sub/b read_file
$ARGS read_dir
`},
		// sort -o out/s small: the input exactly, the output's directory.
		{name: "sort", argv: []string{"sort", "-o", "out/s", "small"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/small", 1, "read_file"), fa("/w/out/s", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$OPT[-o]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// gcc -c prog.c -o prog.o: the object is made beside the
		// output, argument 5, not beside the source, argument 3 (the
		// next run may compile src/t.c into build/t.o).
		{name: "output beside input", argv: []string{"gcc", "-c", "prog.c", "-o", "prog.o"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/prog.c", 1, "read_file"), fa("/w/prog.o", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$OPT[-o]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// python3 job.py data.json writing out.json: made in the
		// working directory beside inputs only; the script writes
		// relative to where it runs, not beside itself.
		{name: "output in the working directory", argv: []string{"python3", "job.py", "data.json"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/job.py", 1, "read_file"), fa("/w/data.json", 1, "read_file"), fa("/w/out.json", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$ARGS read_file,read_dir
$CWD write_file,read_dir,remove_file,make_reg,truncate
`},
		// python3 load.py in.csv out.db: the database and its journal
		// are made beside argument 3 (with what they did there), the
		// script's directory is listed beside argument 1, or it was the
		// working directory's listing; one directory recorded, three
		// rules.
		{name: "reads and writes apart", argv: []string{"python3", "load.py", "in.csv", "out.db"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w", 1, "read_dir"), fa("/w/load.py", 1, "read_file"), fa("/w/in.csv", 1, "read_file"),
			fa("/w/out.db", 1, "make_reg", "write_file", "read_file"), fa("/w/out.db-journal", 1, "make_reg", "write_file", "read_file", "remove_file"),
		}, want: `
$ARG1/.. read_dir
$OPERANDS[3]/.. write_file,read_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
$CWD read_dir
`},
		// cp -a tree copy of dense files: the directory it makes files
		// in also gets truncate (a sparse file next run is ftruncated),
		// no more than write_file there grants.
		{name: "made files truncated", argv: []string{"cp", "-a", "tree", "copy"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/tree", 1, "read_dir"), fa("/w/tree/a", 1, "read_file"),
			fa("/w/copy", 1, "make_dir", "read_dir"), fa("/w/copy/a", 1, "make_reg", "write_file"),
		}, want: `
$OPERANDS[3]/.. write_file,read_dir,remove_file,make_dir,make_reg,make_sym,truncate
$ARGS read_file,read_dir
`},
		// script -c "wc -l in.txt" log: the command for the shell is one
		// argument whose words name paths; their reads are $ARGS's, and
		// the log is made beside argument 5.
		{name: "words of an argument", argv: []string{"script", "-q", "-c", "wc -l in.txt", "log"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/in.txt", 1, "read_file"), fa("/w/log", 1, "make_reg", "write_file"),
		}, want: `
$OPERANDS[4]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// A file a command string names, edited in place: what its
		// command is given next run, wherever; a file a pipeline's tee
		// makes: beside what tee is given next run, and in the working
		// directory, as before.
		{name: "edited through a command string", argv: []string{"sh", "-c", "ed -s a.txt < cmds"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/cmds", 1, "read_file"), fa("/w/a.txt", 1, "read_file", "write_file", "truncate"),
		}, want: `
$ARGS read_file,read_dir
$WORDS[ed] write_file,read_file,truncate
`},
		{name: "made through a command string", argv: []string{"sh", "-c", "seq 10 | tee out.log"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/out.log", 1, "make_reg", "write_file"),
		}, want: `
$CWD write_file,read_dir,remove_file,make_reg,truncate
$WORDS[tee]/.. write_file,read_dir,remove_file,make_reg,truncate
`},
		// find tree opens "." to come back to it (gnulib's save_cwd):
		// the working directory's listing is $CWD's too, for find
		// /abs/tree run from elsewhere. Not another directory's.
		{name: "working directory listed", argv: []string{"find", "tree", "-type", "f"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w", 1, "read_dir"), fa("/w/tree", 1, "read_dir"), fa("/w/tree/a", 1, "read_file"),
			fa("/w/tree/sub", 1, "read_dir"), fa("/v/x", 1, "read_dir"),
		}, want: `
$ARG1/.. read_dir
$ARGS read_file,read_dir
$CWD read_dir
/v/x read_dir
`},
		// ... but not a directory beside inputs that is not the working
		// directory: that stays their directory.
		{name: "beside an input elsewhere", argv: []string{"tool", "in/data"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/in/data", 1, "read_file"), fa("/w/in/data.idx", 1, "make_reg", "write_file"),
		}, want: `
$OPERANDS[1]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// split -l 100 in.txt parts/p-: argument 4 is the prefix of the
		// files made (parts/p-aa, parts/p-ab), so their directory is
		// argument 4's.
		{name: "output prefix", argv: []string{"split", "-l", "100", "in.txt", "parts/p-"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/in.txt", 1, "read_file"), fa("/w/parts/p-aa", 1, "make_reg", "write_file"), fa("/w/parts/p-ab", 1, "make_reg", "write_file"),
		}, want: `
$OPERANDS[4]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// tidy -q -o out1.html in1.html opens its input O_RDWR: the
		// change follows the operand that ends the command line
		// ($OPERANDS), the reads are of what the next names ($ARGS:
		// tidy -config f.cfg reads f.cfg).
		{name: "operand read and changed", argv: []string{"tidy", "-q", "-o", "out1.html", "in1.html"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/in1.html", 1, "write_file", "read_file"), fa("/w/out1.html", 1, "make_reg", "write_file", "truncate"),
		}, want: `
$ARGS read_file,read_dir
$OPERANDS[4] write_file,read_file
$OPT[-o]/.. write_file,read_dir,remove_file,make_reg,truncate
`},
		// 7zz a arch1.7z dir1 makes arch1.7z, which argument 2 names:
		// not a file with the prefix of argument 1 ("a", a command).
		{name: "made file named, not a prefix", argv: []string{"7zz", "a", "arch1.7z", "dir1"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/dir1", 1, "read_dir"), fa("/w/dir1/f", 1, "read_file"), fa("/w/arch1.7z", 1, "make_reg", "write_file"),
		}, want: `
$ARG2/.. write_file,read_dir,remove_file,make_reg,truncate
$ARGS read_file,read_dir
`},
		// An option's value (--output=FILE) is a path too; a file
		// written that existed stays on its argument.
		{name: "option value", argv: []string{"tool", "--output=/data/o.txt", "/data/in.txt"}, dir: "/", files: []profiles.FileAccess{
			fa("/data/o.txt", 1, "write_file", "truncate"), fa("/data/in.txt", 1, "read_file"),
		}, want: `
$OPT[--output] write_file,truncate
$ARGS read_file,read_dir
`},
		// Extracting into the directory argument 4 names.
		{name: "extract", argv: []string{"tar", "xf", "a.tar", "-C", "out"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/a.tar", 1, "read_file"), fa("/w/out/d", 1, "make_dir"), fa("/w/out/d/f", 1, "make_reg", "write_file"),
		}, want: `
$OPT[-C] write_file,read_dir,remove_file,make_dir,make_reg,make_sym,truncate
$ARGS read_file,read_dir
`},
		// Extracting files only into the directory -D names: the next
		// archive may hold directories, made there (not beside an
		// output: sort's $OPT[-o]/.. above gets no make_dir).
		{name: "extract files only", argv: []string{"cpio", "-idm", "-D", "out1", "-F", "a1.cpio"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/a1.cpio", 1, "read_file"), fa("/w/out1/a", 1, "make_reg", "write_file"),
		}, want: `
$ARGS read_file,read_dir
$OPT[-D] write_file,read_dir,remove_file,make_dir,make_reg,truncate
`},
		// The working directory, reached by relative paths no argument
		// names (git in its repository); not when it is /.
		{name: "cwd", argv: []string{"git", "log"}, dir: "/w/repo", files: []profiles.FileAccess{
			fa("/w/repo/.git/HEAD", 1, "read_file"), fa("/w/repo/.git/config", 1, "read_file"),
		}, want: `
$CWD/.git read_file
`},
		{name: "cwd /", argv: []string{"tool"}, dir: "/", files: []profiles.FileAccess{fa("/w/x", 1, "read_file")}, want: `
/w read_file
`},
		// An output named after its input, beside it: beside the
		// input wherever the next command line puts it, not in the
		// working directory the recorded one happened to be in.
		// In the working directory it may be the working directory's
		// too: both.
		{name: "sibling output", argv: []string{"gzip", "-k", "a.txt"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/a.txt", 1, "read_file"), fa("/w/a.txt.gz", 1, "make_reg", "write_file"),
		}, want: `
$ARGS read_file,read_dir
$CWD write_file,read_dir,remove_file,make_reg,truncate
$OPERANDS[2]/.. write_file,read_dir,remove_file,make_reg,truncate
`},
		{name: "sibling output elsewhere", argv: []string{"gzip", "-k", "sub/a.txt"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/sub/a.txt", 1, "read_file"), fa("/w/sub/a.txt.gz", 1, "make_reg", "write_file"),
		}, want: `
$ARGS read_file,read_dir
$OPERANDS[2]/.. write_file,read_dir,remove_file,make_reg,truncate
`},
		{name: "sibling output, extension taken off", argv: []string{"bzip2", "-dk", "a.txt.bz2"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/a.txt.bz2", 1, "read_file"), fa("/w/a.txt", 1, "make_reg", "write_file"),
		}, want: `
$ARGS read_file,read_dir
$CWD write_file,read_dir,remove_file,make_reg,truncate
$OPERANDS[2]/.. write_file,read_dir,remove_file,make_reg,truncate
`},
		// A file of another name in the working directory: $CWD.
		{name: "output of another name", argv: []string{"tool", "a.txt"}, dir: "/w", files: []profiles.FileAccess{
			fa("/w/a.txt", 1, "read_file"), fa("/w/out.json", 1, "make_reg", "write_file"),
		}, want: `
$ARGS read_file,read_dir
$CWD write_file,read_dir,remove_file,make_reg,truncate
`},
		// $HOME and the XDG directories where the environment set them;
		// a private $TMPDIR (record gives the target one).
		{name: "environment", argv: []string{"tool"}, dir: "/", env: []string{"HOME=/home/u", "XDG_CONFIG_HOME=/home/u/.cfg", "TMPDIR=/tmp/sysrec-1"}, files: []profiles.FileAccess{
			fa("/home/u/.cache/tool/db", 1, "make_reg", "write_file"),
			fa("/home/u/.cfg/tool.conf", 1, "read_file"),
			fa("/tmp/sysrec-1/cc1.s", 1, "make_reg", "write_file", "read_file", "remove_file"),
		}, want: `
$HOME/.cache/tool write_file,read_dir,remove_file,make_reg,truncate
$TMPDIR write_file,read_file,read_dir,remove_file,make_reg,truncate
$XDG_CONFIG_HOME read_file
`},
		// A command sysrec did not start (a container): its paths may be
		// another mount namespace's, nothing is a parameter.
		{name: "not started by sysrec", argv: []string{"cat", "/data/x"}, files: []profiles.FileAccess{fa("/data/x", 1, "read_file")}, want: `
/data read_file
`},
		// Nor a command string's paths.
		{name: "command string not started by sysrec", argv: []string{"sh", "-c", "seq 3 > /data/out"}, files: []profiles.FileAccess{fa("/data/out", 1, "write_file", "truncate")}, want: `
/data/out write_file,truncate
`},
		// /tmp reached without $TMPDIR: constant, kept whole as ever.
		{name: "tmp without TMPDIR", argv: []string{"tool"}, dir: "/", files: []profiles.FileAccess{fa("/tmp/x", 1, "read_file")}, want: `
/tmp/x read_file
`},
		// What the command line names in the system's trees is the
		// system's: constant (a profile of `cat /etc/hostname` does not
		// read /etc/shadow when asked to).
		{name: "system file", argv: []string{"cat", "/etc/hostname"}, dir: "/w", files: []profiles.FileAccess{fa("/etc/hostname", 1, "read_file")}, want: `
/etc/hostname read_file
`},
		// A command line that names / or $HOME: the listing of $HOME is
		// what it names (/ is never a template); what is under them is
		// no parameter.
		{name: "root and home", argv: []string{"ls", "/", "/home/u"}, dir: "/w", env: []string{"HOME=/home/u"}, files: []profiles.FileAccess{
			fa("/", 1, "read_dir"), fa("/home/u", 1, "read_dir"), fa("/home/u/notes/a", 1, "read_file"),
		}, want: `
/ read_dir
$ARGS read_dir
$HOME/notes read_file
`},
		// A server whose configuration file names its port, web root
		// and log: the next run's file gives them, and the web root
		// may be listed.
		{name: "configuration file", argv: []string{"srv", "-c", "/w/site.conf"}, dir: "/w",
			argFiles: map[int][]byte{2: []byte("listen 127.0.0.1:8080;\nroot /w/www;\nerror_log /w/logs/e.log;\n")},
			files: []profiles.FileAccess{
				fa("/w/site.conf", 1, "read_file"), fa("/w/www/index.html", 1, "read_file"), fa("/w/www/a.css", 1, "read_file"),
				fa("/w/logs/e.log", 1, "make_reg", "write_file"),
			}, ports: []profiles.PortAccess{{Port: 8080, Access: 1, Count: 1}}, want: `
$ARG2[error_log]/.. write_file,read_dir,remove_file,make_reg,truncate
$ARG2[root] read_file,read_dir
$ARGS read_file,read_dir
`, wantPorts: `
bind_tcp 8080 $ARG2 listen
`},
		// A server listening on the port its command line names; the
		// port it connects to is a constant.
		{name: "ports", argv: []string{"srv", "23456", "--admin=127.0.0.1:8081"}, dir: "/w", ports: []profiles.PortAccess{
			{Port: 23456, Access: 1, Count: 1}, {Port: 8081, Access: 1, Count: 1}, {Port: 5432, Access: 2, Count: 1},
		}, wantPorts: `
bind_tcp 23456 $ARG1
bind_tcp 8081 $ARG2
connect_tcp 5432
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fsRec(append(slices.Clone(usr), tc.files...)...)
			r.Command, r.Dir, r.Env, r.Ports, r.ArgFiles = tc.argv, tc.dir, tc.env, tc.ports, tc.argFiles
			if tc.level == "" {
				tc.level = FSDirs
			}
			fs, net, err := Filesystem([]*profiles.Recording{r}, FSOptions{Level: tc.level})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimPrefix(tc.want, "\n") + "/etc/passwd read_file\n/usr/bin/tool execute,read_file\n"
			if got := rulesText(fs); got != sortedLines(want) {
				t.Errorf("rules:\n%s\nwant:\n%s", got, sortedLines(want))
			}
			var ports strings.Builder
			for _, p := range net.Rules {
				fmt.Fprintln(&ports, strings.TrimRight(fmt.Sprintf("%s %d %s %s", p.Access, p.Port, p.From, p.Key), " "))
			}
			if got := ports.String(); got != strings.TrimPrefix(tc.wantPorts, "\n") {
				t.Errorf("ports:\n%s\nwant:\n%s", got, strings.TrimPrefix(tc.wantPorts, "\n"))
			}
			for _, rule := range fs.Rules {
				if profiles.IsTemplate(rule.Path) && (!strings.Contains(rule.Reason, "recorded") || strings.Contains(rule.Reason, "recorded )")) {
					t.Errorf("%s: the reason %q does not say what was recorded", rule.Path, rule.Reason)
				}
			}
			// The profile instantiated from the recorded command line
			// grants what the constants would have.
			p := &profiles.Profile{Version: profiles.Version, Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess, Filesystem: fs, Network: net}
			if err := p.Validate(); err != nil {
				t.Fatalf("profile does not validate: %v", err)
			}
			if r.Dir == "" {
				return
			}
			if _, warnings, err := p.Instantiate(r.Invocation()); err != nil || len(warnings) > 0 {
				t.Errorf("instantiated from the recording: %v %v", warnings, err)
			}
		})
	}
}

// sortedLines sorts the lines of s.
func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestFilesystemTemplatesMerge: recordings of two command lines are
// reduced apart and joined; the same template from both is one rule.
func TestFilesystemTemplatesMerge(t *testing.T) {
	a := fsRec(fa("/w/small", 1, "read_file"), fa("/w/out/s", 1, "make_reg", "write_file"))
	a.Command, a.Dir = []string{"sort", "-o", "out/s", "small"}, "/w"
	b := fsRec(fa("/v/big", 2, "read_file"), fa("/v/o2/t", 1, "make_reg", "write_file"))
	b.Command, b.Dir = []string{"sort", "-o", "o2/t", "big"}, "/v"
	fs, _, err := Filesystem([]*profiles.Recording{a, b}, FSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rulesText(fs), "$ARGS read_file,read_dir\n$OPT[-o]/.. write_file,read_dir,remove_file,make_reg,truncate\n"; got != want {
		t.Errorf("rules:\n%s\nwant:\n%s", got, want)
	}
	if fs.Rules[0].Count != 3 {
		t.Errorf("$ARGS count %d, want 3", fs.Rules[0].Count)
	}
}

// TestThreadNamesReduced: a comm file written through /proc/PID/task/TID
// (a thread named by another) gives the profile thread names; read, or
// through /proc/PID, it does not.
func TestThreadNamesReduced(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    profiles.FileAccess
		want bool
	}{
		{"another thread named", fa("/proc/4242/task/4243/comm", 1, "write_file", "read_file"), true},
		{"a thread's name read", fa("/proc/4242/task/4243/comm", 1, "read_file"), false},
		{"the process named", fa("/proc/4242/comm", 1, "write_file"), false},
		{"another file of a thread", fa("/proc/4242/task/4243/stat", 1, "read_file"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _, err := Filesystem([]*profiles.Recording{fsRec(tc.f)}, FSOptions{Level: FSDirs})
			if err != nil {
				t.Fatal(err)
			}
			if fs.ThreadNames != tc.want {
				t.Errorf("thread names %v, want %v", fs.ThreadNames, tc.want)
			}
		})
	}
}

// TestNamedWriteMade: a file the command line names that the target
// wrote in place is made by the supervisor when the next one is not
// there yet; one it created, or only read, is not.
func TestNamedWriteMade(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv []string
		f    profiles.FileAccess
		want []string
	}{
		{"touched", []string{"touch", "-d", "2021-01-01", "a.txt"}, fa("/w/a.txt", 1, "write_file"), []string{"$OPERANDS[3]"}},
		{"truncated", []string{"truncate", "-s", "100", "a.txt"}, fa("/w/a.txt", 1, "write_file", "truncate"), []string{"$OPERANDS[3]"}},
		{"edited through a command string", []string{"sh", "-c", "ed -s a.txt < cmds"}, fa("/w/a.txt", 1, "read_file", "write_file", "truncate"), []string{"$WORDS[ed]"}},
		{"created", []string{"touch", "new.txt"}, fa("/w/new.txt", 1, "make_reg", "write_file"), nil},
		{"read", []string{"cat", "a.txt"}, fa("/w/a.txt", 1, "read_file"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fsRec(tc.f)
			r.Command, r.Dir = tc.argv, "/w"
			fs, _, err := Filesystem([]*profiles.Recording{r}, FSOptions{Level: FSDirs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range fs.Made {
				got = append(got, m.Path)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("made %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWordsInputStaysRead: a command of a command string that was given
// an input as well as the file it wrote (cp a.txt b.txt) gets no
// $WORDS[cmd]: it would stand for the next string's input too, and the
// review's next command string made /srv/data/db writable (a Landlock
// rule and a made file). A command given only what it wrote keeps it.
func TestWordsInputStaysRead(t *testing.T) {
	for _, tc := range []struct {
		name       string
		argv, next []string
		files      []profiles.FileAccess
		input      string // the next string's input: never written
		output     string // the next string's output: written
	}{
		{"cp", []string{"sh", "-c", "cp a.txt b.txt"}, []string{"sh", "-c", "cp /srv/data/db b2.txt"},
			[]profiles.FileAccess{fa("/w/a.txt", 1, "read_file"), fa("/w/b.txt", 1, "write_file", "truncate")}, "/srv/data/db", ""},
		{"input in a system tree", []string{"sh", "-c", "cp /etc/hosts b.txt"}, []string{"sh", "-c", "cp /srv/data/db b2.txt"},
			[]profiles.FileAccess{fa("/etc/hosts", 1, "read_file"), fa("/w/b.txt", 1, "write_file", "truncate")}, "/srv/data/db", ""},
		{"tee", []string{"sh", "-c", "cat in.txt | tee out.log"}, []string{"sh", "-c", "cat /srv/data/db | tee /srv/data/o.log"},
			[]profiles.FileAccess{fa("/w/in.txt", 1, "read_file"), fa("/w/out.log", 1, "write_file", "truncate")}, "/srv/data/db", "/srv/data/o.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fsRec(tc.files...)
			r.Command, r.Dir = tc.argv, "/w"
			fs, _, err := Filesystem([]*profiles.Recording{r}, FSOptions{Level: FSDirs})
			if err != nil {
				t.Fatal(err)
			}
			p := &profiles.Profile{Version: profiles.Version, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow, Filesystem: fs}
			inv := r.Invocation()
			inv.Args = tc.next
			got, _, err := p.Instantiate(inv)
			if err != nil {
				t.Fatal(err)
			}
			wrote := func(f string) bool {
				for _, r := range got.Filesystem.Rules {
					access, _ := linuxabi.ParseLandlockFS(r.Access)
					if (r.Path == f || strings.HasPrefix(f, r.Path+"/")) && access&^llRead != 0 {
						return true
					}
				}
				return got.Made(f)
			}
			if wrote(tc.input) {
				t.Errorf("%q may write its input %s:\n%s", tc.next, tc.input, rulesText(got.Filesystem))
			}
			if tc.output != "" && !wrote(tc.output) {
				t.Errorf("%q may not write its output %s:\n%s", tc.next, tc.output, rulesText(got.Filesystem))
			}
		})
	}
}
