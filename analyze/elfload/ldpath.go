package elfload

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sysrec/sysrec/internal/regularfile"
)

// Searcher finds shared libraries the way ld.so does: a name with a slash
// is a path; otherwise DT_RPATH (of the requester, then of the
// executable, when the requester has no DT_RUNPATH), the library path
// (LD_LIBRARY_PATH), DT_RUNPATH of the requester, /etc/ld.so.cache, then
// the default directories.
type Searcher struct {
	Machine     elf.Machine
	LibraryPath []string
	Cache       LDCache
	DefaultDirs []string
	lookups     int // candidate paths tried so far, at most maxLookups
}

// MaxLookups bounds the candidate paths tried for one program's
// libraries.
const MaxLookups = 1 << 16

// ErrLookups ends the search for libraries of a program whose files ask
// for too many look-ups (thousands of missing DT_NEEDED names times
// hundreds of RUNPATH directories).
var ErrLookups = fmt.Errorf("more than %d library look-ups: the rest is not analysed", MaxLookups)

// Requester is an object that asks for a library, as the search sees
// it: where it is (whether it is the executable, whose $ORIGIN is its
// real directory), its machine, its DT_RPATH and DT_RUNPATH.
type Requester struct {
	Path, Machine  string
	IsExe          bool
	Rpath, Runpath []string
}

// searchPaths lists where name is looked for on behalf of req, each with
// the rule that put it there.
func (s *Searcher) Find(name string, req, exe *Requester) (path, how string, err error) {
	if strings.Contains(name, "/") {
		p := name
		if req != nil {
			p = expandOrigin(name, req)
		}
		if s.fits(p) {
			return p, "path", nil
		}
		return "", "", fmt.Errorf("%s: no such %v library", p, s.Machine)
	}
	try := func(dirs []string, from *Requester, how string) (string, string, bool) {
		for _, d := range dirs {
			if from != nil {
				d = expandOrigin(d, from)
			}
			p := filepath.Join(d, name)
			if s.fits(p) {
				return p, how, true
			}
		}
		return "", "", false
	}
	if req != nil && len(req.Runpath) == 0 {
		if p, h, ok := try(req.Rpath, req, "DT_RPATH"); ok {
			return p, h, nil
		}
		if exe != nil && exe != req {
			if p, h, ok := try(exe.Rpath, exe, "DT_RPATH of the executable"); ok {
				return p, h, nil
			}
		}
	}
	if p, h, ok := try(s.LibraryPath, nil, "library path"); ok {
		return p, h, nil
	}
	if req != nil {
		if p, h, ok := try(req.Runpath, req, "DT_RUNPATH"); ok {
			return p, h, nil
		}
	}
	for _, p := range s.Cache[name] {
		if s.fits(p) {
			return p, "ld.so.cache", nil
		}
	}
	if p, h, ok := try(s.DefaultDirs, nil, "default directory"); ok {
		return p, h, nil
	}
	if s.lookups > MaxLookups {
		return "", "", ErrLookups
	}
	return "", "", fmt.Errorf("%s: not found", name)
}

// expandOrigin replaces $ORIGIN (the directory of the requesting object),
// $LIB and $PLATFORM as ld.so does.
func expandOrigin(p string, from *Requester) string {
	if !strings.Contains(p, "$") {
		return p
	}
	origin := filepath.Dir(from.Path)
	if from.IsExe {
		if real, err := filepath.EvalSymlinks(from.Path); err == nil {
			origin = filepath.Dir(real)
		}
	}
	lib, platform := "lib", "x86_64"
	if from.Machine == elf.EM_AARCH64.String() {
		platform = "aarch64"
	}
	if from.Machine == elf.EM_X86_64.String() {
		lib = "lib64"
	}
	r := strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin, "${LIB}", lib, "$LIB", lib, "${PLATFORM}", platform, "$PLATFORM", platform)
	return r.Replace(p)
}

// fits reports whether p is an ELF file ld.so would load for machine:
// ld.so skips files of the wrong class or machine and keeps searching.
func (s *Searcher) fits(p string) bool {
	if s.lookups++; s.lookups > MaxLookups {
		return false
	}
	f, _, err := regularfile.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return false
	}
	if string(hdr[:4]) != elf.ELFMAG || elf.Class(hdr[elf.EI_CLASS]) != elf.ELFCLASS64 {
		return false
	}
	m := elf.Machine(uint16(hdr[18]) | uint16(hdr[19])<<8)
	return m == s.Machine
}
