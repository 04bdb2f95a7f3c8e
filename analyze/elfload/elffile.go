package elfload

import (
	"bytes"
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/analyze/isa"
)

// ErrNotSupported is returned for ELF files the analysis cannot read:
// 32-bit or big-endian files and instruction sets without an isa.
var ErrNotSupported = errors.New("not supported")

// Bounds on what one ELF file may ask of the analysis, far above real
// files (the most DT_NEEDED entries a Debian file has is 21,
// RPATH/RUNPATH directories 2, symbols 259 k in .symtab and 171 k in
// .dynsym), so that a hostile file costs bounded time and memory.
const (
	MaxNeeded     = 1024    // DT_NEEDED entries of one file
	MaxSearchDirs = 256     // DT_RPATH plus DT_RUNPATH directories of one file
	MaxSymbols    = 1 << 22 // entries of .symtab, and of .dynsym
)

// ELF constants debug/elf does not define.
const (
	shtRELR    elf.SectionType = 19
	dtRELR     elf.DynTag      = 36
	dtRELRSZ   elf.DynTag      = 35
	rX86Copy                   = 5
	rARM64Copy                 = 1024
)

// Image is one ELF file in memory, with the address-level views the
// analysis needs.
type Image struct {
	F    *elf.File
	data []byte
	Isa  isa.ISA
	// exec lists executable sections except the PLT; plt the PLT ones;
	// got the GOT; dataSecs every other allocated section.
	Exec, Plt, Got, DataSecs []Span
	Dynsyms                  []elf.Symbol
	Symtab                   []elf.Symbol
	// slots maps a GOT slot (or any relocated word) to what it holds.
	Slots map[uint64]SlotTarget
	// ptrs are relocated or (for ET_EXEC) literal pointers in data,
	// sorted by address.
	Ptrs []dataPtr
	// copies are the symbols an executable copies into its own .bss
	// (R_*_COPY): its copy stands for the library's definition.
	Copies map[string]bool
	// imports are the symbols relocations refer to, by index.
	Imports   []ImportSym
	importIdx map[ImportSym]int32
	Absolute  bool // ET_EXEC: addresses are fixed
	GoBinary  bool
	buildID   string
}

type Span struct {
	Start, End uint64
	name       string
	off        uint64 // file offset of start (for PROGBITS)
	nobits     bool
}

func (s Span) Contains(a uint64) bool { return a >= s.Start && a < s.End }

// SlotTarget is what a relocated word holds: an import (sym >= 0) or a
// local address.
type SlotTarget struct {
	Imp  int32 // index into image.imports, or -1
	Addr uint64
}

type dataPtr struct {
	At uint64
	To SlotTarget
}

type ImportSym struct {
	Name    string
	Version string
	Weak    bool // an undefined weak symbol may stay undefined
}

func InSpans(ss []Span, a uint64) (Span, bool) {
	i := sort.Search(len(ss), func(i int) bool { return ss[i].End > a })
	if i < len(ss) && ss[i].Contains(a) {
		return ss[i], true
	}
	return Span{}, false
}

func OpenImage(data []byte) (*Image, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if f.Class != elf.ELFCLASS64 || f.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("%v %v ELF: %w", f.Class, f.ByteOrder, ErrNotSupported)
	}
	im := &Image{F: f, data: data, Absolute: f.Type == elf.ET_EXEC, Slots: map[uint64]SlotTarget{}, importIdx: map[ImportSym]int32{}, Copies: map[string]bool{}}
	im.GoBinary = f.Section(".gopclntab") != nil || f.Section(".go.buildinfo") != nil
	var ok bool
	im.Isa, ok = isa.New(f.Machine, isa.Options{GoABI: im.GoBinary, Absolute: im.Absolute})
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
		sp := Span{Start: s.Addr, End: s.Addr + s.Size, name: s.Name, off: s.Offset, nobits: s.Type == elf.SHT_NOBITS}
		if sp.End < sp.Start || !sp.nobits && (s.Offset > uint64(len(data)) || s.Size > uint64(len(data))-s.Offset) {
			return nil, fmt.Errorf("section %s overruns the file", s.Name)
		}
		if sp.nobits && s.Flags&elf.SHF_EXECINSTR != 0 {
			continue // no code to read
		}
		switch {
		case strings.HasPrefix(s.Name, ".plt"), s.Name == ".iplt":
			im.Plt = append(im.Plt, sp)
		case s.Flags&elf.SHF_EXECINSTR != 0:
			im.Exec = append(im.Exec, sp)
		case s.Name == ".got" || s.Name == ".got.plt":
			im.Got = append(im.Got, sp)
		default:
			im.DataSecs = append(im.DataSecs, sp)
		}
	}
	for _, ss := range [][]Span{im.Exec, im.Plt, im.Got, im.DataSecs} {
		slices.SortFunc(ss, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	}
	if im.Dynsyms, err = f.DynamicSymbols(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("dynamic symbols: %w", err)
	}
	if im.Symtab, err = f.Symbols(); err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("symbols: %w", err)
	}
	im.buildID = ReadBuildID(f, data)
	if err := im.readRelocs(); err != nil {
		return nil, err
	}
	if im.Absolute {
		im.scanLiteralPointers()
	}
	slices.SortFunc(im.Ptrs, func(a, b dataPtr) int { return cmp.Compare(a.At, b.At) })
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
			if n := s.Size / 24; n > MaxSymbols {
				return fmt.Errorf("section %s: %d symbols, more than the %d this analysis reads", s.Name, n, MaxSymbols)
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

// BytesAt returns up to n bytes of the file image at address a (nil for
// NOBITS or unmapped addresses).
func (im *Image) BytesAt(a uint64, n uint64) []byte {
	for _, ss := range [][]Span{im.Exec, im.Plt, im.Got, im.DataSecs} {
		if s, ok := InSpans(ss, a); ok {
			if s.nobits {
				return nil
			}
			end := s.End
			if n < s.End-a {
				end = a + n
			}
			lo, hi := s.off+(a-s.Start), s.off+(end-s.Start)
			if hi > uint64(len(im.data)) {
				return nil
			}
			return im.data[lo:hi]
		}
	}
	return nil
}

func (im *Image) Word(a uint64) (uint64, bool) {
	b := im.BytesAt(a, 8)
	if len(b) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

func (im *Image) importOf(s elf.Symbol) int32 {
	k := ImportSym{Name: s.Name, Version: s.Version, Weak: elf.ST_BIND(s.Info) == elf.STB_WEAK && s.Section == elf.SHN_UNDEF}
	if i, ok := im.importIdx[k]; ok {
		return i
	}
	i := int32(len(im.Imports))
	im.Imports = append(im.Imports, k)
	im.importIdx[k] = i
	return i
}

// readRelocs reads the dynamic relocations (RELA and RELR sections that
// are loaded) into slots and data pointers.
func (im *Image) readRelocs() error {
	for _, s := range im.F.Sections {
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
				if (im.F.Machine == elf.EM_X86_64 && typ == rX86Copy) || (im.F.Machine == elf.EM_AARCH64 && typ == rARM64Copy) {
					if sym > 0 && sym <= len(im.Dynsyms) {
						s := im.Dynsyms[sym-1]
						im.Copies[s.Name] = true
						im.addSlot(off, SlotTarget{Imp: im.importOf(s)})
					}
					continue
				}
				switch im.Isa.RelocKind(typ) {
				case isa.RelocSymbol:
					if sym <= 0 || sym > len(im.Dynsyms) {
						continue
					}
					im.addSlot(off, SlotTarget{Imp: im.importOf(im.Dynsyms[sym-1])})
				case isa.RelocRelative, isa.RelocIRelative:
					im.addSlot(off, SlotTarget{Imp: -1, Addr: uint64(addend)})
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
func (im *Image) relrAt(a uint64) {
	if v, ok := im.Word(a); ok {
		im.addSlot(a, SlotTarget{Imp: -1, Addr: v})
	}
}

func (im *Image) addSlot(at uint64, t SlotTarget) {
	if _, ok := InSpans(im.Got, at); ok {
		im.Slots[at] = t
		return
	}
	im.Ptrs = append(im.Ptrs, dataPtr{At: at, To: t})
	im.Slots[at] = t
}

// scanLiteralPointers finds pointers in the data of an ET_EXEC file,
// which carries no relocations for them: every aligned word whose value is
// an address in the image.
func (im *Image) scanLiteralPointers() {
	for _, ss := range [][]Span{im.DataSecs, im.Got} {
		for _, s := range ss {
			if s.nobits || s.name == ".gopclntab" || s.name == ".eh_frame" || s.name == ".eh_frame_hdr" ||
				strings.HasPrefix(s.name, ".note") || strings.HasPrefix(s.name, ".rela") || s.name == ".dynsym" ||
				s.name == ".dynstr" || s.name == ".gnu.hash" || s.name == ".hash" || strings.HasPrefix(s.name, ".gnu.version") {
				continue
			}
			b := im.BytesAt(s.Start, s.End-s.Start)
			start := (s.Start + 7) &^ 7
			for a := start; a+8 <= s.End; a += 8 {
				o := a - s.Start
				if o+8 > uint64(len(b)) {
					break
				}
				v := binary.LittleEndian.Uint64(b[o:])
				if _, reloc := im.Slots[a]; v == 0 || reloc || !im.isAddress(v) {
					continue
				}
				if _, ok := InSpans(im.Got, a); ok {
					im.Slots[a] = SlotTarget{Imp: -1, Addr: v}
					continue
				}
				im.Ptrs = append(im.Ptrs, dataPtr{At: a, To: SlotTarget{Imp: -1, Addr: v}})
			}
		}
	}
}

func (im *Image) isAddress(v uint64) bool {
	for _, ss := range [][]Span{im.Exec, im.Plt, im.DataSecs, im.Got} {
		if _, ok := InSpans(ss, v); ok {
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

func ReadBuildID(f *elf.File, data []byte) string {
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
type DynInfo struct {
	Needed, Rpath, Runpath []string
	Soname                 string
	Interp                 string
	InitAddrs              []uint64 // DT_INIT, DT_FINI, and the INIT/FINI/PREINIT arrays
}

func (im *Image) Dynamic() (DynInfo, error) {
	var d DynInfo
	var err error
	str := func(tag elf.DynTag) []string {
		if err != nil {
			return nil
		}
		var s []string
		s, err = im.F.DynString(tag)
		return s
	}
	val := func(tag elf.DynTag) []uint64 {
		if err != nil {
			return nil
		}
		var v []uint64
		v, err = im.F.DynValue(tag)
		return v
	}
	d.Needed = str(elf.DT_NEEDED)
	d.Rpath = splitPaths(str(elf.DT_RPATH))
	d.Runpath = splitPaths(str(elf.DT_RUNPATH))
	if len(d.Needed) > MaxNeeded {
		return d, fmt.Errorf("dynamic section: %d DT_NEEDED entries, more than %d", len(d.Needed), MaxNeeded)
	}
	if n := len(d.Rpath) + len(d.Runpath); n > MaxSearchDirs {
		return d, fmt.Errorf("dynamic section: %d DT_RPATH and DT_RUNPATH directories, more than %d", n, MaxSearchDirs)
	}
	if s := str(elf.DT_SONAME); len(s) > 0 {
		d.Soname = s[0]
	}
	for _, tag := range []elf.DynTag{elf.DT_INIT, elf.DT_FINI} {
		d.InitAddrs = append(d.InitAddrs, val(tag)...)
	}
	arrays := [][2]elf.DynTag{{elf.DT_INIT_ARRAY, elf.DT_INIT_ARRAYSZ}, {elf.DT_FINI_ARRAY, elf.DT_FINI_ARRAYSZ}, {elf.DT_PREINIT_ARRAY, elf.DT_PREINIT_ARRAYSZ}}
	for _, a := range arrays {
		at, sz := val(a[0]), val(a[1])
		if len(at) == 0 || len(sz) == 0 {
			continue
		}
		d.InitAddrs = append(d.InitAddrs, im.arrayEntries(at[0], sz[0])...)
	}
	if err != nil {
		return d, fmt.Errorf("dynamic section: %w", err)
	}
	for _, p := range im.F.Progs {
		if p.Type == elf.PT_INTERP {
			b := progBytes(p, im.data)
			if b == nil {
				return d, errors.New("PT_INTERP overruns the file")
			}
			d.Interp = strings.TrimRight(string(b), "\x00")
		}
	}
	// Static executables have no dynamic section: their arrays are
	// sections.
	if len(im.F.Progs) > 0 && im.F.Section(".dynamic") == nil {
		for _, name := range []string{".init_array", ".fini_array", ".preinit_array"} {
			if s := im.F.Section(name); s != nil {
				d.InitAddrs = append(d.InitAddrs, im.arrayEntries(s.Addr, s.Size)...)
			}
		}
		for _, name := range []string{".init", ".fini"} {
			if s := im.F.Section(name); s != nil {
				d.InitAddrs = append(d.InitAddrs, s.Addr)
			}
		}
	}
	return d, nil
}

// arrayEntries reads an array of function pointers, relocated or not.
func (im *Image) arrayEntries(at, size uint64) []uint64 {
	var out []uint64
	sec, ok := InSpans(im.DataSecs, at)
	if !ok {
		return nil
	}
	end := sec.End // the array cannot run past its section, whatever DT_*SZ says
	if size < end-at {
		end = at + size
	}
	for a := at; a+8 <= end; a += 8 {
		if t, ok := im.Slots[a]; ok {
			if t.Imp < 0 && t.Addr != 0 {
				out = append(out, t.Addr)
			}
			continue
		}
		if v, ok := im.Word(a); ok && v != 0 && v != ^uint64(0) {
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
