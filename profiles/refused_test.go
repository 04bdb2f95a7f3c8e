package profiles

import (
	"reflect"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
)

func fsBits(t *testing.T, names ...string) uint64 {
	t.Helper()
	m, err := linuxabi.ParseLandlockFS(names)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRefusedFiles: a right is refused unless a rule on the path or a
// directory above it grants it; rights on the directory holding an
// object are looked up there; rights the ruleset does not handle, and
// rulesets without a filesystem section, refuse nothing.
func TestRefusedFiles(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{
		{Path: "/usr", Access: []string{"execute", "read_file", "read_dir"}},
		{Path: "/etc/hostname", Access: []string{"read_file"}},
		{Path: "/work/out", Access: []string{"write_file", "make_reg", "remove_file"}},
	}}}
	rs := p.Landlock()
	for _, tc := range []struct {
		name  string
		rs    *linuxabi.LandlockRuleset
		files []FileAccess
		want  []FileAccess
	}{
		{"granted on the file", rs, []FileAccess{{Path: "/etc/hostname", Access: fsBits(t, "read_file"), Count: 1}}, nil},
		{"granted beneath a directory", rs, []FileAccess{{Path: "/usr/bin/ls", Access: fsBits(t, "execute", "read_file"), Count: 2}}, nil},
		{"another file of the directory", rs, []FileAccess{{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 3}},
			[]FileAccess{{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 3}}},
		{"only the rights not granted", rs, []FileAccess{{Path: "/etc/hostname", Access: fsBits(t, "read_file", "write_file"), Count: 1}},
			[]FileAccess{{Path: "/etc/hostname", Access: fsBits(t, "write_file"), Count: 1}}},
		{"a name that only starts like a rule's", rs, []FileAccess{{Path: "/usr2/x", Access: fsBits(t, "read_file"), Count: 1}},
			[]FileAccess{{Path: "/usr2/x", Access: fsBits(t, "read_file"), Count: 1}}},
		{"make in a granted directory", rs, []FileAccess{{Path: "/work/out/new", Access: fsBits(t, "make_reg", "write_file"), Count: 1}}, nil},
		{"the directory right is not the object's", rs, []FileAccess{{Path: "/work/out", Access: fsBits(t, "remove_file"), Count: 1}},
			[]FileAccess{{Path: "/work/out", Access: fsBits(t, "remove_file"), Count: 1}}},
		{"listing the root", rs, []FileAccess{{Path: "/", Access: fsBits(t, "read_dir"), Count: 1}},
			[]FileAccess{{Path: "/", Access: fsBits(t, "read_dir"), Count: 1}}},
		{"joined per path, in path order", rs, []FileAccess{
			{Path: "/tmp/b", Access: fsBits(t, "make_reg"), Count: 1},
			{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 1},
			{Path: "/tmp/b", Access: fsBits(t, "write_file"), Count: 2, Exe: "sh"},
		}, []FileAccess{
			{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 1},
			{Path: "/tmp/b", Access: fsBits(t, "make_reg", "write_file"), Count: 3},
		}},
		{"not a path", rs, []FileAccess{{Path: "pipe:[12]", Access: fsBits(t, "read_file"), Count: 1}}, nil},
		{"no ruleset", nil, []FileAccess{{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 1}}, nil},
		{"network section only", (&Profile{Network: &Network{}}).Landlock(), []FileAccess{{Path: "/etc/passwd", Access: fsBits(t, "read_file"), Count: 1}}, nil},
		{"a right the ruleset does not handle", &linuxabi.LandlockRuleset{HandledFS: linuxabi.LandlockFSRights(1)},
			[]FileAccess{{Path: "/dev/null", Access: fsBits(t, "ioctl_dev", "truncate"), Count: 1}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RefusedFiles(tc.rs, tc.files); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RefusedFiles = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRefusedPorts(t *testing.T) {
	rs := (&Profile{Network: &Network{Rules: []PortRule{{Access: "connect_tcp", Port: 443}, {Access: "bind_tcp", Port: 8080}}}}).Landlock()
	ports := []PortAccess{
		{Port: 443, Access: linuxabi.LandlockConnectTCP, Count: 4},
		{Port: 8080, Access: linuxabi.LandlockConnectTCP, Count: 1},
		{Port: 80, Access: linuxabi.LandlockConnectTCP, Count: 1},
		{Port: 8080, Access: linuxabi.LandlockBindTCP, Count: 1},
	}
	want := []PortAccess{{Port: 80, Access: linuxabi.LandlockConnectTCP, Count: 1}, {Port: 8080, Access: linuxabi.LandlockConnectTCP, Count: 1}}
	if got := RefusedPorts(rs, ports); !reflect.DeepEqual(got, want) {
		t.Errorf("RefusedPorts = %+v, want %+v", got, want)
	}
	if got := RefusedPorts((&Profile{Filesystem: &Filesystem{}}).Landlock(), ports); got != nil {
		t.Errorf("a profile without a network section refused %+v", got)
	}
}

// TestNeeded: a section reduced from a run keeps, for a profile that
// refused some of the run's accesses, only the rules and withheld rights
// that grant them, each with the rights it grants of them.
func TestNeeded(t *testing.T) {
	fs := &Filesystem{
		Rules: []PathRule{
			{Path: "/etc/passwd", Access: []string{"read_file"}, Count: 1, Reason: "seen"},
			{Path: "/usr/lib", Access: []string{"read_file"}, Count: 9, Reason: "reads under /usr/lib"},
			{Path: "/work", Access: []string{"read_file", "make_reg", "write_file"}, Count: 2, Reason: "made in /work"},
		},
		NotAllowed: []PathWithheld{
			{Path: "/tmp", Access: []string{"make_reg", "remove_file"}, Count: 1, Reason: "/tmp as a whole"},
			{Path: "/etc", Access: []string{"make_reg"}, Count: 1, Reason: "/etc as a whole"},
		},
	}
	refused := []FileAccess{
		{Path: "/etc/passwd", Access: fsBits(t, "read_file")},
		{Path: "/tmp/x", Access: fsBits(t, "make_reg")},
		{Path: "/work/new", Access: fsBits(t, "make_reg", "write_file")},
	}
	want := &Filesystem{
		Rules: []PathRule{
			{Path: "/etc/passwd", Access: []string{"read_file"}, Count: 1, Reason: "seen"},
			{Path: "/work", Access: []string{"write_file", "make_reg"}, Count: 2, Reason: "made in /work"},
		},
		NotAllowed: []PathWithheld{{Path: "/tmp", Access: []string{"make_reg"}, Count: 1, Reason: "/tmp as a whole"}},
	}
	if got := fs.Needed(refused); !reflect.DeepEqual(got, want) {
		t.Errorf("Needed = %+v, want %+v", got, want)
	}
	if got := fs.Needed(nil); !reflect.DeepEqual(got, &Filesystem{Rules: []PathRule{}}) {
		t.Errorf("Needed(nothing refused) = %+v, want an empty section (a missing one would lift every restriction in a merge)", got)
	}

	n := &Network{Rules: []PortRule{{Access: "connect_tcp", Port: 443}, {Access: "bind_tcp", Port: 80}, {Access: "connect_tcp", Port: 80}}}
	got := n.Needed([]PortAccess{{Port: 80, Access: linuxabi.LandlockConnectTCP}})
	if want := (&Network{Rules: []PortRule{{Access: "connect_tcp", Port: 80}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("Network.Needed = %+v, want %+v", got, want)
	}
}
