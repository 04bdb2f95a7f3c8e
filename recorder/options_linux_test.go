package recorder

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/profiles"
)

func TestValidate(t *testing.T) {
	const available = 31 << 30 / 10 // 3.1 GiB
	def := profiles.DefaultTransition()
	cmd := []string{"/bin/true"}
	for _, tc := range []struct {
		name string
		opts Options
		want string // "" when valid; else a part of the error
	}{
		{"command", Options{Command: cmd}, ""},
		{"cgroup", Options{Cgroup: "a/b"}, ""},
		{"command in a cgroup", Options{Command: cmd, Cgroup: "a/b"}, ""},
		{"pid", Options{PID: 1234}, ""},
		{"no target", Options{}, ErrNoTarget.Error()},
		{"command and pid", Options{Command: cmd, PID: 1}, ErrNoTarget.Error()},
		{"negative pid", Options{PID: -1}, "pid -1 is negative"},
		{"duration", Options{Command: cmd, Duration: time.Second}, ""},
		{"negative duration", Options{Command: cmd, Duration: -time.Second}, "duration -1s is negative"},
		{"negative stop timeout", Options{Command: cmd, StopTimeout: -1}, "stop timeout -1ns is negative"},
		{"negative progress interval", Options{Command: cmd, ProgressInterval: -time.Millisecond}, "progress interval -1ms is negative"},
		{"default keys", Options{Command: cmd, MaxKeys: 0}, ""},
		{"one key", Options{Command: cmd, MaxKeys: 1}, ""},
		{"a million keys", Options{Command: cmd, MaxKeys: 1 << 20}, ""},
		{"negative keys", Options{Command: cmd, MaxKeys: -1}, "max keys -1: want at least 1 (0 means the default, 32768)"},
		{"more keys than memory", Options{Command: cmd, MaxKeys: 1 << 24}, "max keys 16777216 needs about 3.0 GiB of kernel memory"},
		{"50 million keys", Options{Command: cmd, MaxKeys: 50000000}, "max keys 50000000 needs about 9.3 GiB of kernel memory; at most 16777216 keys (about 3.0 GiB) are allowed"},
		{"int32 keys", Options{Command: cmd, MaxKeys: 2147483647}, "max keys 2147483647 needs about 384.0 GiB"},
		{"default transition", Options{Command: cmd, Transition: &def}, ""},
		{"transition of another arch's names", Options{Command: cmd, Transition: &profiles.Transition{After: []string{"poll", "ppoll"}}}, ""},
		{"empty transition", Options{Command: cmd, Transition: &profiles.Transition{}}, "transition: no syscall to start serving at"},
		{"transition typo", Options{Command: cmd, Transition: &profiles.Transition{After: []string{"acept4"}}}, `transition: unknown syscall "acept4" (did you mean "accept4"?)`},
		{"transition gate", Options{Command: cmd, Transition: &profiles.Transition{After: []string{"accept"}, Gate: "bind"}}, `transition: unknown gate "bind" (want listen, or none)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			avail := uint64(available)
			if tc.name == "more keys than memory" {
				avail = 1 << 30
			}
			err := tc.opts.validate(func() (uint64, error) { return avail, nil })
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error with %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "--"):
				t.Errorf("Validate: %v names a command-line flag", err)
			}
		})
	}
	t.Run("memory", func(t *testing.T) {
		err := Options{Command: cmd, MaxKeys: 1 << 22}.validate(func() (uint64, error) { return 100 << 20, nil })
		if want := "max keys 4194304 needs about 768.0 MiB of kernel memory; this machine has 100.0 MiB available"; err == nil || err.Error() != want {
			t.Errorf("Validate: %v, want %q", err, want)
		}
		// Without /proc/meminfo the kernel's answer is the last word.
		if err := (Options{Command: cmd, MaxKeys: 1 << 22}.validate(func() (uint64, error) { return 0, errors.New("no meminfo") })); err != nil {
			t.Errorf("Validate without meminfo: %v", err)
		}
	})
	t.Run("this machine", func(t *testing.T) {
		if _, err := memAvailable(); err != nil {
			t.Fatal(err)
		}
		if err := (Options{Command: cmd}).Validate(); err != nil {
			t.Errorf("default options: %v", err)
		}
	})
}

// TestMapMemory fills the counts and errnos maps of a recording and
// compares mapMemory with what the kernel says they take (memlock in /proc/self/fdinfo).
func TestMapMemory(t *testing.T) {
	testenv.RequireRoot(t)
	shapes, err := mapShapes(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, keys := range []int{64, 1000, DefaultMaxKeys, 1 << 18} {
		maps, err := recordingMaps(shapes, sessionOptions{fromExec: true, maxKeys: keys})
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]bpfprog.Key, keys)
		for i := range counts {
			counts[i].Nr = uint32(i)
		}
		errnos := make([]bpfprog.ErrKey, errnoKeys(keys))
		for i := range errnos {
			errnos[i].Key.Nr = uint32(i)
		}
		if _, err := maps["counts"].BatchUpdate(counts, make([]uint64, len(counts)), nil); err != nil {
			t.Fatalf("fill %d keys: %v", keys, err)
		}
		if _, err := maps["errnos"].BatchUpdate(errnos, make([]uint64, len(errnos)), nil); err != nil {
			t.Fatalf("fill %d errno keys: %v", len(errnos), err)
		}
		got := memlock(t, maps["counts"]) + memlock(t, maps["errnos"])
		for _, m := range maps {
			m.Close()
		}
		est := mapMemory(keys)
		if diff := float64(est)/float64(got) - 1; (diff < -0.05 || diff > 0.05) && max(est, got)-min(est, got) > 4096 {
			t.Errorf("%d keys: estimated %d bytes, the kernel says %d (%+.1f%%)", keys, est, got, 100*diff)
		}
	}
}

func memlock(t *testing.T, m *ebpf.Map) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", m.FD()))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "memlock:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no memlock in fdinfo of map %v", m)
	return 0
}

// TestPhaseRule: a transition is lowered to the host's numbers, names
// it does not have left out; none at all is an error.
func TestPhaseRule(t *testing.T) {
	arch, err := hostArch()
	if err != nil {
		t.Fatal(err)
	}
	def := profiles.DefaultTransition()
	r, err := phaseRule(arch, &def)
	if err != nil {
		t.Fatal(err)
	}
	if r.Blocking != 1 || r.GateListen != 1 {
		t.Errorf("default rule: blocking %d, gate listen %d; want 1, 1", r.Blocking, r.GateListen)
	}
	set := 0
	for _, w := range r.After {
		for ; w != 0; w &= w - 1 {
			set++
		}
	}
	want := 0
	for _, name := range def.After {
		nr, ok := arch.Number(name)
		if !ok {
			continue
		}
		want++
		if r.After[nr/64]&(1<<(nr%64)) == 0 {
			t.Errorf("%s (nr %d) not in the lowered rule", name, nr)
		}
	}
	if set != want {
		t.Errorf("%d calls in the lowered rule, want %d", set, want)
	}
	if r, err := phaseRule(arch, nil); r != nil || err != nil {
		t.Errorf("no transition lowered to %v, %v; want none", r, err)
	}
	if _, err := phaseRule(arch, &profiles.Transition{After: []string{"socketcall"}}); err == nil || !strings.Contains(err.Error(), "none of socketcall is a syscall of "+arch.Name) {
		t.Errorf("a transition of i386 names only: %v", err)
	}
}
