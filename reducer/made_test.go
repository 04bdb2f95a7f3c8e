package reducer

import (
	"slices"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestMadeFiles: which files made in a directory kept whole become made
// files, and by which name.
func TestMadeFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []profiles.FileAccess
		made  []string
	}{
		{"less replaces its history", []profiles.FileAccess{
			fa("/home/u/.lesshsQ", 2, "make_reg", "write_file", "remove_file"),
			fa("/home/u/.lesshst", 3, "make_reg", "read_file", "remove_file"),
		}, []string{"$HOME/.lesshsQ", "$HOME/.lesshst"}},
		{"mkstemp lock in /tmp", []profiles.FileAccess{
			fa("/tmp/.ZendSem.q9Zk2L", 1, "make_reg", "read_file", "write_file", "remove_file"),
		}, []string{"/tmp/.ZendSem.XXXXXX"}},
		{"a scratch name of a dot and six letters stays exact", []profiles.FileAccess{
			fa("/home/u/.q9Zk2L", 1, "make_reg", "write_file", "remove_file"),
		}, []string{"$HOME/.q9Zk2L"}},
		{"kept, its name ending in six letters", []profiles.FileAccess{
			fa("/home/u/.python_history", 1, "make_reg", "write_file"),
		}, []string{"$HOME/.python_history"}},
		{"removed, not six letters or digits at the end", []profiles.FileAccess{
			fa("/tmp/app.lock-1", 1, "make_reg", "remove_file"),
			fa("/tmp/x.12345", 1, "make_reg", "remove_file"),
		}, []string{"/tmp/app.lock-1", "/tmp/x.12345"}},
		{"another home", []profiles.FileAccess{
			fa("/root/.rnd", 1, "make_reg", "write_file"),
		}, []string{"/root/.rnd"}},
		{"login and secret files never", []profiles.FileAccess{
			fa("/home/u/.bashrc", 1, "make_reg", "write_file"),
			fa("/home/u/.profile", 1, "make_reg", "write_file", "remove_file"),
			fa("/home/u/.pam_environment", 1, "make_reg"),
			fa("/root/.zshrc", 1, "make_reg"),
			fa("/home/u/.bash_aliases", 1, "make_reg", "write_file"),
			fa("/home/u/.lesskey", 1, "make_reg", "write_file"),
			fa("/home/u/.git-credentials", 1, "make_reg", "write_file"),
			fa("/home/u/.erlang", 1, "make_reg", "write_file"),
			fa("/home/u/.ansible.cfg", 1, "make_reg", "write_file"),
			fa("/home/u/.ssh/authorized_keys", 1, "make_reg", "write_file"),
			fa("/home/u/.config/autostart/x.desktop", 1, "make_reg", "write_file"),
			fa("/home/u/.local/bin/ls", 1, "make_reg", "write_file"),
		}, nil},
		{"other directories kept whole never", []profiles.FileAccess{
			fa("/etc/app.conf", 1, "make_reg", "write_file"),
			fa("/var/tmp/x", 1, "make_reg", "write_file"),
			fa("/x", 1, "make_reg"),
		}, nil},
		{"not a regular file, or executed", []profiles.FileAccess{
			fa("/tmp/s", 1, "make_sock"),
			fa("/tmp/d", 1, "make_dir"),
			fa("/tmp/run.sh", 1, "make_reg", "write_file", "execute"),
		}, nil},
		{"removed only", []profiles.FileAccess{
			fa("/home/u/.old", 1, "remove_file"),
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, level := range FSLevels {
				fs, _, err := Filesystem([]*profiles.Recording{fsRec(tc.files...)}, FSOptions{Level: level, Home: "/home/u"})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range fs.Made {
					got = append(got, m.Path)
					if m.Reason == "" || m.Count == 0 {
						t.Errorf("%s: made %+v: no reason or count", level, m)
					}
				}
				if !slices.Equal(got, tc.made) {
					t.Errorf("%s: made %q, want %q", level, got, tc.made)
				}
				if err := (&profiles.Profile{Version: 2, Name: "x", Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess, Filesystem: fs}).Validate(); err != nil {
					t.Errorf("%s: %v", level, err)
				}
			}
		})
	}
}
