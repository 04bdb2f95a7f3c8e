package emit_test

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/ocitest"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// setupCall is one call a runtime's init made after installing the
// container's filter, with the arguments the argument table records.
type setupCall struct {
	name     string
	args     [6]uint64
	recorded [6]bool
}

func (c setupCall) String() string {
	var parts []string
	for i, ok := range c.recorded {
		if ok {
			parts = append(parts, fmt.Sprintf("arg%d=%#x", i, c.args[i]))
		}
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}

// straceLine is one call strace -f -e raw=all printed: the thread, the
// call and its arguments as numbers, and its result when it is on the
// same line.
type straceLine struct {
	tid    int
	name   string
	args   []uint64
	result string // "" when unfinished
}

// parseStrace reads the calls' entries from strace -f -qq -e raw=all
// -e signal=none output ("<... resumed>" halves are skipped: the
// arguments are on the entry line).
func parseStrace(path string) ([]straceLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []straceLine
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		tidStr, rest, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		tid, err := strconv.Atoi(tidStr)
		if err != nil {
			continue
		}
		rest = strings.TrimLeft(rest, " ")
		open := strings.IndexByte(rest, '(')
		if open <= 0 || strings.HasPrefix(rest, "<...") || strings.HasPrefix(rest, "+++") {
			continue
		}
		l := straceLine{tid: tid, name: rest[:open]}
		argText := rest[open+1:]
		if i := strings.Index(argText, " <unfinished ...>"); i >= 0 {
			argText = argText[:i]
		} else if i := strings.LastIndex(argText, ") "); i >= 0 {
			l.result = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(argText[i+1:]), "="))
			argText = argText[:i]
		}
		for _, a := range strings.Split(argText, ",") {
			a = strings.TrimSpace(a)
			if a == "" {
				continue
			}
			v, err := strconv.ParseUint(a, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: argument %q of %q is not a number", path, a, s.Text())
			}
			l.args = append(l.args, v)
		}
		out = append(out, l)
	}
	return out, s.Err()
}

// installsFilter reports whether l installs a seccomp filter:
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) or
// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog).
func installsFilter(l straceLine) (ok, tsync bool) {
	switch {
	case l.name == "prctl" && len(l.args) >= 3 && l.args[0] == 22 && l.args[1] == 2:
		return !strings.HasPrefix(l.result, "-1"), false
	case l.name == "seccomp" && len(l.args) >= 3 && l.args[0] == 1 && l.args[2] != 0:
		return !strings.HasPrefix(l.result, "-1"), l.args[1]&1 != 0
	}
	return false, false
}

// setupCalls returns the calls the thread that installed the last
// filter made from the install until its execve, inclusive.
func setupCalls(t *testing.T, lines []straceLine) []setupCall {
	t.Helper()
	at := -1
	for i, l := range lines {
		if ok, tsync := installsFilter(l); ok {
			if tsync {
				t.Fatalf("the runtime installs its filter with SECCOMP_FILTER_FLAG_TSYNC: the calls of its other threads count too, and this learner follows one thread")
			}
			at = i
		}
	}
	if at < 0 {
		t.Fatal("no seccomp filter installed in the trace")
	}
	tid := lines[at].tid
	var calls []setupCall
	for _, l := range lines[at+1:] {
		if l.tid != tid {
			continue
		}
		var args [6]uint64
		copy(args[:], l.args)
		vals, rec := linuxabi.MaskArgs(l.name, args)
		calls = append(calls, setupCall{name: l.name, args: vals, recorded: rec})
		if l.name == "execve" || l.name == "execveat" {
			return calls
		}
	}
	t.Fatalf("thread %d never exec'd after installing the filter", tid)
	return nil
}

// learnSetup runs runtime's container under strace and returns the
// setup calls of its init, with or without no_new_privs.
func learnSetup(t *testing.T, runtime string, nnp, createStart bool, id string) []setupCall {
	t.Helper()
	strace := testenv.RequireTool(t, "strace")
	dir := ocitest.Bundle(t, runtime, "/bin/echo", "ran")
	ocitest.Configure(t, dir, func(cfg map[string]any) {
		proc := cfg["process"].(map[string]any)
		proc["noNewPrivileges"] = nnp
		// As Docker and Podman run a container by default: root with
		// supplementary groups and their default capabilities, in a
		// working directory of its own.
		proc["user"] = map[string]any{"uid": 0, "gid": 0, "additionalGids": []int{1, 2, 3, 4, 6, 10, 11, 20, 26, 27}}
		proc["cwd"] = "/tmp"
		caps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
		proc["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps}
		linux := cfg["linux"].(map[string]any)
		linux["cgroupsPath"] = "/sysrec-learn-" + id
		// A filter that allows everything but one call nobody makes:
		// the runtime installs it where it installs any.
		linux["seccomp"] = map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls":      []any{map[string]any{"names": []string{"getpriority"}, "action": "SCMP_ACT_ERRNO"}},
		}
	})
	trace := filepath.Join(t.TempDir(), "strace.out")
	straced := func(args ...string) []string {
		argv := append([]string{strace, "-f", "-qq", "-e", "raw=all", "-e", "signal=none", "-o", trace, "--", runtime}, args...)
		if filepath.Base(runtime) == "crun" {
			argv = ocitest.UnifiedArgv(argv...)
		}
		return argv
	}
	defer ocitest.Delete(runtime, id)
	if !createStart {
		argv := straced("run", "--bundle", dir, id)
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil || !strings.Contains(string(out), "ran") {
			t.Fatalf("%s under strace: %v\n%s", runtime, err, out)
		}
	} else {
		// As the engines do: create, wait for the created state, start.
		argv := straced("create", "--bundle", dir, id)
		create := exec.Command(argv[0], argv[1:]...)
		var out strings.Builder
		create.Stdout, create.Stderr = &out, &out
		if err := create.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- create.Wait() }()
		if err := ocitest.WaitState(runtime, id, "created", done); err != nil {
			t.Fatalf("%s create: %v\n%s", runtime, err, out.String())
		}
		start := ocitest.RuntimeArgv(runtime, "start", id)
		if b, err := exec.Command(start[0], start[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s start: %v\n%s", runtime, err, b)
		}
		// strace ends when the container's process has exited.
		if err := <-done; err != nil || !strings.Contains(out.String(), "ran") {
			t.Fatalf("%s create/start under strace: %v\n%s", runtime, err, out.String())
		}
	}
	lines, err := parseStrace(trace)
	if err != nil {
		t.Fatal(err)
	}
	return setupCalls(t, lines)
}

// allows reports whether the data's call c stands for the observed call.
func allows(c emit.ContainerSetupCall, o setupCall) bool {
	if c.Name != o.name {
		return false
	}
	for _, r := range c.Args {
		if !o.recorded[r.Index] || !r.Match(o.args[r.Index], profiles.WidthOf(c.Name, r)) {
			return false
		}
	}
	return true
}

// TestContainerSetup runs runc and crun under strace as Docker and Podman
// run them (root with supplementary groups and Docker's default
// capabilities; with and without no_new_privs; `run`, and `create` then
// `start`) and checks emit.ContainerRuntimes against what their init called
// between installing the filter and exec'ing the container's process:
// every call is in the data, and every entry not marked Timing was
// made. SYSREC_LEARN_RUNS (default 2) runs per mode; -v prints how
// often each call was seen.
func TestContainerSetup(t *testing.T) {
	runs := 2
	if s := os.Getenv("SYSREC_LEARN_RUNS"); s != "" {
		var err error
		if runs, err = strconv.Atoi(s); err != nil || runs < 1 {
			t.Fatalf("SYSREC_LEARN_RUNS=%q: want a positive number", s)
		}
	}
	for _, rt := range emit.ContainerRuntimes() {
		t.Run(rt.Name, func(t *testing.T) {
			testenv.RequireRoot(t)
			bin := testenv.RequireTool(t, rt.Name)
			if v := ocitest.Version(bin); v != rt.Version {
				t.Logf("the data was learned on %q, this is %q: checking it still holds", rt.Version, v)
			}
			made := map[int]bool{} // entries seen in some run of a mode they apply to
			for _, mode := range []struct{ nnp, createStart bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
				seen := map[string]int{}
				for i := range runs {
					id := fmt.Sprintf("sysrec-learn-%s-%v-%v-%d", rt.Name, mode.nnp, mode.createStart, i)
					calls := learnSetup(t, bin, mode.nnp, mode.createStart, id)
					distinct := map[string]bool{}
					for _, o := range calls {
						distinct[o.String()] = true
						j := slices.IndexFunc(rt.Calls, func(c emit.ContainerSetupCall) bool { return allows(c, o) && !(c.WithoutNNP && mode.nnp) })
						if j < 0 {
							t.Errorf("no_new_privs=%v create/start=%v: %s is not in emit's %s setup calls", mode.nnp, mode.createStart, o, rt.Name)
							continue
						}
						made[j] = true
					}
					for k := range distinct {
						seen[k]++
					}
				}
				keys := slices.Sorted(maps.Keys(seen))
				for _, k := range keys {
					t.Logf("no_new_privs=%-5v create/start=%-5v %-32s in %d of %d runs", mode.nnp, mode.createStart, k, seen[k], runs)
				}
			}
			for j, c := range rt.Calls {
				if !made[j] && !c.Timing {
					t.Errorf("%s setup call %s (%s) was not made in any run: drop it, or mark it Timing with the evidence", rt.Name, c.Name, c.Reason)
				}
			}
		})
	}
}
