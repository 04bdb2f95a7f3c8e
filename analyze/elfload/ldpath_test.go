package elfload

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fakeLib writes the 20 bytes of ELF header searcher.fits reads.
func fakeLib(t *testing.T, path string, m elf.Machine) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 64)
	copy(hdr, elf.ELFMAG)
	hdr[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	binary.LittleEndian.PutUint16(hdr[18:], uint16(m))
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The order ld.so searches in, one rule at a time.
func TestSearchOrder(t *testing.T) {
	d := t.TempDir()
	p := func(s string) string { return filepath.Join(d, s) }
	for _, dir := range []string{"rpath", "exerpath", "libpath", "runpath", "cache", "default", "origin/lib"} {
		fakeLib(t, p(dir+"/libx.so.1"), elf.EM_X86_64)
	}
	fakeLib(t, p("wrongarch/libx.so.1"), elf.EM_AARCH64)
	exe := &Requester{Path: p("origin/app"), IsExe: true, Machine: elf.EM_X86_64.String(), Rpath: []string{p("exerpath")}}
	lib := func(rpath, runpath []string) *Requester {
		return &Requester{Path: p("lib/libreq.so"), Machine: elf.EM_X86_64.String(), Rpath: rpath, Runpath: runpath}
	}
	tests := []struct {
		name    string
		req     *Requester
		libPath []string
		cache   bool
		want    string
		how     string
	}{
		{"DT_RPATH first", lib([]string{p("wrongarch"), p("rpath")}, nil), []string{p("libpath")}, true, "rpath", "DT_RPATH"},
		{"then the executable's DT_RPATH", lib(nil, nil), []string{p("libpath")}, true, "exerpath", "DT_RPATH of the executable"},
		{"DT_RUNPATH turns DT_RPATH off", lib([]string{p("rpath")}, []string{p("runpath")}), nil, true, "runpath", "DT_RUNPATH"},
		{"library path before DT_RUNPATH", lib(nil, []string{p("runpath")}), []string{p("libpath")}, true, "libpath", "library path"},
		{"$ORIGIN", &Requester{Path: p("origin/app"), IsExe: true, Machine: elf.EM_X86_64.String(), Runpath: []string{"$ORIGIN/lib"}}, nil, true, "origin/lib", "DT_RUNPATH"},
		{"ld.so.cache", &Requester{Path: p("x"), Machine: elf.EM_X86_64.String()}, nil, true, "cache", "ld.so.cache"},
		{"default directories", &Requester{Path: p("x"), Machine: elf.EM_X86_64.String()}, nil, false, "default", "default directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Searcher{Machine: elf.EM_X86_64, LibraryPath: tt.libPath, DefaultDirs: []string{p("wrongarch"), p("default")}}
			if tt.cache {
				s.Cache = LDCache{"libx.so.1": {p("wrongarch/libx.so.1"), p("cache/libx.so.1")}}
			}
			e := exe
			if tt.req.IsExe || tt.how == "ld.so.cache" || tt.how == "default directory" {
				e = tt.req // an executable without DT_RPATH
			}
			got, how, err := s.Find("libx.so.1", tt.req, e)
			if err != nil {
				t.Fatal(err)
			}
			if got != p(tt.want+"/libx.so.1") || how != tt.how {
				t.Errorf("got %s (%s), want %s (%s)", got, how, p(tt.want+"/libx.so.1"), tt.how)
			}
		})
	}
	s := &Searcher{Machine: elf.EM_X86_64, DefaultDirs: []string{p("wrongarch")}}
	if got, _, err := s.Find("libx.so.1", nil, nil); err == nil {
		t.Errorf("found %s, but the only candidate is for another machine", got)
	}
	if got, how, err := s.Find(p("cache/libx.so.1"), nil, nil); err != nil || how != "path" || got != p("cache/libx.so.1") {
		t.Errorf("a name with a slash: got %s %s %v", got, how, err)
	}
}
