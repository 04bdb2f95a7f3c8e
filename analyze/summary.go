package analyze

import (
	"cmp"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/analyze/elfload"

	"github.com/sysrec/sysrec/analyze/isa"
)

// summaryFormat changes whenever summary's meaning changes, so that old
// cache entries are not read as new ones.
const summaryFormat = 3

// summary is everything the linker needs to know about one ELF file,
// independent of where it was found and of which program loads it: its
// call graph with syscalls on the nodes. It is what the cache stores.
type summary struct {
	Format  int
	Machine string
	Exec    bool // ET_EXEC
	Go      bool
	Soname  string
	Interp  string
	Needed  []string
	RPath   []string
	RunPath []string
	Imports []elfload.ImportSym
	Nodes   []node
	Exports []export
	Entry   int32   // node of the entry point, or -1
	Inits   []int32 // constructors and destructors
	Stats   summaryStats
}

type summaryStats struct {
	Functions, Instructions, BadBytes, DataObjects int
}

// node is a function or a data object holding code or data pointers.
type node struct {
	Addr uint64
	Name string `json:",omitempty"`
	Data bool   `json:",omitempty"`
	// Calls are the local functions it calls or jumps to.
	Calls []int32 `json:",omitempty"`
	// Refs are the local nodes whose address it takes (code) or holds
	// (data): reachable because something may call through them.
	Refs []int32 `json:",omitempty"`
	// Imports are the imports it calls, references or holds.
	Imports []int32 `json:",omitempty"`
	// Syscalls are numbers of syscall instructions in it.
	Syscalls []int32 `json:",omitempty"`
	// Via are syscalls it makes by passing a constant number to a
	// wrapper (a local function, or the import syscall()).
	Via []viaSyscall `json:",omitempty"`
	// Unknown counts syscall sites (and wrapper calls) whose number is
	// not a constant.
	Unknown int32 `json:",omitempty"`
	// Indirect counts indirect call sites.
	Indirect int32 `json:",omitempty"`
	// Wrapper: its syscall number comes from its caller.
	Wrapper bool `json:",omitempty"`
}

type viaSyscall struct {
	Nr      int32
	Wrapper int32 // local node, or -1-import
}

type export struct {
	Name    string
	Version string `json:",omitempty"`
	Hidden  bool   `json:",omitempty"` // a non-default version (name@VER, not name@@VER)
	Node    int32  // -1: defined but does nothing the analysis follows
}

// importWrappers are imported functions whose integer argument (by index)
// is a syscall number: libc's generic syscall().
var importWrappers = map[string]int{"syscall": 0}

// fnDef is a function found in the file.
type fnDef struct {
	start, end uint64
	name       string
	rank       int
}

type callSite struct {
	caller, inst, callee int32
	tail                 bool
}

type builder struct {
	im      *elfload.Image
	s       *summary
	fns     []fnDef
	nodes   []node
	params  [][]isa.Loc // per function: parameters its syscall number comes from
	sites   []callSite
	dataRef [][]uint64 // per node: data addresses referenced, resolved later
	pltMemo map[uint64]elfload.SlotTarget
	dataIdx map[uint64]int32 // data object address → node (-1: empty)
	bounds  []uint64
	symEnd  map[uint64]uint64
	objName map[uint64]string // data object names, from the symbol tables
	buf     []isa.Inst
	// While scanning: where instructions start, edges into the middle of
	// functions, and the entry nodes made for them.
	starts  *addrSet
	mid     []midTarget
	entries map[uint64]int32
	nSorted int // b.fns[:nSorted] are sorted by address; entry nodes follow
	// ptrReads counts the data pointers read into objects; overlap is
	// set when data objects overlap more than any real file's do.
	ptrReads int
	overlap  bool
	// flowLeft is what is left of the file's data-flow budget: a state
	// per decoded instruction plus 1 M. Real files use a small fraction
	// (libc 1506 states for 336 k instructions); a file made of syscall
	// sites each after 400 instructions that leave the number alone
	// would otherwise cost 400 states per site. Sites past it count as
	// unknown numbers.
	flowLeft int
}

func summarize(data []byte) (*summary, error) {
	im, err := elfload.OpenImage(data)
	if err != nil {
		return nil, err
	}
	d, err := im.Dynamic()
	if err != nil {
		return nil, err
	}
	s := &summary{
		Format:  summaryFormat,
		Machine: im.F.Machine.String(),
		Exec:    im.Absolute,
		Go:      im.GoBinary,
		Soname:  d.Soname,
		Interp:  d.Interp,
		Needed:  d.Needed,
		RPath:   d.Rpath,
		RunPath: d.Runpath,
		Entry:   -1,
	}
	b := &builder{im: im, s: s, flowLeft: 1 << 20, pltMemo: map[uint64]elfload.SlotTarget{}, dataIdx: map[uint64]int32{}, symEnd: map[uint64]uint64{}, objName: map[uint64]string{}, entries: map[uint64]int32{}}
	if err := b.functions(d); err != nil {
		return nil, err
	}
	b.scan()
	b.resolveWrappers()
	b.dataObjects()
	b.exports()
	if b.overlap {
		return nil, fmt.Errorf("data objects overlap: more than %d pointer reads for %d pointers", 4*len(im.Ptrs)+1<<20, len(im.Ptrs))
	}
	if im.F.Entry != 0 {
		if i, ok := b.fnAt(im.F.Entry); ok {
			s.Entry = i
		}
	}
	for _, a := range d.InitAddrs {
		if i, ok := b.fnAt(a); ok && !slices.Contains(s.Inits, i) {
			s.Inits = append(s.Inits, i)
		}
	}
	b.nameMain()
	s.Imports = im.Imports
	for i := range b.nodes {
		n := &b.nodes[i]
		n.Calls = sortedUnique(n.Calls)
		n.Refs = sortedUnique(n.Refs)
		n.Imports = sortedUnique(n.Imports)
		n.Syscalls = sortedUnique(n.Syscalls)
		slices.SortFunc(n.Via, func(a, b viaSyscall) int { return cmp.Or(cmp.Compare(a.Nr, b.Nr), cmp.Compare(a.Wrapper, b.Wrapper)) })
		n.Via = slices.Compact(n.Via)
	}
	s.Nodes = b.nodes
	s.Stats.Functions = b.nSorted
	s.Stats.DataObjects = len(b.nodes) - len(b.fns)
	return s, nil
}

func sortedUnique(s []int32) []int32 {
	slices.Sort(s)
	return slices.Compact(s)
}

// functions finds function bounds: symbols, FDEs, the entry point and
// constructors, section starts, and for Go binaries the pclntab. A
// function ends where the next one starts, so code no symbol or FDE
// covers still belongs to some function.
func (b *builder) functions(d elfload.DynInfo) error {
	im := b.im
	starts := map[uint64]*fnDef{}
	add := func(a uint64, name string, rank int) {
		if _, ok := elfload.InSpans(im.Exec, a); !ok {
			return
		}
		f := starts[a]
		if f == nil {
			f = &fnDef{start: a}
			starts[a] = f
		}
		if name != "" && betterName(name, rank, f.name, f.rank) {
			f.name, f.rank = name, rank
		}
	}
	for _, s := range im.Exec {
		add(s.Start, "", 0)
	}
	for _, sym := range im.Dynsyms {
		t := elf.ST_TYPE(sym.Info)
		if sym.Section == elf.SHN_UNDEF || (t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC) || im.Copies[sym.Name] {
			continue
		}
		rank := 5
		if sym.HasVersion && sym.VersionIndex.IsHidden() {
			rank = 3
		}
		add(sym.Value, sym.Name, rank)
	}
	for _, sym := range im.Symtab {
		t := elf.ST_TYPE(sym.Info)
		if sym.Section == elf.SHN_UNDEF || (t != elf.STT_FUNC && t != elf.STT_GNU_IFUNC) {
			continue
		}
		rank := 2
		if elf.ST_BIND(sym.Info) != elf.STB_LOCAL {
			rank = 4
		}
		add(sym.Value, sym.Name, rank)
	}
	if s := im.F.Section(".eh_frame"); s != nil && s.Type == elf.SHT_PROGBITS {
		if data, err := s.Data(); err == nil {
			ranges, _ := elfload.EHFrameRanges(data, s.Addr) // a damaged tail still leaves the ranges before it
			for _, r := range ranges {
				add(r.Start, "", 0)
			}
		}
	}
	add(im.F.Entry, "", 0)
	for _, a := range d.InitAddrs {
		add(a, "", 0)
	}
	if im.GoBinary {
		if err := b.goFunctions(add); err != nil {
			return err
		}
	}
	b.fns = make([]fnDef, 0, len(starts))
	for _, f := range starts {
		b.fns = append(b.fns, *f)
	}
	slices.SortFunc(b.fns, func(x, y fnDef) int { return cmp.Compare(x.start, y.start) })
	for i := range b.fns {
		sec, _ := elfload.InSpans(im.Exec, b.fns[i].start)
		end := sec.End
		if i+1 < len(b.fns) && b.fns[i+1].start < end {
			end = b.fns[i+1].start
		}
		b.fns[i].end = end
	}
	b.nSorted = len(b.fns)
	b.nodes = make([]node, len(b.fns), len(b.fns)+len(b.fns)/4)
	b.params = make([][]isa.Loc, len(b.fns))
	b.dataRef = make([][]uint64, len(b.fns))
	for i, f := range b.fns {
		b.nodes[i] = node{Addr: f.start, Name: f.name}
	}
	return nil
}

// betterName prefers exported names, then fewer leading underscores,
// then shorter names (fork over __libc_fork).
func betterName(name string, rank int, old string, oldRank int) bool {
	if old == "" {
		return true
	}
	if rank != oldRank {
		return rank > oldRank
	}
	u, ou := len(name)-len(strings.TrimLeft(name, "_")), len(old)-len(strings.TrimLeft(old, "_"))
	if u != ou {
		return u < ou
	}
	if len(name) != len(old) {
		return len(name) < len(old)
	}
	return name < old
}

func (b *builder) goFunctions(add func(uint64, string, int)) (err error) {
	// debug/gosym trusts the table it parses; a damaged one must not
	// take the analysis down with it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parse .gopclntab: %v", r)
		}
	}()
	pcln := b.im.F.Section(".gopclntab")
	text := b.im.F.Section(".text")
	if pcln == nil || text == nil {
		return nil
	}
	data, err := pcln.Data()
	if err != nil {
		return fmt.Errorf("read .gopclntab: %w", err)
	}
	// debug/gosym allocates a Func for every function the header
	// claims before it looks at them.
	if len(data) >= 16 {
		n := uint64(b.im.F.ByteOrder.Uint32(data[8:]))
		if data[7] == 8 {
			n = b.im.F.ByteOrder.Uint64(data[8:])
		}
		if n > elfload.MaxSymbols {
			return fmt.Errorf("parse .gopclntab: %d functions, more than %d", n, elfload.MaxSymbols)
		}
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return fmt.Errorf("parse .gopclntab: %w", err)
	}
	for _, f := range tab.Funcs {
		add(f.Entry, f.Name, 4)
	}
	return nil
}

// fnAt returns the function containing a.
func (b *builder) fnAt(a uint64) (int32, bool) {
	fns := b.fns[:b.nSorted]
	i := sort.Search(len(fns), func(i int) bool { return fns[i].end > a })
	if i < len(fns) && a >= fns[i].start {
		return int32(i), true
	}
	return 0, false
}

func (b *builder) decodeFn(i int) *isa.FnCode {
	f := b.fns[i]
	code := b.im.BytesAt(f.start, f.end-f.start)
	b.buf = b.im.Isa.Decode(code, f.start, b.buf[:0])
	return isa.NewFnCode(b.buf, b.im.Isa.RetAddrSize())
}

// target is what an address means to the call graph.
type target struct {
	kind int8 // 0 none, 1 function, 2 import, 3 data address
	idx  int32
	addr uint64
}

const (
	tNone = iota
	tFunc
	tImport
	tData
)

// resolve says what address a is: code, a PLT entry or GOT slot (what
// it leads to), or data.
func (b *builder) resolve(a uint64) target {
	return b.resolveDepth(a, 0)
}

func (b *builder) resolveDepth(a uint64, depth int) target {
	im := b.im
	if depth > 4 || a == 0 {
		return target{}
	}
	if _, ok := elfload.InSpans(im.Exec, a); ok {
		i, ok := b.fnAt(a)
		if !ok {
			return target{} // overlapping sections in a damaged file
		}
		return target{kind: tFunc, idx: i, addr: a}
	}
	if _, ok := elfload.InSpans(im.Plt, a); ok {
		t, ok := b.pltMemo[a]
		if !ok {
			t = elfload.SlotTarget{Imp: -1}
			if slot, ok := im.Isa.PltSlot(im.BytesAt(a, 32), a); ok {
				if st, ok := im.Slots[slot]; ok {
					t = st
				} else if w, ok := im.Word(slot); ok && im.Absolute {
					t = elfload.SlotTarget{Imp: -1, Addr: w}
				}
			}
			b.pltMemo[a] = t
		}
		if t.Imp >= 0 {
			return target{kind: tImport, idx: t.Imp}
		}
		if t.Addr == 0 {
			return target{}
		}
		if _, inPLT := elfload.InSpans(im.Plt, t.Addr); inPLT {
			return target{} // lazy binding points back into the PLT
		}
		return b.resolveDepth(t.Addr, depth+1)
	}
	if _, ok := elfload.InSpans(im.Got, a); ok {
		if t, ok := im.Slots[a]; ok {
			if t.Imp >= 0 {
				return target{kind: tImport, idx: t.Imp}
			}
			return b.resolveDepth(t.Addr, depth+1)
		}
		if w, ok := im.Word(a); ok && im.Absolute {
			return b.resolveDepth(w, depth+1)
		}
		return target{}
	}
	if _, ok := elfload.InSpans(im.DataSecs, a); ok {
		return target{kind: tData, addr: a}
	}
	return target{}
}

// edge records that node from reaches t (call: a call or jump).
func (b *builder) edge(from int32, t target, call bool) {
	n := &b.nodes[from]
	switch t.kind {
	case tFunc:
		if t.idx == from {
			return
		}
		if b.entries != nil && t.addr != b.fns[t.idx].start {
			b.mid = append(b.mid, midTarget{from: from, fn: t.idx, addr: t.addr, call: call})
			return
		}
		if call {
			n.Calls = append(n.Calls, t.idx)
		} else {
			n.Refs = append(n.Refs, t.idx)
		}
	case tImport:
		n.Imports = append(n.Imports, t.idx)
	case tData:
		b.dataRef[from] = append(b.dataRef[from], t.addr)
	}
}

// scan decodes every function once: its syscalls, calls, references and
// indirect calls. A call or reference into the middle of a function at an
// address its decoding did not stop at (code reached at another
// alignment, such as __restore_rt right after an FDE that starts in the
// padding before it) becomes an entry node of its own.
func (b *builder) scan() {
	b.starts = newAddrSet(b.im.Exec)
	for i := range b.fns {
		b.scanFn(i)
	}
	for len(b.mid) > 0 {
		mids := b.mid
		b.mid = nil
		for _, m := range mids {
			to := m.fn
			if !b.starts.has(m.addr) {
				to = b.entryNode(m.addr, m.fn)
			}
			if m.call {
				b.nodes[m.from].Calls = append(b.nodes[m.from].Calls, to)
			} else {
				b.nodes[m.from].Refs = append(b.nodes[m.from].Refs, to)
			}
		}
	}
	b.entries = nil
}

// midTarget is an edge into the middle of function fn, settled after
// every function has been decoded.
type midTarget struct {
	from, fn int32
	addr     uint64
	call     bool
}

// entryNode returns the node for code entered at a inside function fn,
// decoding it from there on first use.
func (b *builder) entryNode(a uint64, fn int32) int32 {
	if i, ok := b.entries[a]; ok {
		return i
	}
	i := int32(len(b.fns))
	b.entries[a] = i
	b.fns = append(b.fns, fnDef{start: a, end: b.fns[fn].end})
	b.nodes = append(b.nodes, node{Addr: a})
	b.params = append(b.params, nil)
	b.dataRef = append(b.dataRef, nil)
	b.scanFn(int(i))
	return i
}

func (b *builder) scanFn(i int) {
	dec := b.im.Isa
	c := b.decodeFn(i)
	fi := int32(i)
	b.s.Stats.Instructions += len(c.Insts)
	b.flowLeft += len(c.Insts)
	f := b.fns[i]
	for j := range c.Insts {
		in := &c.Insts[j]
		b.starts.add(in.PC)
		switch in.Kind {
		case isa.InstBad:
			b.s.Stats.BadBytes++
		case isa.InstSyscall:
			b.syscallSite(fi, c, j, dec.SyscallNumber(), 0, true)
		case isa.InstCall, isa.InstJump, isa.InstCondJump:
			if in.Target >= f.start && in.Target < f.end {
				break
			}
			t := b.resolve(in.Target)
			b.edge(fi, t, true)
			switch t.kind {
			case tFunc:
				if b.fns[t.idx].start == in.Target {
					b.sites = append(b.sites, callSite{caller: fi, inst: int32(j), callee: t.idx, tail: in.Kind != isa.InstCall})
				}
			case tImport:
				b.importCall(fi, c, j, t.idx)
			}
		case isa.InstCallMem, isa.InstJumpMem:
			if _, ok := elfload.InSpans(b.im.Got, in.Target); ok {
				t := b.resolve(in.Target)
				b.edge(fi, t, true)
				if t.kind == tImport {
					b.importCall(fi, c, j, t.idx)
				}
			} else {
				b.nodes[fi].Indirect++
			}
		case isa.InstCallInd:
			b.nodes[fi].Indirect++
		}
		for _, r := range in.Refs {
			if r == 0 || r >= f.start && r < f.end {
				continue
			}
			if (in.Kind == isa.InstCallMem || in.Kind == isa.InstJumpMem) && r == in.Target {
				if _, got := elfload.InSpans(b.im.Got, r); got {
					continue // the call edge above
				}
			}
			b.edge(fi, b.resolve(r), false)
		}
	}
}

// addrSet is a bit per byte of the executable sections: where decoded
// instructions start.
type addrSet struct {
	spans []elfload.Span
	bits  [][]uint64
}

func newAddrSet(spans []elfload.Span) *addrSet {
	s := &addrSet{spans: spans, bits: make([][]uint64, len(spans))}
	for i, sp := range spans {
		s.bits[i] = make([]uint64, (sp.End-sp.Start+63)/64)
	}
	return s
}

func (s *addrSet) find(a uint64) (int, uint64, bool) {
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].End > a })
	if i < len(s.spans) && s.spans[i].Contains(a) {
		return i, a - s.spans[i].Start, true
	}
	return 0, 0, false
}

func (s *addrSet) add(a uint64) {
	if i, o, ok := s.find(a); ok {
		s.bits[i][o/64] |= 1 << (o % 64)
	}
}

func (s *addrSet) has(a uint64) bool {
	i, o, ok := s.find(a)
	return ok && s.bits[i][o/64]&(1<<(o%64)) != 0
}

// syscallSite records the syscall numbers the value at l before
// instruction j of function fi can be: a syscall instruction's number
// (direct), or the number passed to the wrapper via.
func (b *builder) syscallSite(fi int32, c *isa.FnCode, j int, l isa.Loc, via int32, direct bool) {
	out := c.Flow(j, l, &b.flowLeft)
	n := &b.nodes[fi]
	for _, v := range out.Consts {
		if v < 0 || v > 0xffff {
			out.Unknown = true
			continue
		}
		if direct {
			n.Syscalls = append(n.Syscalls, int32(v))
		} else {
			n.Via = append(n.Via, viaSyscall{Nr: int32(v), Wrapper: via})
		}
	}
	if out.Unknown {
		n.Unknown++
	}
	for _, p := range out.Params {
		if !slices.Contains(b.params[fi], p) {
			b.params[fi] = append(b.params[fi], p)
			n.Wrapper = true
		}
	}
}

// importCall resolves the number passed to an imported syscall().
func (b *builder) importCall(fi int32, c *isa.FnCode, j int, imp int32) {
	arg, ok := importWrappers[b.im.Imports[imp].Name]
	if !ok {
		return
	}
	b.syscallSite(fi, c, j, b.im.Isa.IntArg(arg), -1-imp, false)
}

// resolveWrappers finds the numbers callers pass to local wrappers
// (functions whose syscall number is a parameter), wrappers of wrappers
// included.
func (b *builder) resolveWrappers() {
	byCallee := map[int32][]callSite{}
	for _, s := range b.sites {
		byCallee[s.callee] = append(byCallee[s.callee], s)
	}
	type done struct {
		site callSite
		p    isa.Loc
	}
	seen := map[done]bool{}
	pending := map[int32]bool{}
	for i, ps := range b.params {
		if len(ps) > 0 {
			pending[int32(i)] = true
		}
	}
	for round := 0; round < 8 && len(pending) > 0; round++ {
		byCaller := map[int32][]callSite{}
		for w := range pending {
			for _, s := range byCallee[w] {
				byCaller[s.caller] = append(byCaller[s.caller], s)
			}
		}
		pending = map[int32]bool{}
		callers := make([]int32, 0, len(byCaller))
		for c := range byCaller {
			callers = append(callers, c)
		}
		slices.Sort(callers)
		for _, caller := range callers {
			before := len(b.params[caller])
			c := b.decodeFn(int(caller))
			for _, s := range byCaller[caller] {
				for _, p := range b.params[s.callee] {
					if seen[done{s, p}] {
						continue
					}
					seen[done{s, p}] = true
					l := p
					if l.IsStack() && !s.tail {
						l.Off -= b.im.Isa.RetAddrSize() // what the call pushes
					}
					b.syscallSite(caller, c, int(s.inst), l, s.callee, false)
				}
			}
			if len(b.params[caller]) > before {
				pending[caller] = true
			}
		}
	}
}

// dataObjects turns the data addresses code references into nodes: a
// data object runs from a referenced address to the next address
// anything references (or its symbol's size), and its edges are the
// pointers in it.
func (b *builder) dataObjects() {
	im := b.im
	var bounds []uint64
	for _, refs := range b.dataRef {
		bounds = append(bounds, refs...)
	}
	for _, p := range im.Ptrs {
		if p.To.Imp < 0 {
			if _, ok := elfload.InSpans(im.DataSecs, p.To.Addr); ok {
				bounds = append(bounds, p.To.Addr)
			}
		}
	}
	for _, syms := range [][]elf.Symbol{im.Symtab, im.Dynsyms} {
		for _, s := range syms {
			t := elf.ST_TYPE(s.Info)
			if s.Section == elf.SHN_UNDEF || (t != elf.STT_OBJECT && t != elf.STT_NOTYPE) {
				continue
			}
			if _, ok := elfload.InSpans(im.DataSecs, s.Value); !ok {
				continue
			}
			bounds = append(bounds, s.Value)
			if t == elf.STT_OBJECT && s.Name != "" && betterName(s.Name, 0, b.objName[s.Value], 0) {
				b.objName[s.Value] = s.Name
			}
			if s.Size > 0 {
				bounds = append(bounds, s.Value+s.Size)
				b.symEnd[s.Value] = max(b.symEnd[s.Value], s.Value+s.Size)
			}
		}
	}
	for _, s := range im.DataSecs {
		bounds = append(bounds, s.Start, s.End)
	}
	slices.Sort(bounds)
	b.bounds = slices.Compact(bounds)

	for i := range b.fns {
		for _, a := range b.dataRef[i] {
			if d := b.dataNode(a); d >= 0 {
				b.nodes[i].Refs = append(b.nodes[i].Refs, d)
			}
		}
	}
	b.dataRef = nil
}

// dataNode returns the node of the data object at a, creating it (and the
// objects its pointers lead to) on first use; -1 if it holds no pointers.
// Objects are created depth first, as a recursion would, but with a
// stack of its own: a chain of millions of objects each pointing at the
// next must not overflow the goroutine's stack.
func (b *builder) dataNode(a uint64) int32 {
	if d, ok := b.dataIdx[a]; ok {
		return d
	}
	// open is an object being filled: its pointers from next on are
	// still to follow.
	type open struct {
		d          int32
		next, end  int
		refs, imps []int32
	}
	var stack []*open
	// create makes the node of a new object, or records that it has no
	// pointers.
	create := func(a uint64) int32 {
		lo, hi := b.dataPointers(a)
		// Objects of real files hardly overlap: each pointer is read
		// once or twice. Sized symbols that all span the same
		// megabytes would read them once per symbol.
		if b.ptrReads += hi - lo; b.ptrReads > 4*len(b.im.Ptrs)+1<<20 {
			b.overlap = true
			hi = lo
		}
		if hi == lo {
			b.dataIdx[a] = -1
			return -1
		}
		d := int32(len(b.nodes))
		b.dataIdx[a] = d
		b.nodes = append(b.nodes, node{Addr: a, Data: true, Name: b.dataName(a)})
		stack = append(stack, &open{d: d, next: lo, end: hi})
		return d
	}
	first := create(a)
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		if o.next == o.end {
			stack = stack[:len(stack)-1]
			b.nodes[o.d].Refs = append(b.nodes[o.d].Refs, o.refs...)
			b.nodes[o.d].Imports = append(b.nodes[o.d].Imports, o.imps...)
			continue
		}
		p := b.im.Ptrs[o.next]
		o.next++
		var t target
		if p.To.Imp >= 0 {
			t = target{kind: tImport, idx: p.To.Imp}
		} else {
			t = b.resolve(p.To.Addr)
		}
		switch t.kind {
		case tFunc:
			o.refs = append(o.refs, t.idx)
		case tImport:
			o.imps = append(o.imps, t.idx)
		case tData:
			if t.addr == b.nodes[o.d].Addr {
				continue
			}
			d, ok := b.dataIdx[t.addr]
			if !ok {
				d = create(t.addr)
			}
			if d >= 0 {
				o.refs = append(o.refs, d)
			}
		}
	}
	return first
}

// dataPointers returns the range of image.ptrs inside the data object
// at a, which runs to its symbol's end or to the next bound.
func (b *builder) dataPointers(a uint64) (lo, hi int) {
	im := b.im
	end, ok := b.symEnd[a]
	if !ok {
		i := sort.Search(len(b.bounds), func(i int) bool { return b.bounds[i] > a })
		end = a + 8
		if i < len(b.bounds) {
			end = b.bounds[i]
		}
	}
	lo = sort.Search(len(im.Ptrs), func(i int) bool { return im.Ptrs[i].At >= a })
	hi = lo + sort.Search(len(im.Ptrs)-lo, func(i int) bool { return im.Ptrs[lo+i].At >= end })
	return lo, hi
}

func (b *builder) dataName(a uint64) string { return b.objName[a] }

// exports lists the symbols other modules can bind to.
func (b *builder) exports() {
	im := b.im
	for _, sym := range im.Dynsyms {
		bind := elf.ST_BIND(sym.Info)
		if sym.Section == elf.SHN_UNDEF || sym.Name == "" || im.Copies[sym.Name] ||
			(bind != elf.STB_GLOBAL && bind != elf.STB_WEAK && bind != elf.SymBind(10) /* STB_GNU_UNIQUE */) {
			continue
		}
		e := export{Name: sym.Name, Version: sym.Version, Hidden: sym.HasVersion && sym.VersionIndex.IsHidden(), Node: -1}
		switch elf.ST_TYPE(sym.Info) {
		case elf.STT_FUNC, elf.STT_GNU_IFUNC:
			if i, ok := b.fnAt(sym.Value); ok {
				e.Node = i
			}
		case elf.STT_OBJECT, elf.STT_NOTYPE:
			if _, ok := elfload.InSpans(im.DataSecs, sym.Value); ok {
				e.Node = b.dataNode(sym.Value)
			} else if i, ok := b.fnAt(sym.Value); ok {
				e.Node = i
			}
		default:
			continue
		}
		b.s.Exports = append(b.s.Exports, e)
	}
}

// nameMain names the function a stripped executable's entry point hands
// to __libc_start_main as its first argument.
func (b *builder) nameMain() {
	e := b.s.Entry
	if e < 0 || b.nodes[e].Name != "" && b.nodes[e].Name != "_start" {
		return
	}
	if b.nodes[e].Name == "" {
		b.nodes[e].Name = "_start"
	}
	arg0 := b.im.Isa.IntArg(0)
	c := b.decodeFn(int(e))
	for j := range c.Insts {
		in := &c.Insts[j]
		if in.Defs[0].Dst != arg0 || in.Refs[0] == 0 {
			continue
		}
		t := b.resolve(in.Refs[0])
		if t.kind == tFunc && b.nodes[t.idx].Name == "" {
			b.nodes[t.idx].Name = "main"
		}
		return
	}
}
