package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// system are the rules a shell and its libraries need to start.
var system = []profiles.PathRule{
	{Path: "/usr", Access: []string{"execute", "read_file", "read_dir"}},
	{Path: "/etc/ld.so.cache", Access: []string{"read_file"}},
}

// confined is a profile that allows every syscall and confines with
// Landlock only.
func confined(rules []profiles.PathRule, scopes ...profiles.Scope) *profiles.Profile {
	p := &profiles.Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: profiles.ActAllow, Scopes: scopes}
	if rules != nil {
		p.Filesystem = &profiles.Filesystem{Rules: append(append([]profiles.PathRule{}, system...), rules...)}
	}
	return p
}

// runConfined runs argv under p (Landlock required) and returns its
// combined output.
func runConfined(t *testing.T, p *profiles.Profile, argv ...string) (enforce.Exit, string, error) {
	t.Helper()
	var out bytes.Buffer
	ex, err := Run(context.Background(), p, argv, RunOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockRequired})
	return ex, out.String(), err
}

// TestSymlinkAtRulePath: a profile grants writing dir/out.txt (or into
// dir/sub); the program, or anyone who can write dir, replaces that path
// by a symlink to a secret. The run is refused before the target starts,
// naming the link, and the secret is untouched. Before, the rule was put
// on the link's target and the writer wrote the secret.
func TestSymlinkAtRulePath(t *testing.T) {
	testenv.RequireRoot(t)
	write := []string{"write_file", "truncate", "make_reg"}
	for _, tc := range []struct {
		name   string
		rule   string // relative to dir
		link   string // replaced by a symlink to the secret directory
		target string // what the writer writes, relative to dir
		want   string
	}{
		{"file replaced", "sub/out.txt", "sub/out.txt", "sub/out.txt", "landlock rule %s/sub/out.txt: path is a symlink"},
		{"directory replaced", "sub", "sub", "sub/out.txt", "landlock rule %s/sub: path is a symlink"},
		{"directory above replaced", "sub/out.txt", "sub", "sub/out.txt", "landlock rule %s/sub/out.txt: path passes through the symlink %[1]s/sub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, secrets := t.TempDir(), t.TempDir()
			secret := filepath.Join(secrets, "out.txt")
			if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "sub/out.txt"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			p := confined([]profiles.PathRule{{Path: filepath.Join(dir, tc.rule), Access: write}})
			writer := []string{"sh", "-c", "echo written > " + filepath.Join(dir, tc.target) + " && echo ran"}
			// The profile works as recorded.
			if ex, out, err := runConfined(t, p, writer...); err != nil || ex.Status != 0 || !strings.Contains(out, "ran") {
				t.Fatalf("writer before the swap: status %d, %v\n%s", ex.Status, err, out)
			}
			link := filepath.Join(dir, tc.link)
			if err := os.RemoveAll(link); err != nil {
				t.Fatal(err)
			}
			to := secrets
			if tc.link == tc.target {
				to = secret
			}
			if err := os.Symlink(to, link); err != nil {
				t.Fatal(err)
			}
			_, out, err := runConfined(t, p, writer...)
			if want := fmt.Sprintf(tc.want, dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("writer after the swap: %v, want an error containing %q\n%s", err, want, out)
			}
			if strings.Contains(out, "ran") {
				t.Errorf("the writer ran:\n%s", out)
			}
			if b, err := os.ReadFile(secret); err != nil || string(b) != "secret\n" {
				t.Errorf("secret now %q, %v", b, err)
			}
		})
	}
}

// TestHardLinkAtRulePath: a recorded output replaced by a hard link to
// a secret (planted while the program was recorded, unconfined) does not
// carry the rule's write right to the secret: the rule is refused and
// named before the target runs.
func TestHardLinkAtRulePath(t *testing.T) {
	testenv.RequireRoot(t)
	dir, secrets := t.TempDir(), t.TempDir()
	secret := filepath.Join(secrets, "secret")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := confined([]profiles.PathRule{{Path: out, Access: []string{"write_file", "truncate"}}})
	writer := []string{"sh", "-c", "echo written > " + out + " && echo ran"}
	if ex, o, err := runConfined(t, p, writer...); err != nil || ex.Status != 0 || !strings.Contains(o, "ran") {
		t.Fatalf("writer before the swap: status %d, %v\n%s", ex.Status, err, o)
	}
	if err := os.Remove(out); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(secret, out); err != nil {
		t.Fatal(err)
	}
	_, o, err := runConfined(t, p, writer...)
	if want := "landlock rule " + out + ": the file has 2 hard links"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("writer after the swap: %v, want an error containing %q\n%s", err, want, o)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "secret\n" {
		t.Errorf("secret now %q, %v", b, err)
	}
}

// TestProcSelfRule: a rule on /proc/self/status (or thread-self) lets the
// target read its own status, through /proc/self as programs name it,
// while the rest of /proc stays refused, and the target's children (other
// pids) get no such rule.
func TestProcSelfRule(t *testing.T) {
	testenv.RequireRoot(t)
	p := confined([]profiles.PathRule{
		{Path: "/proc/self/status", Access: []string{"read_file"}},
		{Path: "/proc/thread-self/status", Access: []string{"read_file"}},
	})
	// read is a shell builtin: the shell itself, the target, opens the file.
	ex, out, err := runConfined(t, p, "sh", "-c", `
read l < /proc/self/status && echo "self: $l"
read l < /proc/thread-self/status && echo "thread-self: $l"
read l < /proc/kallsyms || echo "kallsyms: refused"
read l < /proc/1/status || echo "init: refused"
sh -c 'read l < /proc/self/status' || echo "child: refused"`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"self: Name:\tsh", "thread-self: Name:\tsh", "kallsyms: refused", "init: refused", "child: refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output (status %d):\n%s", want, ex.Status, out)
		}
	}
}

// sleeper starts a process outside any target's tree, ended with the
// test.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command("sleep", "600")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

// TestScopeSignal: under a profile scoped to signals, the program cannot
// kill a process outside its tree (EPERM, the process lives on), and
// still signals itself and its own child; without the scope the same
// process can be signalled.
func TestScopeSignal(t *testing.T) {
	testenv.RequireRoot(t)
	victim := sleeper(t)
	script := fmt.Sprintf(`kill -%%s %d; echo "victim=$?"
kill -0 $$; echo "self=$?"
sleep 600 & c=$!; kill -9 $c; echo "child=$?"; wait $c; echo "waited=$?"`, victim.Process.Pid)
	for _, tc := range []struct {
		name   string
		scopes []profiles.Scope
		signal string
		want   []string
	}{
		{"scoped", []profiles.Scope{profiles.ScopeSignal}, "9", []string{"Operation not permitted", "victim=1", "self=0", "child=0", "waited=137"}},
		{"not scoped", nil, "0", []string{"victim=0", "self=0", "child=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := runConfined(t, confined(nil, tc.scopes...), "sh", "-c", fmt.Sprintf(script, tc.signal))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in the output:\n%s", w, out)
				}
			}
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", victim.Process.Pid))
			if err != nil || !strings.Contains(string(stat), ") S ") {
				t.Errorf("victim not sleeping: %q, %v", stat, err)
			}
		})
	}
}

// TestScopeAbstractUnixSocket: under a profile scoped to abstract unix
// sockets, the program cannot connect to one a process outside listens
// on (EPERM), and can to one it created; without the scope it can.
func TestScopeAbstractUnixSocket(t *testing.T) {
	testenv.RequireRoot(t)
	name := fmt.Sprintf("sysrec-test-%d", os.Getpid())
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: "@" + name, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv(testeeEnv, "abstract-connect")
	for _, tc := range []struct {
		name   string
		scopes []profiles.Scope
		want   []string
	}{
		{"scoped", []profiles.Scope{profiles.ScopeAbstractUnixSocket}, []string{"outside: operation not permitted", "own: connected"}},
		{"not scoped", nil, []string{"outside: connected", "own: connected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, out, err := runConfined(t, confined(nil, tc.scopes...), os.Args[0], name)
			if err != nil || ex.Status != 0 {
				t.Fatalf("status %d, %v\n%s", ex.Status, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in the output:\n%s", w, out)
				}
			}
		})
	}
}

// TestCheckExemptionEndsAtExec: check's helper may write to descriptor
// 1000 unreported to hand over its listener; a target that makes its own
// descriptor 1000 and writes there under a profile without write is
// reported like any other call. Before, the exemption matched the
// descriptor alone and the write went unreported.
func TestCheckExemptionEndsAtExec(t *testing.T) {
	testenv.RequireRoot(t)
	p := allowingAllBut(t, "write")
	t.Setenv(testeeEnv, "dup2-write")
	var out bytes.Buffer
	res, err := Check(context.Background(), p, []string{os.Args[0]}, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockBestEffort})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	if !strings.Contains(out.String(), "through 1000") {
		t.Errorf("the write did not happen (check lets violations through):\n%s", out.Bytes())
	}
	var names []string
	for _, v := range res.Violations {
		names = append(names, profiles.DescribeSample(v))
	}
	if !strings.Contains(strings.Join(names, " "), "write(") {
		t.Errorf("violations %q: the write to descriptor 1000 was not reported", names)
	}
}

// allowingAllBut is a profile that allows every native syscall but
// those named: check reports the calls it does not allow.
func allowingAllBut(t *testing.T, but ...string) *profiles.Profile {
	t.Helper()
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	p := &profiles.Profile{Version: 2, Arch: []string{arch.Name}, DefaultAction: profiles.ActKillProcess}
	for _, name := range arch.Syscalls() {
		if !slices.Contains(but, name) {
			p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: name})
		}
	}
	return p
}

// TestCheckSignalScope: check puts the target under the signal scope
// even when the profile has none, reports the refusal from the kernel's
// audit record (audit on), and the fragment keeps the profile's scopes
// except the one the run needed to cross, so merging it drops that scope
// only.
func TestCheckSignalScope(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.Audit(t, true)
	victim := sleeper(t)
	for _, tc := range []struct {
		name   string
		scopes []profiles.Scope
		kept   []profiles.Scope
	}{
		{"profile without scopes", nil, nil},
		{"profile with both scopes", []profiles.Scope{profiles.ScopeSignal, profiles.ScopeAbstractUnixSocket}, []profiles.Scope{profiles.ScopeAbstractUnixSocket}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := allowingAllBut(t)
			p.Scopes = tc.scopes
			var out bytes.Buffer
			res, err := Check(context.Background(), p, []string{"sh", "-c", fmt.Sprintf("kill -0 %d; exit 7", victim.Process.Pid)},
				CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockBestEffort, Output: filepath.Join(t.TempDir(), "frag.json")})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.Bytes())
			}
			if res.Exit.Status != 7 || !strings.Contains(out.String(), "Operation not permitted") {
				t.Errorf("status %d, want the target's 7 after a refused kill:\n%s", res.Exit.Status, out.Bytes())
			}
			var refused []string
			for _, d := range res.Exit.Landlock {
				refused = append(refused, d.String())
			}
			if want := fmt.Sprintf("signal to pid %d (sleep)", victim.Process.Pid); !slices.ContainsFunc(refused, func(s string) bool { return strings.HasPrefix(s, want) }) {
				t.Errorf("refusals %q, want %q", refused, want)
			}
			if !slices.Equal(res.Fragment.Scopes, tc.kept) {
				t.Errorf("fragment scopes %v, want %v", res.Fragment.Scopes, tc.kept)
			}
		})
	}
}

// testeeEnv makes this test binary a target (see testee) instead of
// running tests: a Go program makes no write or connect of its own.
const testeeEnv = "SYSREC_PIPELINE_TESTEE"

// testee runs a target mode and returns its exit status.
func testee(mode string, args []string) int {
	switch mode {
	case "dup2-write":
		// The descriptor the check helper's exemption names.
		if err := unix.Dup2(1, 1000); err != nil {
			fmt.Println(err)
			return 1
		}
		if _, err := unix.Write(1000, []byte("through 1000\n")); err != nil {
			fmt.Println(err)
			return 1
		}
		return 0
	case "abstract-connect":
		name := "@" + args[0]
		if c, err := net.Dial("unix", name); err != nil {
			fmt.Println("outside:", errors.Unwrap(errors.Unwrap(err)))
		} else {
			c.Close()
			fmt.Println("outside: connected")
		}
		l, err := net.Listen("unix", name+"-own")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer l.Close()
		c, err := net.Dial("unix", name+"-own")
		if err != nil {
			fmt.Println("own:", err)
			return 1
		}
		c.Close()
		fmt.Println("own: connected")
		return 0
	}
	fmt.Println("unknown testee mode", mode)
	return 2
}

// TestLandlockBeforeKill: a program refused a file by Landlock and then
// killed by seccomp (here getpriority, which the profile does not
// allow) gets both named: waiting for the kill's record used to read
// past the denial logged before it, and run named only the kill.
func TestLandlockBeforeKill(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.Audit(t, true)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := allowingAllBut(t, "getpriority")
	p.Filesystem = &profiles.Filesystem{Rules: system}
	p.Version = 2
	ex, out, err := runConfined(t, p, "sh", "-c", "cat "+secret+"; exec nice -n 0 true")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if ex.Signal != unix.SIGSYS || ex.Seccomp == nil {
		t.Errorf("kill not named: %+v\n%s", ex, out)
	}
	var refused []string
	for _, d := range ex.Landlock {
		refused = append(refused, d.String())
	}
	if !slices.ContainsFunc(refused, func(s string) bool { return strings.Contains(s, secret) }) {
		t.Errorf("landlock refusals %q, want the read of %s\n%s", refused, secret, out)
	}
}
