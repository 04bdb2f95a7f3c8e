package profiles

import (
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
)

func madeProfile(made ...string) *Profile {
	p := &Profile{Version: 2, Name: "made", Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Syscalls:   []Syscall{{Name: "openat"}, {Name: "read"}, {Name: "rename"}, {Name: "unlinkat", Action: ActEPERM}},
		Filesystem: &Filesystem{Rules: []PathRule{{Path: "/usr", Access: []string{"read_file"}}}}}
	for _, m := range made {
		p.Filesystem.Made = append(p.Filesystem.Made, MadeFile{Path: m, Reason: "test"})
	}
	p.Normalize()
	return p
}

func TestMadeValidate(t *testing.T) {
	for _, tc := range []struct {
		path, err string
	}{
		{"$HOME/.lesshst", ""},
		{"/tmp/.ZendSem.XXXXXX", ""},
		{"$TMPDIR/x", ""},
		{"$CWD/.lock", ""},
		{"/srv/app/state", ""},
		{"lesshst", `filesystem.made[0].path: "lesshst" is no directory and name`},
		{"$HOME/", `filesystem.made[0].path: "$HOME/": "" is not a file name`},
		{"$HOME/..", `is not a file name`},
		{"/tmp/XXXXXX", "a mkstemp name needs a prefix"},
		{"$ARG1/x", "a made file's directory is a path, $CWD or an environment variable"},
		{"$NOPE/x", "unknown variable $NOPE"},
		{"/tmp/../etc/x", "is not a clean absolute directory"},
		{"/x", "never made in / or a system tree"},
		{"/etc/app.conf", "never made in / or a system tree"},
		{"/usr/local/bin/x", "never made in / or a system tree"},
		{"$HOME/.bashrc", "a file a shell or login reads is never made"},
		{"/root/.profile", "a file a shell or login reads is never made"},
		{"/home/u/.ssh/authorized_keys", "a file a shell or login reads is never made"},
		{"$HOME/.ssh/authorized_keys", "a file a shell or login reads is never made"},
		{"$HOME/.config/autostart/x.desktop", "a file a shell or login reads is never made"},
		{"$CWD/.bashrc", "a file a shell or login reads is never made"},
		{"$TMPDIR/.ssh/authorized_keys", "a file a shell or login reads is never made"},
		{"/var/lib/postgresql/.profile", "a file a shell or login reads is never made"},
		{"/srv/git/.ssh/rc", "a file a shell or login reads is never made"},
		{"$HOME/.vim/plugin/x.vim", "a file a shell or login reads is never made"},
		{"$CWD/.bashrc.d/x", "a file a shell or login reads is never made"},
	} {
		err := madeProfile(tc.path).Validate()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %v, want %q", tc.path, err, tc.err)
		}
	}
}

func TestMadeMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{".lesshst", ".lesshst", true},
		{".lesshst", ".lesshsQ", false},
		{".ZendSem.XXXXXX", ".ZendSem.aB3xY9", true},
		{".ZendSem.XXXXXX", ".ZendSem.XXXXXX", true},
		{".ZendSem.XXXXXX", ".ZendSem.aB3xY", false},
		{".ZendSem.XXXXXX", ".ZendSem.aB3xY90", false},
		{".ZendSem.XXXXXX", ".ZendSem.aB3x/9", false},
		{".ZendSem.XXXXXX", ".ZendSem.aB3x.9", false},
		{".ZendSem.XXXXXX", "ZendSem.aB3xY9", false},
	} {
		if got := MatchMade(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchMade(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

// TestMadeInstantiate: templates name the run's directories; a made
// file that would be a login file, or in a system tree, is dropped with
// a warning; existing exact names get a Landlock rule of their own.
func TestMadeInstantiate(t *testing.T) {
	p := madeProfile("$HOME/.lesshst", "$CWD/.profile", "$XDG_RUNTIME_DIR/x", "/tmp/.T.XXXXXX")
	for _, tc := range []struct {
		home string
		want []string
		warn int
	}{
		{"/home/u", []string{"/home/u/.lesshst", "/tmp/.T.XXXXXX"}, 2},
		{"/etc", []string{"/tmp/.T.XXXXXX"}, 3},
		{"/", []string{"/tmp/.T.XXXXXX"}, 3},
		{"/root/.ssh", []string{"/tmp/.T.XXXXXX"}, 3},
		{"/var/lib/git/.ssh", []string{"/tmp/.T.XXXXXX"}, 3},
		{"/home/u/.config/systemd/user", []string{"/tmp/.T.XXXXXX"}, 3},
	} {
		in, warnings, err := p.Instantiate(Invocation{Dir: tc.home, Env: []string{"HOME=" + tc.home}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range in.Filesystem.Made {
			got = append(got, m.Path)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") || len(warnings) != tc.warn {
			t.Errorf("HOME=%s: made %q, warnings %q; want %q and %d warnings", tc.home, got, warnings, tc.want, tc.warn)
		}
		if tc.home != "/home/u" {
			continue
		}
		rs := in.Landlock()
		found := false
		for _, r := range rs.Paths {
			if r.Path == "/home/u/.lesshst" {
				found = r.Optional && r.RegularOnly && r.Access == madeFileRights
			}
			if strings.HasPrefix(r.Path, "/tmp/.T.") {
				t.Errorf("a rule on a mkstemp pattern: %+v", r)
			}
		}
		if !found {
			t.Errorf("no optional read/write/truncate rule on the made file: %+v", rs.Paths)
		}
	}
}

// TestMadeMaking: the view sends to the supervisor only the calls that
// may make a file that the profile allows.
func TestMadeMaking(t *testing.T) {
	arch, _ := linuxabi.LookupArch("x86_64")
	nr := func(name string) int32 { n, _ := arch.Number(name); return int32(n) }
	for _, tc := range []struct {
		name string
		p    *Profile
		call string
		args [6]uint64
		want ActionKind
	}{
		{"openat O_CREAT", madeProfile("$HOME/.x"), "openat", [6]uint64{0, 0, 0x41}, UserNotif},
		{"openat read", madeProfile("$HOME/.x"), "openat", [6]uint64{0, 0, 0}, Allow},
		{"rename", madeProfile("$HOME/.x"), "rename", [6]uint64{}, UserNotif},
		{"unlinkat refused stays refused", madeProfile("$HOME/.x"), "unlinkat", [6]uint64{}, Errno},
		{"creat not allowed stays killed", madeProfile("$HOME/.x"), "creat", [6]uint64{}, KillProcess},
		{"read", madeProfile("$HOME/.x"), "read", [6]uint64{}, Allow},
		{"no made files", madeProfile(), "openat", [6]uint64{0, 0, 0x41}, Allow},
	} {
		v := tc.p.Making()
		if err := v.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := v.Decide(linuxabi.SeccompData{Nr: nr(tc.call), Arch: arch.Audit, Args: tc.args}, PhaseAny)
		if got.Kind != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// A profile that allows every call sends every call that may make a
	// file.
	all := madeProfile("$HOME/.x")
	all.DefaultAction, all.Syscalls = ActAllow, nil
	for _, call := range []string{"open", "creat", "openat2", "renameat2", "unlink"} {
		args := [6]uint64{0, 0x40, 0x40}
		if got := all.Making().Decide(linuxabi.SeccompData{Nr: nr(call), Arch: arch.Audit, Args: args}, PhaseAny); got.Kind != UserNotif {
			t.Errorf("default allow, %s: %s", call, got)
		}
	}
}

// TestMadeSchema: made files survive the canonical form, merge as a
// union, widen a diff, and show.
func TestMadeSchema(t *testing.T) {
	a := madeProfile("$HOME/.lesshst", "/tmp/.ZendSem.XXXXXX")
	b := madeProfile("$HOME/.lesshst", "$HOME/.python_history")
	j, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(j)
	if err != nil || len(back.Filesystem.Made) != 2 {
		t.Fatalf("round trip: %v\n%s", err, j)
	}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Filesystem.Made {
		got = append(got, f.Path)
	}
	if strings.Join(got, " ") != "$HOME/.lesshst $HOME/.python_history /tmp/.ZendSem.XXXXXX" {
		t.Errorf("merge: %q", got)
	}
	d := Diff(a, b)
	if !d.Widens || d.Tier != "ordinary" {
		t.Errorf("diff: widens %v, tier %q", d.Widens, d.Tier)
	}
	testenv.Golden(t, "testdata/made.diff.golden", []byte(d.Text()))
	testenv.Golden(t, "testdata/made.show.golden", []byte(Format(m)))
}

// TestNamedMadeInstantiate: a made file the command line names is made
// exactly: never a login file, nor in / or a system tree, and never a
// name ending in XXXXXX, which would stand for every name mkstemp makes
// of it (the review's: touch ~/notes-XXXXXX let the target make
// ~/notes-abc123 and as many more).
func TestNamedMadeInstantiate(t *testing.T) {
	p := madeProfile("$OPERANDS[1]")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"touch", "new.txt", "../w2/b.txt"}, []string{"/home/u/w/new.txt", "/home/u/w2/b.txt"}},
		{[]string{"touch", "/home/u/notes-XXXXXX"}, nil},
		{[]string{"touch", "/home/u/.ssh/authorized_keys"}, nil},
		{[]string{"touch", "/home/u/.bashrc"}, nil},
		{[]string{"touch", "/proc/self/attr/current"}, nil},
		{[]string{"touch", "/x"}, nil},
	} {
		in, warnings, err := p.Instantiate(Invocation{Args: tc.args, Dir: "/home/u/w", Env: []string{"HOME=/home/u"}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range in.Filesystem.Made {
			got = append(got, m.Path)
		}
		if !slices.Equal(got, tc.want) || len(tc.want) == 0 && len(warnings) == 0 {
			t.Errorf("%q: made %q, warnings %q; want %q", tc.args, got, warnings, tc.want)
		}
	}
}
