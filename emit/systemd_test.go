package emit

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

// systemdVerify runs systemd-analyze verify on a unit with dropin as its
// sysrec.conf and returns what it said about the drop-in (nothing when
// every line parsed). It needs no running systemd: the unit and its .d
// directory are found through SYSTEMD_UNIT_PATH.
func systemdVerify(t *testing.T, analyze string, dropin []byte) []string {
	t.Helper()
	dir := t.TempDir()
	unit := filepath.Join(dir, "sysrec-verify.service")
	if err := os.WriteFile(unit, []byte("[Unit]\nDescription=sysrec drop-in check\n[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(unit+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unit+".d", "sysrec.conf"), dropin, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":", "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	var complaints []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "sysrec.conf") {
			complaints = append(complaints, l)
		}
	}
	return complaints
}

// filterNames is the set of calls the drop-in's SystemCallFilter= lines
// allow, groups resolved by systemd-analyze syscall-filter.
func filterNames(t *testing.T, analyze, dropin string) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(dropin, "\n") {
		v, ok := strings.CutPrefix(l, "SystemCallFilter=")
		if !ok {
			continue
		}
		if strings.HasPrefix(v, "~") {
			t.Fatalf("a deny list in an allow-list drop-in: %s", l)
		}
		for _, n := range strings.Fields(v) {
			if !strings.HasPrefix(n, "@") {
				names = append(names, n)
				continue
			}
			out, err := exec.Command(analyze, "syscall-filter", "--no-pager", n).Output()
			if err != nil {
				t.Fatalf("systemd-analyze syscall-filter %s: %v", n, err)
			}
			for _, m := range strings.Split(string(out), "\n")[1:] {
				if m = strings.TrimSpace(m); m != "" && !strings.HasPrefix(m, "#") {
					names = append(names, m)
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// TestSystemdVerify: every drop-in parses under systemd-analyze verify
// without a word about it (an unknown key or a system call name its
// libseccomp does not know is a complaint, checked first), and the calls
// its SystemCallFilter= allows are the profile's: every call an allow or
// log entry lets through, and clone3 where RestrictNamespaces= answers it
// with ENOSYS as the profile does.
func TestSystemdVerify(t *testing.T) {
	analyze := testenv.RequireTool(t, "systemd-analyze")
	if c := systemdVerify(t, analyze, []byte("[Service]\nSystemCallFilter=read no_such_call\nNoSuchKey=1\n")); len(c) != 2 {
		t.Fatalf("a bad drop-in drew %d complaints, want 2: %q", len(c), c)
	}
	sample, err := profiles.Load("testdata/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	docker, err := profiles.Load("testdata/docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	deny := sample.Clone()
	deny.DefaultAction = profiles.ActAllow
	deny.Syscalls = []profiles.Syscall{{Name: "ptrace", Action: profiles.ActKillProcess}, {Name: "getpriority", Action: profiles.ActENOSYS}}
	twoArch := sample.Clone()
	twoArch.Arch = []string{"x86_64", "i386"}
	twoArch.Syscalls = append(twoArch.Syscalls, profiles.Syscall{Name: "socketcall", Arch: "i386"})
	for _, tc := range []struct {
		name string
		p    *profiles.Profile
		want []string // lines the drop-in has
	}{
		{"sample", sample, []string{"RestrictNamespaces=yes", "RestrictAddressFamilies=AF_INET AF_UNIX", "SocketBindAllow=tcp:8080", "SocketBindDeny=tcp", "ProtectSystem=strict"}},
		{"docker-default", docker, []string{"SystemCallErrorNumber=EPERM"}},
		{"deny-list", deny, []string{"SystemCallFilter=~ptrace getpriority:ENOSYS"}},
		{"two-arches", twoArch, []string{"SystemCallArchitectures=x86-64 x86"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Systemd(tc.p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c := systemdVerify(t, analyze, out); len(c) > 0 {
				t.Errorf("systemd-analyze verify complains:\n%s\n%s", strings.Join(c, "\n"), out)
			}
			for _, w := range tc.want {
				if !slices.Contains(strings.Split(string(out), "\n"), w) {
					t.Errorf("no line %q in\n%s", w, out)
				}
			}
			if tc.p.DefaultAction == profiles.ActAllow {
				return
			}
			var want []string
			for _, s := range tc.p.Syscalls {
				if s.Action.IsZero() || s.Action.Kind == profiles.Allow || s.Action.Kind == profiles.Log ||
					s.Name == "clone3" && s.Action == profiles.ActENOSYS && strings.Contains(string(out), "\nRestrictNamespaces=") {
					want = append(want, s.Name)
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			if got := filterNames(t, analyze, string(out)); !slices.Equal(got, want) {
				t.Errorf("SystemCallFilter= allows %v\nthe profile lets through %v", got, want)
			}
		})
	}
}
