package analyze

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/sysrec/sysrec/analyze/isa"
	"slices"
	"sort"
	"strings"
)

// ErrNotSupported is returned for ELF files the analysis cannot read:
// 32-bit or big-endian files and instruction sets without an isa.
var ErrNotSupported = errors.New("not supported")

// ELF constants debug/elf does not define.
const (
	shtRELR    elf.SectionType = 19
	dtRELR     elf.DynTag      = 36
	dtRELRSZ   elf.DynTag      = 35
	rX86Copy                   = 5
	rARM64Copy                 = 1024
)

// image is one ELF file in memory, with the address-level views the
// analysis needs.
type image struct {
	f    *elf.File
	data []byte
	isa  isa.ISA
	// exec lists executable sections except the PLT; plt the PLT ones;
	// got the GOT; dataSecs every other allocated section.
	exec, plt, got, dataSecs []span
	dynsyms                  []elf.Symbol
	symtab                   []elf.Symbol
	// slots maps a GOT slot (or any relocated word) to what it holds.
	slots map[uint64]slotTarget
	// ptrs are relocated or (for ET_EXEC) literal pointers in data,
	// sorted by address.
	ptrs []dataPtr
	// copies are the symbols an executable copies into its own .bss
	// (R_*_COPY): its copy stands for the library's definition.
	copies map[string]bool
	// imports are the symbols relocations refer to, by index.
	imports   []importSym
	importIdx map[importSym]int32
	absolute  bool // ET_EXEC: addresses are fixed
	goBinary  bool
	buildID   string
}

type span struct {
	start, end uint64
	name       string
	off        uint64 // file offset of start (for PROGBITS)
	nobits     bool
}

func (s span) contains(a uint64) bool { return a >= s.start && a < s.end }

// slotTarget is what a relocated word holds: an import (sym >= 0) or a
// local address.
type slotTarget struct {
	imp  int32 // index into image.imports, or -1
	addr uint64
}

type dataPtr struct {
	at uint64
	to slotTarget
}

type importSym struct {
	Name    string
	Version string
	Weak    bool // an undefined weak symbol may stay undefined
}

func inSpans(ss []span, a uint64) (span, bool) {
	i := sort.Search(len(ss), func(i int) bool { return ss[i].end > a })
	if i < len(ss) && ss[i].contains(a) {
		return ss[i], true
	}
	return span{}, false
}

func openImage(data []byte) (*image, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if f.Class != elf.ELFCLASS64 || f.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("%v %v ELF: %w", f.Class, f.ByteOrder, ErrNotSupported)
	}
	im := &image{f: f, data: data, absolute: f.Type == elf.ET_EXEC, slots: map[uint64]slotTarget{}, importIdx: map[importSym]int32{}, copies: map[string]bool{}}
	im.goBinary = f.Section(".gopclntab") != nil || f.Section(".go.buildinfo") != nil
	var ok bool
	im.isa, ok = isa.New(f.Machine, isa.Options{GoABI: im.goBinary, Absolute: im.absolute})
	if !ok {
		return nil, fmt.Errorf("machine %v: %w", f.Machine, ErrNotSupported)
	}
	if err := checkSections(f, len(data)); err != nil {
		return nil, err
	}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 || s.Type == elf.SHT_NULL || s.Flags&elf.SHF_TLS != 0 {
			continue
		}
		sp := span{start: s.Addr, end: s.Addr + s.Size, name: s.Name, off: s.Offset, nobits: s.Type == elf.SHT_NOBITS}
		if sp.end < sp.start || !sp.nobits && (s.Offset > uint64(len(data)) || s.Size > uint64(len(data))-s.Offset) {
			return nil, fmt.Errorf("section %s overruns the file", s.Name)
		}
		if sp.nobits && s.Flags&elf.SHF_EXECINSTR != 0 {
			continue // no code to read
		}
		switch {
		case strings.HasPrefix(s.Name, ".plt"), s.Name == ".iplt":
			im.plt = append(im.plt, sp)
		case s.Flags&elf.SHF_EXECINSTR != 0:
			im.exec = append(im.exec, sp)
		case s.Name == ".got" || s.Name == ".got.plt":
			im.got = append(im.got, sp)
		default:
			im.dataSecs = append(im.dataSecs, sp)
		}
	}
	for _, ss := range [][]span{im.exec, im.plt, im.got, im.dataSecs} {
		slices.SortFunc(ss, func(a, b span) int { return cmpU64(a.start, b.start) })
	}
	if im.dynsyms, err = f.DynamicSymbols(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("dynamic symbols: %w", err)
	}
	if im.symtab, err = f.Symbols(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("symbols: %w", err)
	}
	im.buildID = readBuildID(f, data)
	if err := im.readRelocs(); err != nil {
		return nil, err
	}
	if im.absolute {
		im.scanLiteralPointers()
	}
	slices.SortFunc(im.ptrs, func(a, b dataPtr) int { return cmpU64(a.at, b.at) })
	return im, nil
}

// checkSections bounds the work a file's section headers can ask for:
// loaded sections that together hold more bytes than the file (they
// overlap: 65535 headers naming the same megabytes would be decoded
// 65535 times), and symbol tables of more than maxSymbols entries.
func checkSections(f *elf.File, size int) error {
	var loaded uint64
	for _, s := range f.Sections {
		switch {
		case s.Type == elf.SHT_SYMTAB || s.Type == elf.SHT_DYNSYM:
			if n := s.Size / 24; n > maxSymbols {
				return fmt.Errorf("section %s: %d symbols, more than the %d this analysis reads", s.Name, n, maxSymbols)
			}
		case s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Type != elf.SHT_NULL:
			loaded += s.Size
		}
	}
	if loaded > uint64(size) {
		return fmt.Errorf("loaded sections hold %d bytes, more than the %d-byte file: they overlap", loaded, size)
	}
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bytesAt returns up to n bytes of the file image at address a (nil for
// NOBITS or unmapped addresses).
func (im *image) bytesAt(a uint64, n uint64) []byte {
	for _, ss := range [][]span{im.exec, im.plt, im.got, im.dataSecs} {
		if s, ok := inSpans(ss, a); ok {
			if s.nobits {
				return nil
			}
			end := s.end
			if n < s.end-a {
				end = a + n
			}
			lo, hi := s.off+(a-s.start), s.off+(end-s.start)
			if hi > uint64(len(im.data)) {
				return nil
			}
			return im.data[lo:hi]
		}
	}
	return nil
}

func (im *image) word(a uint64) (uint64, bool) {
	b := im.bytesAt(a, 8)
	if len(b) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

func (im *image) importOf(s elf.Symbol) int32 {
	k := importSym{Name: s.Name, Version: s.Version, Weak: elf.ST_BIND(s.Info) == elf.STB_WEAK && s.Section == elf.SHN_UNDEF}
	if i, ok := im.importIdx[k]; ok {
		return i
	}
	i := int32(len(im.imports))
	im.imports = append(im.imports, k)
	im.importIdx[k] = i
	return i
}

// readRelocs reads the dynamic relocations (RELA and RELR sections that
// are loaded) into slots and data pointers.
func (im *image) readRelocs() error {
	for _, s := range im.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		switch s.Type {
		case elf.SHT_RELA:
			b, err := s.Data()
			if err != nil {
				return fmt.Errorf("section %s: %w", s.Name, err)
			}
			for i := 0; i+24 <= len(b); i += 24 {
				off := binary.LittleEndian.Uint64(b[i:])
				info := binary.LittleEndian.Uint64(b[i+8:])
				addend := int64(binary.LittleEndian.Uint64(b[i+16:]))
				typ, sym := uint32(info), int(info>>32)
				if (im.f.Machine == elf.EM_X86_64 && typ == rX86Copy) || (im.f.Machine == elf.EM_AARCH64 && typ == rARM64Copy) {
					if sym > 0 && sym <= len(im.dynsyms) {
						s := im.dynsyms[sym-1]
						im.copies[s.Name] = true
						im.addSlot(off, slotTarget{imp: im.importOf(s)})
					}
					continue
				}
				switch im.isa.RelocKind(typ) {
				case isa.RelocSymbol:
					if sym <= 0 || sym > len(im.dynsyms) {
						continue
					}
					im.addSlot(off, slotTarget{imp: im.importOf(im.dynsyms[sym-1])})
				case isa.RelocRelative, isa.RelocIRelative:
					im.addSlot(off, slotTarget{imp: -1, addr: uint64(addend)})
				}
			}
		case shtRELR:
			b, err := s.Data()
			if err != nil {
				return fmt.Errorf("section %s: %w", s.Name, err)
			}
			var where uint64
			for i := 0; i+8 <= len(b); i += 8 {
				e := binary.LittleEndian.Uint64(b[i:])
				if e&1 == 0 {
					im.relrAt(e)
					where = e + 8
					continue
				}
				for j := range 63 {
					if e>>(j+1)&1 != 0 {
						im.relrAt(where + uint64(j)*8)
					}
				}
				where += 63 * 8
			}
		}
	}
	return nil
}

// relrAt records a RELR relocation: the addend is the word in place.
func (im *image) relrAt(a uint64) {
	if v, ok := im.word(a); ok {
		im.addSlot(a, slotTarget{imp: -1, addr: v})
	}
}

func (im *image) addSlot(at uint64, t slotTarget) {
	if _, ok := inSpans(im.got, at); ok {
		im.slots[at] = t
		return
	}
	im.ptrs = append(im.ptrs, dataPtr{at: at, to: t})
	im.slots[at] = t
}

// scanLiteralPointers finds pointers in the data of an ET_EXEC file,
// which carries no relocations for them: every aligned word whose value is
// an address in the image.
func (im *image) scanLiteralPointers() {
	for _, ss := range [][]span{im.dataSecs, im.got} {
		for _, s := range ss {
			if s.nobits || s.name == ".gopclntab" || s.name == ".eh_frame" || s.name == ".eh_frame_hdr" ||
				strings.HasPrefix(s.name, ".note") || strings.HasPrefix(s.name, ".rela") || s.name == ".dynsym" ||
				s.name == ".dynstr" || s.name == ".gnu.hash" || s.name == ".hash" || strings.HasPrefix(s.name, ".gnu.version") {
				continue
			}
			b := im.bytesAt(s.start, s.end-s.start)
			start := (s.start + 7) &^ 7
			for a := start; a+8 <= s.end; a += 8 {
				o := a - s.start
				if o+8 > uint64(len(b)) {
					break
				}
				v := binary.LittleEndian.Uint64(b[o:])
				if _, reloc := im.slots[a]; v == 0 || reloc || !im.isAddress(v) {
					continue
				}
				if _, ok := inSpans(im.got, a); ok {
					im.slots[a] = slotTarget{imp: -1, addr: v}
					continue
				}
				im.ptrs = append(im.ptrs, dataPtr{at: a, to: slotTarget{imp: -1, addr: v}})
			}
		}
	}
}

func (im *image) isAddress(v uint64) bool {
	for _, ss := range [][]span{im.exec, im.plt, im.dataSecs, im.got} {
		if _, ok := inSpans(ss, v); ok {
			return true
		}
	}
	return false
}

// progBytes is the file contents of a segment, nil if it overruns the
// file.
func progBytes(p *elf.Prog, data []byte) []byte {
	if p.Off > uint64(len(data)) || p.Filesz > uint64(len(data))-p.Off {
		return nil
	}
	return data[p.Off : p.Off+p.Filesz]
}

func readBuildID(f *elf.File, data []byte) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		b := progBytes(p, data)
		for len(b) >= 12 {
			nsz, dsz, typ := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
			nameEnd := 12 + (nsz+3)&^3
			descEnd := nameEnd + (dsz+3)&^3
			if uint64(descEnd) > uint64(len(b)) {
				break
			}
			if typ == 3 && nsz == 4 && string(b[12:15]) == "GNU" {
				return fmt.Sprintf("%x", b[nameEnd:nameEnd+dsz])
			}
			b = b[descEnd:]
		}
	}
	return ""
}

// dynamic reads the dynamic section entries the linker needs.
type dynInfo struct {
	needed, rpath, runpath []string
	soname                 string
	interp                 string
	initAddrs              []uint64 // DT_INIT, DT_FINI, and the INIT/FINI/PREINIT arrays
}

func (im *image) dynamic() (dynInfo, error) {
	var d dynInfo
	var err error
	str := func(tag elf.DynTag) []string {
		if err != nil {
			return nil
		}
		var s []string
		s, err = im.f.DynString(tag)
		return s
	}
	val := func(tag elf.DynTag) []uint64 {
		if err != nil {
			return nil
		}
		var v []uint64
		v, err = im.f.DynValue(tag)
		return v
	}
	d.needed = str(elf.DT_NEEDED)
	d.rpath = splitPaths(str(elf.DT_RPATH))
	d.runpath = splitPaths(str(elf.DT_RUNPATH))
	if len(d.needed) > maxNeeded {
		return d, fmt.Errorf("dynamic section: %d DT_NEEDED entries, more than %d", len(d.needed), maxNeeded)
	}
	if n := len(d.rpath) + len(d.runpath); n > maxSearchDirs {
		return d, fmt.Errorf("dynamic section: %d DT_RPATH and DT_RUNPATH directories, more than %d", n, maxSearchDirs)
	}
	if s := str(elf.DT_SONAME); len(s) > 0 {
		d.soname = s[0]
	}
	for _, tag := range []elf.DynTag{elf.DT_INIT, elf.DT_FINI} {
		d.initAddrs = append(d.initAddrs, val(tag)...)
	}
	arrays := [][2]elf.DynTag{{elf.DT_INIT_ARRAY, elf.DT_INIT_ARRAYSZ}, {elf.DT_FINI_ARRAY, elf.DT_FINI_ARRAYSZ}, {elf.DT_PREINIT_ARRAY, elf.DT_PREINIT_ARRAYSZ}}
	for _, a := range arrays {
		at, sz := val(a[0]), val(a[1])
		if len(at) == 0 || len(sz) == 0 {
			continue
		}
		d.initAddrs = append(d.initAddrs, im.arrayEntries(at[0], sz[0])...)
	}
	if err != nil {
		return d, fmt.Errorf("dynamic section: %w", err)
	}
	for _, p := range im.f.Progs {
		if p.Type == elf.PT_INTERP {
			b := progBytes(p, im.data)
			if b == nil {
				return d, errors.New("PT_INTERP overruns the file")
			}
			d.interp = strings.TrimRight(string(b), "\x00")
		}
	}
	// Static executables have no dynamic section: their arrays are
	// sections.
	if len(im.f.Progs) > 0 && im.f.Section(".dynamic") == nil {
		for _, name := range []string{".init_array", ".fini_array", ".preinit_array"} {
			if s := im.f.Section(name); s != nil {
				d.initAddrs = append(d.initAddrs, im.arrayEntries(s.Addr, s.Size)...)
			}
		}
		for _, name := range []string{".init", ".fini"} {
			if s := im.f.Section(name); s != nil {
				d.initAddrs = append(d.initAddrs, s.Addr)
			}
		}
	}
	return d, nil
}

// arrayEntries reads an array of function pointers, relocated or not.
func (im *image) arrayEntries(at, size uint64) []uint64 {
	var out []uint64
	sec, ok := inSpans(im.dataSecs, at)
	if !ok {
		return nil
	}
	end := sec.end // the array cannot run past its section, whatever DT_*SZ says
	if size < end-at {
		end = at + size
	}
	for a := at; a+8 <= end; a += 8 {
		if t, ok := im.slots[a]; ok {
			if t.imp < 0 && t.addr != 0 {
				out = append(out, t.addr)
			}
			continue
		}
		if v, ok := im.word(a); ok && v != 0 && v != ^uint64(0) {
			out = append(out, v)
		}
	}
	return out
}

func splitPaths(ss []string) []string {
	var out []string
	for _, s := range ss {
		for _, p := range strings.Split(s, ":") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
