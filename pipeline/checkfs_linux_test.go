package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// recordFiles records argv with its files and ports, as `sysrec record`
// does by default.
func recordFiles(t *testing.T, argv ...string) *profiles.Profile {
	t.Helper()
	var out bytes.Buffer
	res, err := Record(context.Background(), RecordOptions{
		Recorder: recorder.Options{Command: argv, Files: true, Stdout: &out, Stderr: &out},
		Reduce:   reducer.Options{Runtime: RuntimeAuto},
		Output:   filepath.Join(t.TempDir(), "p.json"),
	})
	if err != nil {
		t.Fatalf("record %q: %v\n%s", argv, err, out.Bytes())
	}
	if res.Profile.Filesystem == nil || res.Profile.Network == nil {
		t.Fatalf("record %q: no Landlock sections", argv)
	}
	return res.Profile
}

// refused lists a check's file and port findings as "RIGHT PATH" and
// "RIGHT PORT".
func refused(res *CheckResult) []string {
	var out []string
	for _, f := range res.Files {
		for _, r := range linuxabi.LandlockFSNames(f.Access) {
			out = append(out, r+" "+f.Path)
		}
	}
	for _, p := range res.Ports {
		for _, r := range linuxabi.LandlockNetNames(p.Access) {
			out = append(out, r+" "+strconv.Itoa(int(p.Port)))
		}
	}
	return out
}

// loadFragment reads the fragment check wrote and merges it into p.
func mergeFragment(t *testing.T, p *profiles.Profile, path string) *profiles.Profile {
	t.Helper()
	frag, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := profiles.Merge(p, frag)
	if err != nil {
		t.Fatal(err)
	}
	return merged
}

// TestCheckReportsFiles: check lets the files a profile's filesystem
// section does not grant through and names each with its right, and the
// fragment it writes, merged, lets run pass. Before, check enforced the
// section: ls died at its own exec (Landlock refused execute on it, and
// nothing but the syscalls was reported), and cat printed nothing of
// /etc/passwd yet check said "no violations".
func TestCheckReportsFiles(t *testing.T) {
	testenv.RequireRoot(t)
	ls, err := exec.LookPath("ls")
	if err != nil {
		t.Fatal(err)
	}
	lsExe, err := filepath.EvalSymlinks(ls) // what the kernel resolves the exec to
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	firstLine, _, _ := strings.Cut(string(passwd), "\n")
	for _, tc := range []struct {
		name      string
		recorded  []string
		checked   []string
		syscalls  []string // violations that must be among those reported
		files     []string // findings that must be among those reported
		notFiles  []string // findings that must not be
		outputHas string
	}{
		{"ls under the profile of true", []string{"true"}, []string{"ls", "/"},
			[]string{"getdents64()"}, []string{"execute " + lsExe, "read_dir /"}, nil, root[len(root)-1].Name()},
		{"cat /etc/passwd under the profile of cat /etc/hostname", []string{"cat", "/etc/hostname"}, []string{"cat", "/etc/passwd"},
			nil, []string{"read_file /etc/passwd"}, []string{"read_file /etc/hostname", "execute " + lsExe}, firstLine},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := recordFiles(t, tc.recorded...)
			frag := filepath.Join(t.TempDir(), "frag.json")
			var out bytes.Buffer
			res, err := Check(context.Background(), p, tc.checked, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockBestEffort, Output: frag})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.Bytes())
			}
			if res.Exit.Status != 0 || !strings.Contains(out.String(), tc.outputHas) {
				t.Errorf("%q under check: status %d, want 0 and %q in its output:\n%s", tc.checked, res.Exit.Status, tc.outputHas, out.Bytes())
			}
			var calls []string
			for _, v := range res.Violations {
				calls = append(calls, profiles.DescribeSample(v))
			}
			for _, c := range tc.syscalls {
				if !slices.Contains(calls, c) {
					t.Errorf("syscall violations %q, want %s among them", calls, c)
				}
			}
			got := refused(res)
			for _, f := range tc.files {
				if !slices.Contains(got, f) {
					t.Errorf("file findings %q, want %q among them", got, f)
				}
			}
			for _, f := range tc.notFiles {
				if slices.Contains(got, f) {
					t.Errorf("file findings %q: %q is granted", got, f)
				}
			}

			// The profile refuses the command; with the fragment merged
			// in, it runs.
			var before bytes.Buffer
			ex, err := Run(context.Background(), p, tc.checked, RunOptions{Stdio: Stdio{Out: &before, Err: &before}, Landlock: enforce.LandlockRequired})
			if err != nil || ex.Status == 0 {
				t.Errorf("%q under its profile alone: status %d, %v (want refused)\n%s", tc.checked, ex.Status, err, before.Bytes())
			}
			merged := mergeFragment(t, p, frag)
			var after bytes.Buffer
			ex, err = Run(context.Background(), merged, tc.checked, RunOptions{Stdio: Stdio{Out: &after, Err: &after}, Landlock: enforce.LandlockRequired})
			if err != nil || ex.Status != 0 || !strings.Contains(after.String(), tc.outputHas) {
				t.Errorf("%q under the merged profile: status %d, %v\n%s\n%s", tc.checked, ex.Status, err, after.Bytes(), profiles.Format(merged))
			}
		})
	}
}

// TestCheckReportsPorts: a TCP connect to a port the network section
// does not grant goes through under check and is reported; the fragment,
// merged, lets run connect there. Before, check enforced the section and
// the connect failed (EACCES) with nothing reported.
func TestCheckReportsPorts(t *testing.T) {
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	// The port comes from the environment: one the command line names
	// is a template, which check instantiates to the new port.
	recorded, recordedGot := listen(t)
	t.Setenv("TARGET_PORT", strconv.Itoa(recorded))
	p := recordFiles(t, target, "tcp", "0", "connect-env")
	if got := <-recordedGot; got != "connect-env" {
		t.Fatalf("the recorded run sent %q", got)
	}
	other, otherGot := listen(t)
	t.Setenv("TARGET_PORT", strconv.Itoa(other))
	argv := []string{target, "tcp", "0", "connect-env"}
	frag := filepath.Join(t.TempDir(), "frag.json")
	var out bytes.Buffer
	res, err := Check(context.Background(), p, argv, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: enforce.LandlockBestEffort, Output: frag})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	if res.Exit.Status != 0 {
		t.Fatalf("connect to %d under check: status %d\n%s", other, res.Exit.Status, out.Bytes())
	}
	if got := <-otherGot; got != "connect-env" {
		t.Errorf("port %d received %q under check, want the target's message", other, got)
	}
	want := fmt.Sprintf("connect_tcp %d", other)
	if got := refused(res); !slices.Equal(got, []string{want}) {
		t.Errorf("findings %q, want %q alone", got, want)
	}
	merged := mergeFragment(t, p, frag)
	var after bytes.Buffer
	ex, err := Run(context.Background(), merged, argv, RunOptions{Stdio: Stdio{Out: &after, Err: &after}, Landlock: enforce.LandlockRequired})
	if err != nil || ex.Status != 0 {
		t.Errorf("connect to %d under the merged profile: status %d, %v\n%s", other, ex.Status, err, after.Bytes())
	}
	if got := <-otherGot; got != "connect-env" {
		t.Errorf("port %d received %q under the merged profile", other, got)
	}
}

// listen accepts TCP connections on a free loopback port until the test
// ends, and sends what each connection sent on the channel.
func listen(t *testing.T) (int, <-chan string) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan string, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(30 * time.Second))
			b, err := io.ReadAll(c)
			c.Close()
			if err != nil {
				b = []byte(err.Error())
			}
			got <- string(b)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, got
}

// TestCheckFragmentKeepsSections: a check that finds nothing, or runs
// with files not compared, writes a fragment whose Landlock sections
// are there and empty, so merging it keeps the profile's. Before, the
// fragment had none and merge read that as "unrestricted": the merged
// profile granted every file and port. No cgroup or descriptor of the
// recordings is left behind.
func TestCheckFragmentKeepsSections(t *testing.T) {
	testenv.RequireRoot(t)
	p := recordFiles(t, "cat", "/etc/hostname")
	fds := openFDs(t)
	t.Cleanup(func() {
		if after := openFDs(t); after != fds {
			t.Errorf("%d file descriptors before, %d after", fds, after)
		}
		mount, err := recorder.CgroupMount()
		if err != nil {
			t.Fatal(err)
		}
		if left, err := filepath.Glob(filepath.Join(mount, fmt.Sprintf("sysrec-%d-*", os.Getpid()))); err != nil || len(left) > 0 {
			t.Errorf("cgroups left behind: %v %v", left, err)
		}
	})
	for _, mode := range []enforce.LandlockMode{enforce.LandlockBestEffort, LandlockOff} {
		t.Run(string(mode), func(t *testing.T) {
			frag := filepath.Join(t.TempDir(), "frag.json")
			var out bytes.Buffer
			res, err := Check(context.Background(), p, []string{"cat", "/etc/hostname"}, CheckOptions{Stdio: Stdio{Out: &out, Err: &out}, Landlock: mode, Output: frag})
			if err != nil || res.Exit.Status != 0 {
				t.Fatalf("status %d, %v\n%s", res.Exit.Status, err, out.Bytes())
			}
			if got := refused(res); len(got) > 0 {
				t.Errorf("findings %q for the recorded command", got)
			}
			merged := mergeFragment(t, p, frag)
			if merged.Filesystem == nil || merged.Network == nil {
				t.Fatalf("merged profile lost its Landlock sections:\n%s", profiles.Format(merged))
			}
			ex, err := Run(context.Background(), merged, []string{"cat", "/etc/passwd"}, RunOptions{Stdio: Stdio{Out: io.Discard, Err: io.Discard}, Landlock: enforce.LandlockRequired})
			if err != nil || ex.Status == 0 {
				t.Errorf("cat /etc/passwd under the merged profile: status %d, %v (want refused)", ex.Status, err)
			}
		})
	}
}
