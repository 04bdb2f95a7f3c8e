package elfload

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// LDCache is /etc/ld.so.cache: soname → paths, in the order ld.so tries
// them.
type LDCache map[string][]string

const (
	ldCacheOldMagic = "ld.so-1.7.0"
	LDCacheNewMagic = "glibc-ld.so.cache1.1"
	// Entry flags (glibc's elf/cache.h).
	ldFlagTypeMask   = 0x00ff
	ldFlagELFLibc6   = 0x0003
	ldFlagArchMask   = 0xff00
	ldFlagX8664Lib64 = 0x0300
	ldFlagAArch64    = 0x0a00
)

// ParseLDCache reads the binary cache ldconfig writes: the new format
// ("glibc-ld.so.cache1.1", alone or after the old "ld.so-1.7.0" table).
// Only entries for machine are kept.
func ParseLDCache(b []byte, machine elf.Machine) (LDCache, error) {
	base := 0
	if bytes.HasPrefix(b, []byte(ldCacheOldMagic)) {
		if len(b) < 16 {
			return nil, errors.New("truncated old-format header")
		}
		n := int(binary.LittleEndian.Uint32(b[12:]))
		base = 16 + 12*n
		base = (base + 7) &^ 7
	}
	if base+48 > len(b) || !bytes.HasPrefix(b[base:], []byte(LDCacheNewMagic)) {
		return nil, errors.New("not a glibc-ld.so.cache1.1 file")
	}
	nlibs := int(binary.LittleEndian.Uint32(b[base+20:]))
	const hdr, entry = 48, 24
	if nlibs < 0 || base+hdr+nlibs*entry > len(b) {
		return nil, fmt.Errorf("%d entries overrun the file", nlibs)
	}
	var want int32
	switch machine {
	case elf.EM_X86_64:
		want = ldFlagX8664Lib64
	case elf.EM_AARCH64:
		want = ldFlagAArch64
	default:
		return nil, fmt.Errorf("ld.so.cache for %v: %w", machine, ErrNotSupported)
	}
	str := func(off uint32) (string, bool) {
		o := base + int(off)
		if o < 0 || o >= len(b) {
			return "", false
		}
		end := bytes.IndexByte(b[o:], 0)
		if end < 0 {
			return "", false
		}
		return string(b[o : o+end]), true
	}
	c, hw := LDCache{}, LDCache{}
	for i := range nlibs {
		e := b[base+hdr+i*entry:]
		flags := int32(binary.LittleEndian.Uint32(e))
		if flags&ldFlagTypeMask != ldFlagELFLibc6 || flags&ldFlagArchMask != want {
			continue
		}
		key, ok1 := str(binary.LittleEndian.Uint32(e[4:]))
		val, ok2 := str(binary.LittleEndian.Uint32(e[8:]))
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("entry %d: string offset out of range", i)
		}
		// Entries for glibc-hwcaps subdirectories (a nonzero hwcap) are
		// CPU-specific builds of a baseline library; analyse the
		// baseline, which every CPU can load.
		if binary.LittleEndian.Uint64(e[16:]) != 0 {
			hw[key] = append(hw[key], val)
			continue
		}
		c[key] = append(c[key], val)
	}
	for k, v := range hw {
		c[k] = append(c[k], v...)
	}
	return c, nil
}
