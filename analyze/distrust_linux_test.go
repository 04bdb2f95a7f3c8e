package analyze

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
)

// The attack of the review after issue 19's finding 4: a program sysrec
// records runs as the same user and, while it runs, puts a libc entry
// with the right content key and a summary where every function calls
// every other into the cache; later analyses of every libc program
// trusted it. Each case is a real process doing one way of putting it
// there; after Distrust, an analysis must equal a cold one. Before
// Distrust the poisoned entry must be where analyses load it from (or
// the case proves nothing),
// and the kernel must have dated what the program changed after the mark
// (the claims CacheMark rests on).
func TestCacheDistrustsTarget(t *testing.T) {
	prog, err := exec.LookPath("touch")
	if err != nil {
		t.Skip("no touch")
	}
	cold, err := Binary(prog, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(libcOf(t, cold))
	if err != nil {
		t.Fatal(err)
	}
	key := contentKey(data)
	poison := poisonedEntry(t, prog, key)

	tests := []struct {
		name   string
		script string
		// dated is what the program changed: its ctime must be later
		// than the mark ("": the cache directory is another inode).
		dated string
		root  bool
		// stepBack sets the realtime clock back 2 s while the program
		// runs (and forward again after), so that its change is dated
		// before the mark.
		stepBack bool
	}{
		{name: "overwrite in place", script: `cat "$POISON" > "$ENTRY"`, dated: "$ENTRY"},
		{name: "rename an older file in", script: `mv "$OLD" "$ENTRY"`, dated: "$ENTRY"},
		{name: "hard link an older file", script: `rm "$ENTRY" && ln "$OLD" "$ENTRY"`, dated: "$ENTRY"},
		{name: "swap the entry directory", script: `mv "$CACHE/$SUB" "$CACHE/$SUB.old" && mv "$EVIL/$SUB" "$CACHE/$SUB"`, dated: "$CACHE/$SUB"},
		{name: "swap the cache directory", script: `mv "$CACHE" "$CACHE.old" && mv "$EVIL" "$CACHE"`, dated: "$CACHE"},
		{name: "swap a directory above it", script: `mv "$XDG/sysrec" "$XDG/sysrec.old" && mv "$XDG/evil" "$XDG/sysrec"`},
		{name: "symbolic link to another cache", script: `mv "$CACHE" "$CACHE.old" && ln -s "$EVIL" "$CACHE"`},
		{name: "bind mount an older directory", script: `mount --bind "$EVIL/$SUB" "$CACHE/$SUB"`, root: true},
		{name: "overwrite with the clock set back", script: `cat "$POISON" > "$ENTRY"`, dated: "$ENTRY", root: true, stepBack: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				testenv.RequireRoot(t)
			}
			if tt.stepBack && os.Getenv("SYSREC_TEST_CLOCK") == "" {
				// Other packages' tests date files by ctime as well:
				// the host's clock is stepped only when this runs alone.
				t.Skip("sets the system clock back 2 s: SYSREC_TEST_CLOCK=1, alone (.ci/run does)")
			}
			xdg := t.TempDir()
			t.Setenv("XDG_CACHE_HOME", xdg)
			cache, err := DefaultCacheDir()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Binary(prog, Options{}); err != nil {
				t.Fatal(err)
			}
			c, err := openCache(cache)
			if err != nil {
				t.Fatal(err)
			}
			dir, entry := c.path(key)
			sub := filepath.Base(dir)
			if _, err := os.Stat(entry); err != nil {
				t.Fatalf("the analysis cached no libc entry: %v", err)
			}
			// What the program brings in is older than the mark: only
			// the changes it makes can date it.
			old := filepath.Join(xdg, "old.gob")
			if err := os.WriteFile(old, poison, 0o600); err != nil {
				t.Fatal(err)
			}
			evil := filepath.Join(xdg, "evil", "analyze")
			ec, err := openCache(evil)
			if err != nil {
				t.Fatal(err)
			}
			_, evilEntry := ec.path(key)
			if err := os.Mkdir(filepath.Dir(evilEntry), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(evilEntry, poison, 0o600); err != nil {
				t.Fatal(err)
			}
			before := gobFiles(t, cache)
			mounts, err := unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(mounts)

			m := MarkCache()
			if m.err != nil {
				t.Fatal(m.err)
			}
			defer m.close()
			env := map[string]string{"XDG": xdg, "CACHE": cache, "SUB": sub, "ENTRY": entry, "OLD": old, "POISON": old, "EVIL": evil}
			target := exec.Command("sh", "-c", tt.script)
			target.Env = os.Environ()
			for k, v := range env {
				target.Env = append(target.Env, k+"="+v)
			}
			if tt.stepBack {
				restore := stepClock(t, -2*time.Second)
				out, err := target.CombinedOutput()
				restore()
				if err != nil {
					t.Fatalf("%s: %v: %s", tt.script, err, out)
				}
			} else if out, err := target.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v: %s", tt.script, err, out)
			}
			if tt.root && !tt.stepBack {
				t.Cleanup(func() {
					if err := unix.Unmount(filepath.Join(cache, sub), unix.MNT_DETACH); err != nil {
						t.Error(err)
					}
				})
			}
			if tt.dated != "" {
				p := os.Expand(tt.dated, func(k string) string { return env[k] })
				var st unix.Stat_t
				if err := unix.Stat(p, &st); err != nil {
					t.Fatal(err)
				}
				if later(st.Ctim, m.since) == tt.stepBack {
					t.Errorf("%s: ctime %v, mark %v: want it dated after the mark unless the clock was set back", tt.dated, st.Ctim, m.since)
				}
			}
			// Where analyses look, the poisoned entry is found (read, not
			// analysed: an analysis would write the cache itself).
			if c, err := openCache(cache); err != nil {
				t.Fatal(err)
			} else if _, p := c.path(key); !sameFile(t, p, poison) {
				t.Fatalf("%s is not the poisoned entry: the attack would prove nothing", p)
			} else if s, err := c.load(key); s == nil || err != nil {
				t.Fatalf("the poisoned entry is not loaded (%v): the attack would prove nothing", err)
			}

			if err := m.Distrust(); err != nil {
				t.Fatal(err)
			}
			if tt.name == "overwrite in place" && !mountsChanged(mounts) {
				// In place, the entry directory keeps its time: only the
				// entry goes (unless another mount came and went).
				if after := gobFiles(t, cache); len(after) != len(before)-1 {
					t.Errorf("%d entries left of %d, want all but the overwritten one", len(after), len(before))
				}
			}
			warm, err := Binary(prog, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(warm.Names(), cold.Names()) {
				t.Errorf("after the program, %s reaches %d syscalls\n%v\nnot what a cold analysis finds (%d):\n%v", prog, len(warm.Names()), warm.Names(), len(cold.Names()), cold.Names())
			}
		})
	}
}

// poisonedEntry is the cache file of the libc whose contents hash to key,
// made with the cache's own functions, with every function calling
// every other.
func poisonedEntry(t *testing.T, prog string, key [32]byte) []byte {
	t.Helper()
	stage := filepath.Join(t.TempDir(), "stage")
	if _, err := Binary(prog, Options{CacheDir: stage}); err != nil {
		t.Fatal(err)
	}
	c, err := openCache(stage)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.load(key)
	if err != nil || s == nil {
		t.Fatalf("no libc entry in %s: %v", stage, err)
	}
	all := make([]int32, 0, len(s.Nodes))
	for i := range s.Nodes {
		all = append(all, int32(i))
	}
	for i := range s.Nodes {
		if !s.Nodes[i].Data {
			s.Nodes[i].Calls = all
		}
	}
	if err := c.store(key, s); err != nil {
		t.Fatal(err)
	}
	_, p := c.path(key)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var gobs []string
	for _, p := range cacheEntries(t, dir) {
		if strings.HasSuffix(p, ".gob") {
			gobs = append(gobs, p)
		}
	}
	return gobs
}

func sameFile(t *testing.T, path string, want []byte) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(b, want)
}

// stepClock sets the realtime clock by d and returns what sets it back,
// to the time it would show had it not been set (the monotonic clock
// measures the time in between): off by the microseconds the calls take.
func stepClock(t *testing.T, d time.Duration) (restore func()) {
	t.Helper()
	var real, mono unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); err != nil {
		t.Fatal(err)
	}
	if err := unix.ClockGettime(unix.CLOCK_REALTIME, &real); err != nil {
		t.Fatal(err)
	}
	stepped := unix.NsecToTimespec(real.Nano() + d.Nanoseconds())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &stepped); err != nil {
		t.Fatalf("set the clock: %v", err)
	}
	return func() {
		var now unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
			t.Error(err)
		}
		back := unix.NsecToTimespec(real.Nano() + now.Nano() - mono.Nano())
		if err := unix.ClockSettime(unix.CLOCK_REALTIME, &back); err != nil {
			t.Errorf("set the clock back: %v", err)
		}
	}
}
