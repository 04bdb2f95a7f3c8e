package analyze

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"
)

// searcher finds shared libraries the way ld.so does: a name with a slash
// is a path; otherwise DT_RPATH (of the requester, then of the
// executable, when the requester has no DT_RUNPATH), the library path
// (LD_LIBRARY_PATH), DT_RUNPATH of the requester, /etc/ld.so.cache, then
// the default directories.
type searcher struct {
	machine     elf.Machine
	libraryPath []string
	cache       ldCache
	defaultDirs []string
	lookups     int // candidate paths tried so far, at most maxLookups
}

// errLookups ends the search for libraries of a program whose files ask
// for too many look-ups (thousands of missing DT_NEEDED names times
// hundreds of RUNPATH directories).
var errLookups = fmt.Errorf("more than %d library look-ups: the rest is not analysed", maxLookups)

// searchPaths lists where name is looked for on behalf of req, each with
// the rule that put it there.
func (s *searcher) find(name string, req, exe *module) (path, how string, err error) {
	if strings.Contains(name, "/") {
		p := name
		if req != nil {
			p = expandOrigin(name, req)
		}
		if s.fits(p) {
			return p, "path", nil
		}
		return "", "", fmt.Errorf("%s: no such %v library", p, s.machine)
	}
	try := func(dirs []string, from *module, how string) (string, string, bool) {
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
	if req != nil && len(req.sum.RunPath) == 0 {
		if p, h, ok := try(req.sum.RPath, req, "DT_RPATH"); ok {
			return p, h, nil
		}
		if exe != nil && exe != req {
			if p, h, ok := try(exe.sum.RPath, exe, "DT_RPATH of the executable"); ok {
				return p, h, nil
			}
		}
	}
	if p, h, ok := try(s.libraryPath, nil, "library path"); ok {
		return p, h, nil
	}
	if req != nil {
		if p, h, ok := try(req.sum.RunPath, req, "DT_RUNPATH"); ok {
			return p, h, nil
		}
	}
	for _, p := range s.cache[name] {
		if s.fits(p) {
			return p, "ld.so.cache", nil
		}
	}
	if p, h, ok := try(s.defaultDirs, nil, "default directory"); ok {
		return p, h, nil
	}
	if s.lookups > maxLookups {
		return "", "", errLookups
	}
	return "", "", fmt.Errorf("%s: not found", name)
}

// expandOrigin replaces $ORIGIN (the directory of the requesting object),
// $LIB and $PLATFORM as ld.so does.
func expandOrigin(p string, from *module) string {
	if !strings.Contains(p, "$") {
		return p
	}
	origin := filepath.Dir(from.path)
	if from.isExe {
		if real, err := filepath.EvalSymlinks(from.path); err == nil {
			origin = filepath.Dir(real)
		}
	}
	lib, platform := "lib", "x86_64"
	if from.sum.Machine == elf.EM_AARCH64.String() {
		platform = "aarch64"
	}
	if from.sum.Machine == elf.EM_X86_64.String() {
		lib = "lib64"
	}
	r := strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin, "${LIB}", lib, "$LIB", lib, "${PLATFORM}", platform, "$PLATFORM", platform)
	return r.Replace(p)
}

// fits reports whether p is an ELF file ld.so would load for machine:
// ld.so skips files of the wrong class or machine and keeps searching.
func (s *searcher) fits(p string) bool {
	if s.lookups++; s.lookups > maxLookups {
		return false
	}
	f, _, err := openRegular(p)
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
	return m == s.machine
}
