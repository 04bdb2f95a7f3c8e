package analyze

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCacheRoundTrip(t *testing.T) {
	c := &summaryCache{dir: t.TempDir()}
	s := &summary{Format: summaryFormat, Machine: "EM_X86_64", Soname: "libx.so.1", Needed: []string{"libc.so.6"},
		Nodes:   []node{{Addr: 0x1000, Name: "f", Syscalls: []int32{1}, Via: []viaSyscall{{Nr: 312, Wrapper: -1}}}},
		Exports: []export{{Name: "f", Version: "X_1", Node: 0}}, Entry: -1}
	if got := c.load("00abc"); got != nil {
		t.Fatalf("empty cache returned %+v", got)
	}
	if err := c.store("00abc", s); err != nil {
		t.Fatal(err)
	}
	got := c.load("00abc")
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip: got %+v, want %+v", got, s)
	}
	// Only the entry is left behind, no temporary file.
	files, err := os.ReadDir(filepath.Dir(c.path("00abc")))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("cache directory holds %d files, want 1", len(files))
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
	var entries []string
	err = filepath.WalkDir(cacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
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
		if err := os.WriteFile(p, junk, 0o644); err != nil {
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
