package emit

import (
	"strings"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

// TestMadeLeftOut: formats that carry Landlock rules without sysrec's
// supervisor say they leave the made files out, and grant nothing on
// their directories.
func TestMadeLeftOut(t *testing.T) {
	p := &profiles.Profile{Version: 2, Name: "made", Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess,
		Syscalls: []profiles.Syscall{{Name: "openat"}, {Name: "execve"}},
		Filesystem: &profiles.Filesystem{Rules: []profiles.PathRule{{Path: "/usr", Access: []string{"read_file", "execute"}}},
			Made: []profiles.MadeFile{{Path: "/tmp/.ZendSem.XXXXXX"}}},
		Network: &profiles.Network{Rules: []profiles.PortRule{}}}
	for name, emit := range map[string]func(*profiles.Profile, Options) ([]byte, error){"landrun": Landrun, "systemd": Systemd} {
		b, err := emit(p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := string(b)
		if !strings.Contains(out, "the made files /tmp/.ZendSem.XXXXXX (filesystem.made): only sysrec run's supervisor makes them") {
			t.Errorf("%s: no word of the made files:\n%s", name, out)
		}
		if strings.Contains(out, "--rw /tmp") || strings.Contains(out, "-/tmp") {
			t.Errorf("%s: grants on /tmp:\n%s", name, out)
		}
	}
}
