package analyze

import (
	"crypto/sha256"
	"debug/elf"
	"errors"
	"github.com/sysrec/sysrec/analyze/elfload"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

func TestCacheRoundTrip(t *testing.T) {
	c, err := openCache(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	s := &summary{Format: summaryFormat, Machine: "EM_X86_64", Soname: "libx.so.1", Needed: []string{"libc.so.6"},
		Nodes:   []node{{Addr: 0x1000, Name: "f", Syscalls: []int32{1}, Via: []viaSyscall{{Nr: 312, Wrapper: -1}}}},
		Exports: []export{{Name: "f", Version: "X_1", Node: 0}}, Entry: -1}
	key := contentKey([]byte("libx"))
	if got, err := c.load(key); got != nil || err != nil {
		t.Fatalf("empty cache returned %+v, %v", got, err)
	}
	if err := c.store(key, s); err != nil {
		t.Fatal(err)
	}
	got, err := c.load(key)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("round trip: got %+v, %v, want %+v", got, err, s)
	}
	// Only the entry is left behind, no temporary file.
	dir, _ := c.path(key)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("cache directory holds %d files, want 1", len(files))
	}
	// An entry moved to another key describes other contents: a miss.
	other := contentKey([]byte("liby"))
	otherDir, otherPath := c.path(other)
	if err := os.MkdirAll(otherDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, p := c.path(key)
	if err := os.Rename(p, otherPath); err != nil {
		t.Fatal(err)
	}
	if got, err := c.load(other); got != nil || err != nil {
		t.Errorf("an entry for other contents was used: %+v, %v", got, err)
	}
}

// A corrupt or truncated entry is a miss, and the next analysis rewrites
// it.
func TestCacheCorruptEntry(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	bin := gcc(t, dir, "direct", testdata("direct.c"))
	cacheDir := filepath.Join(dir, "cache")
	first, err := Binary(bin, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	entries := cacheEntries(t, cacheDir)
	if len(entries) != len(first.Modules) {
		t.Fatalf("%d cache entries for %d modules", len(entries), len(first.Modules))
	}
	for i, p := range entries {
		junk := []byte("not a summary")
		if i%2 == 1 {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			junk = b[:len(b)/2]
		}
		if err := os.WriteFile(p, junk, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Binary(bin, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range second.Modules {
		if m.Cached {
			t.Errorf("%s: a corrupt entry was used", m.Path)
		}
	}
	if !reflect.DeepEqual(first.Names(), second.Names()) {
		t.Errorf("results differ after a corrupt cache:\n%v\n%v", first.Names(), second.Names())
	}
	third, err := Binary(bin, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range third.Modules {
		if !m.Cached {
			t.Errorf("%s: entry not rewritten", m.Path)
		}
	}
	if !reflect.DeepEqual(first.Syscalls, third.Syscalls) {
		t.Errorf("cached result differs from the fresh one")
	}
}

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	var entries []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// The attack of issue 19: an untrusted program ships, beside itself (its
// RUNPATH is $ORIGIN), a libc.so.6 with the real libc's build-id and
// size whose __libc_start_main makes setxattr and init_module. Analysing
// it must not change what the real libc is said to reach.
func TestCachePoisonedLibrary(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	real := gcc(t, dir, "real", testdata("direct.c"))
	cold, err := Binary(real, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	libc := libcOf(t, cold)
	planted := []string{"setxattr", "init_module"}
	for _, s := range planted {
		if cold.Has(s) {
			t.Fatalf("%s is reachable in the real program: the attack would prove nothing", s)
		}
	}

	evilDir := filepath.Join(dir, "evil")
	if err := os.Mkdir(evilDir, 0o755); err != nil {
		t.Fatal(err)
	}
	evil := gcc(t, evilDir, "prog", testdata("direct.c"), "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	fake := patchFunction(t, libc, "__libc_start_main", []byte{
		0xb8, 188, 0, 0, 0, 0x0f, 0x05, // mov $SYS_setxattr, %eax; syscall
		0xb8, 175, 0, 0, 0, 0x0f, 0x05, // mov $SYS_init_module, %eax; syscall
		0xc3, // ret
	})
	if err := os.WriteFile(filepath.Join(evilDir, "libc.so.6"), fake, 0o755); err != nil {
		t.Fatal(err)
	}

	r, err := Binary(evil, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range planted {
		if !r.Has(s) {
			t.Fatalf("the planted libc does not reach %s: the attack would prove nothing", s)
		}
	}
	warm, err := Binary(real, Options{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(warm.Names(), cold.Names()) {
		t.Errorf("after analysing %s, %s reaches\n%v\nnot what a cold analysis finds:\n%v", evil, real, warm.Names(), cold.Names())
	}
}

// libcOf is the path of the libc.so.6 r loads.
func libcOf(t *testing.T, r *Result) string {
	t.Helper()
	for _, m := range r.Modules {
		if m.Name == "libc.so.6" {
			return m.Path
		}
	}
	t.Fatalf("no libc.so.6 in %+v", r.Modules)
	return ""
}

// patchFunction returns the library at path with code written over the
// start of the exported function fn: the same size and build-id, other
// code.
func patchFunction(t *testing.T, path, fn string, code []byte) []byte {
	t.Helper()
	b, f := readELF(t, path)
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == fn && s.Size >= uint64(len(code)) })
	if i < 0 {
		t.Fatalf("%s: no function %s", path, fn)
	}
	text := f.Section(".text")
	at := syms[i].Value - text.Addr + text.Offset
	fake := slices.Clone(b)
	copy(fake[at:], code)
	if got, want := elfload.ReadBuildID(f, fake), elfload.ReadBuildID(f, b); got != want || want == "" {
		t.Fatalf("build-id %q, want %q", got, want)
	}
	if sha256.Sum256(fake) == sha256.Sum256(b) {
		t.Fatal("patch changed nothing")
	}
	return fake
}

// A cache another user could have written is not used: entries owned by
// someone else, a directory others can write.
func TestCacheOwnership(t *testing.T) {
	requireAMD64(t)
	testenv.RequireRoot(t)
	dir := t.TempDir()
	bin := gcc(t, dir, "direct", testdata("direct.c"))
	for _, tt := range []struct {
		name   string
		attack func(t *testing.T, cacheDir string)
		want   string
	}{
		{"entries of another user", func(t *testing.T, cacheDir string) {
			for _, p := range cacheEntries(t, cacheDir) {
				if err := os.Chown(p, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
		}, "owned by uid 65534"},
		{"entry writable by others", func(t *testing.T, cacheDir string) {
			for _, p := range cacheEntries(t, cacheDir) {
				if err := os.Chmod(p, 0o666); err != nil {
					t.Fatal(err)
				}
			}
		}, "writable by others"},
		{"directory of another user", func(t *testing.T, cacheDir string) {
			if err := os.Chown(cacheDir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "owned by uid 65534"},
		{"directory writable by others", func(t *testing.T, cacheDir string) {
			if err := os.Chmod(cacheDir, 0o777); err != nil {
				t.Fatal(err)
			}
		}, "writable by others"},
		{"parent writable by others", func(t *testing.T, cacheDir string) {
			if err := os.Chmod(filepath.Dir(cacheDir), 0o777); err != nil {
				t.Fatal(err)
			}
		}, "writable by others"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cacheDir := filepath.Join(t.TempDir(), "parent", "cache")
			if _, err := Binary(bin, Options{CacheDir: cacheDir}); err != nil {
				t.Fatal(err)
			}
			tt.attack(t, cacheDir)
			r, err := Binary(bin, Options{CacheDir: cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range r.Modules {
				if m.Cached {
					t.Errorf("%s: summary taken from the cache", m.Path)
				}
			}
			if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tt.want) }) {
				t.Errorf("warnings %q, want one saying %q", r.Warnings, tt.want)
			}
		})
	}
}

// A cache directory that does not exist yet is not created under a
// directory that fails the check (root running with a user's $HOME).
func TestCacheNotCreatedUnderOthers(t *testing.T) {
	testenv.RequireRoot(t)
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".cache", "sysrec", "analyze")
	if _, err := openCache(dir); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("got %v, want the owner refused", err)
	}
	if _, err := os.Lstat(filepath.Join(home, ".cache")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/.cache was created (%v)", home, err)
	}
}
