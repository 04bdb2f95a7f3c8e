package profiles

import (
	"strings"
	"testing"
)

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/etc/passwd", "/etc/passwd"},
		{"/home/u/My Documents/é.txt", "/home/u/My Documents/é.txt"},
		{"/tmp/x\x1b[1A\x1b[2K", `"/tmp/x\x1b[1A\x1b[2K"`},
		{"/tmp/a\nb", `"/tmp/a\nb"`},
		{"/tmp/\u009b31m", `"/tmp/\u009b31m"`},
		{"/tmp/\xff", `"/tmp/\xff"`},
		{"/tmp/a\u202eb", `"/tmp/a\u202eb"`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestShowEscapes: a path the recorded program chose cannot write
// terminal controls through show, diff or a check message.
func TestShowEscapes(t *testing.T) {
	evil := "/tmp/x\x1b[1A\x1b[2K"
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Filesystem: &Filesystem{Rules: []PathRule{{Path: evil, Access: []string{"read_file"}}},
			NotAllowed: []PathWithheld{{Path: "/tmp", Access: []string{"make_reg"}, Reason: "r"}},
			Made:       []MadeFile{{Path: "/tmp/.x\x1b[2J"}}}}
	o := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Filesystem: &Filesystem{}}
	var out []string
	out = append(out, Format(p))
	out = append(out, Diff(o, p).Text())
	out = append(out, DescribeFileAccess(FileAccess{Path: evil, Access: 1})...)
	for _, s := range out {
		if strings.ContainsRune(s, 0x1b) {
			t.Errorf("an escape printed: %q", s)
		}
	}
}
