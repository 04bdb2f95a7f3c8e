package analyze

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"github.com/sysrec/sysrec/analyze/elfload"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/internal/regularfile"
	"github.com/sysrec/sysrec/linuxabi"
)

// module is one loaded ELF file and its place in the program.
type module struct {
	path    string
	name    string
	isExe   bool
	sum     *summary
	found   string
	buildID string
	cached  bool
	base    int32
	exports map[string]int32 // "name@version", and "name" for the default version → export index
	names   map[string]int32 // node names → node, built on first use
	// asReq is the module as the library search sees it, made once:
	// the search tells the executable from other requesters by pointer.
	asReq *elfload.Requester
	// resolved caches import resolution: a global node, or one of the
	// res* values.
	resolved []int32
}

// requester is m as the library search sees it (nil for nil).
func (m *module) requester() *elfload.Requester {
	if m == nil {
		return nil
	}
	if m.asReq == nil {
		m.asReq = &elfload.Requester{Path: m.path, Machine: m.sum.Machine, IsExe: m.isExe, Rpath: m.sum.RPath, Runpath: m.sum.RunPath}
	}
	return m.asReq
}

const (
	resUnknown   = -3 // not looked up yet
	resUndefined = -2 // no module defines it
	resNothing   = -1 // defined, but by nothing the analysis follows
)

func (m *module) lookup(s elfload.ImportSym) (export, bool) {
	if s.Version != "" {
		if i, ok := m.exports[s.Name+"@"+s.Version]; ok {
			return m.sum.Exports[i], true
		}
	}
	if i, ok := m.exports[s.Name]; ok {
		return m.sum.Exports[i], true
	}
	return export{}, false
}

// nodeNamed returns the node an export or symbol called name denotes.
func (m *module) nodeNamed(name string) (int32, bool) {
	if i, ok := m.exports[name]; ok && m.sum.Exports[i].Node >= 0 {
		return m.sum.Exports[i].Node, true
	}
	if m.names == nil {
		m.names = map[string]int32{}
		for i, n := range m.sum.Nodes {
			if n.Name != "" && !n.Data {
				if _, dup := m.names[n.Name]; !dup {
					m.names[n.Name] = int32(i)
				}
			}
		}
	}
	n, ok := m.names[name]
	return n, ok
}

// linker loads a program's modules and walks the combined call graph.
type linker struct {
	opts       Options
	machine    elf.Machine
	arch       *linuxabi.Arch
	search     *elfload.Searcher
	cache      *summaryCache
	mods       []*module
	byPath     map[string]*module
	total      int32
	missing    []string
	warnings   []string
	exe        *module
	roots      []rootRef
	extra      map[int32][]extraEdge
	pluginDone map[string]bool
}

type rootRef struct {
	node int32
	why  string
}

type extraEdge struct {
	to  int32
	why string
}

func newLinker(opts Options) (*linker, error) {
	l := &linker{opts: opts, byPath: map[string]*module{}, extra: map[int32][]extraEdge{}, pluginDone: map[string]bool{}}
	if !opts.NoCache {
		dir := opts.CacheDir
		if dir == "" {
			d, err := DefaultCacheDir()
			if err != nil {
				l.warnings = append(l.warnings, fmt.Sprintf("no cache: %v", err))
			}
			dir = d
		}
		if dir != "" {
			c, err := openCache(dir)
			if err != nil {
				l.warnings = append(l.warnings, fmt.Sprintf("no cache: %v", err))
			}
			l.cache = c
		}
	}
	return l, nil
}

// load reads (or takes from the cache) the summary of the file at path.
func (l *linker) load(path, found string, isExe bool) (*module, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	if m, ok := l.byPath[real]; ok {
		return m, nil
	}
	if len(l.mods) >= maxModules {
		return nil, fmt.Errorf("more than %d files to load", maxModules)
	}
	data, err := regularfile.Read(path, maxELFSize)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an ELF file: %w", err)
	}
	if l.machine == 0 {
		l.machine = f.Machine
		if err := l.setArch(f.Machine); err != nil {
			return nil, err
		}
	} else if f.Machine != l.machine {
		return nil, fmt.Errorf("machine %v, not %v", f.Machine, l.machine)
	}
	m := &module{path: path, isExe: isExe, found: found, buildID: elfload.ReadBuildID(f, data)}
	key := contentKey(data)
	s, err := l.cache.load(key)
	if err != nil {
		l.warnings = append(l.warnings, fmt.Sprintf("cache entry for %s not used: %v", path, err))
	}
	if s != nil {
		m.sum, m.cached = s, true
	} else {
		s, err := summarize(data)
		if err != nil {
			return nil, err
		}
		m.sum = s
		if err := l.cache.store(key, s); err != nil {
			l.warnings = append(l.warnings, fmt.Sprintf("cache %s: %v", path, err))
		}
	}
	m.name = m.sum.Soname
	if m.name == "" {
		m.name = filepath.Base(path)
	}
	m.exports = make(map[string]int32, len(m.sum.Exports)*2)
	for i, e := range m.sum.Exports {
		if e.Version != "" {
			m.exports[e.Name+"@"+e.Version] = int32(i)
		}
		if _, dup := m.exports[e.Name]; !e.Hidden && (!dup || e.Version == "") {
			m.exports[e.Name] = int32(i)
		}
	}
	for i, e := range m.sum.Exports { // only hidden versions: take the first
		if _, ok := m.exports[e.Name]; !ok {
			m.exports[e.Name] = int32(i)
		}
	}
	m.resolved = make([]int32, len(m.sum.Imports))
	for i := range m.resolved {
		m.resolved[i] = resUnknown
	}
	m.base = l.total
	l.total += int32(len(m.sum.Nodes))
	l.mods = append(l.mods, m)
	l.byPath[real] = m
	return m, nil
}

func (l *linker) setArch(m elf.Machine) error {
	name := map[elf.Machine]string{elf.EM_X86_64: "x86_64", elf.EM_AARCH64: "aarch64"}[m]
	if name == "" {
		return fmt.Errorf("machine %v: %w", m, elfload.ErrNotSupported)
	}
	if l.opts.Arch != "" {
		want, err := linuxabi.LookupArch(l.opts.Arch)
		if err != nil {
			return err
		}
		if want.Name != name {
			return fmt.Errorf("binary is %s, not %s", name, want.Name)
		}
	}
	a, err := linuxabi.LookupArch(name)
	if err != nil {
		return err
	}
	l.arch = a
	ldc := l.opts.LDCache
	if ldc == "" {
		ldc = "/etc/ld.so.cache"
	}
	l.search = &elfload.Searcher{Machine: m, LibraryPath: l.opts.LibraryPath, DefaultDirs: linuxabi.DefaultLibraryDirs(m)}
	if b, err := regularfile.Read(ldc, maxConfigSize); err == nil {
		c, err := elfload.ParseLDCache(b, m)
		if err != nil {
			l.warnings = append(l.warnings, fmt.Sprintf("%s: %v", ldc, err))
		}
		l.search.Cache = c
	} else if !os.IsNotExist(err) {
		l.warnings = append(l.warnings, err.Error())
	}
	return nil
}

// loadNeeded loads the DT_NEEDED closure of the modules from index start
// on, breadth first, as ld.so builds the global scope.
func (l *linker) loadNeeded(start int, why string) {
	for i := start; i < len(l.mods); i++ {
		m := l.mods[i]
	needed:
		for _, n := range m.sum.Needed {
			for _, o := range l.mods {
				if o.sum.Soname == n {
					continue needed
				}
			}
			if len(l.mods) >= maxModules {
				l.missing = append(l.missing, fmt.Sprintf("%s (needed by %s%s): more than %d files to load: the rest is not analysed", n, m.name, why, maxModules))
				return
			}
			p, how, err := l.search.Find(n, m.requester(), l.exe.requester())
			if errors.Is(err, elfload.ErrLookups) {
				l.missing = append(l.missing, fmt.Sprintf("%s (needed by %s%s): %v", n, m.name, why, err))
				return
			}
			if err != nil {
				l.missing = append(l.missing, fmt.Sprintf("%s (needed by %s%s)", n, m.name, why))
				continue
			}
			if _, err := l.load(p, fmt.Sprintf("DT_NEEDED of %s (%s)%s", m.name, how, why), false); err != nil {
				l.missing = append(l.missing, fmt.Sprintf("%s (needed by %s%s): %v", n, m.name, why, err))
			}
		}
	}
}

// moduleOf returns the module holding global node g.
func (l *linker) moduleOf(g int32) *module {
	i := sort.Search(len(l.mods), func(i int) bool { return l.mods[i].base > g }) - 1
	return l.mods[i]
}

// resolveImport binds import imp of m as ld.so would: the first module
// in load order that defines it.
func (l *linker) resolveImport(m *module, imp int32) int32 {
	if r := m.resolved[imp]; r != resUnknown {
		return r
	}
	s := m.sum.Imports[imp]
	r := int32(resUndefined)
	for _, o := range l.mods {
		if e, ok := o.lookup(s); ok {
			r = resNothing
			if e.Node >= 0 {
				r = o.base + e.Node
			}
			break
		}
	}
	m.resolved[imp] = r
	return r
}

// Edge kinds, for provenance.
const (
	viaRoot uint8 = iota
	viaCall
	viaPointer
	viaData
	viaImport
	viaExtra
)

var viaNames = [...]string{viaCall: "call", viaPointer: "pointer", viaData: "data", viaImport: "import"}

type walk struct {
	parent []int32 // -1: root; -2: not reached
	via    []uint8
	why    map[int32]string // root reasons and extra-edge reasons, by child
	order  []int32
}

func (w *walk) reached(g int32) bool { return g >= 0 && int(g) < len(w.parent) && w.parent[g] != -2 }

// walk is a breadth-first search from the roots: the first time a node
// is reached is by a shortest chain.
func (l *linker) walk() *walk {
	w := &walk{parent: make([]int32, l.total), via: make([]uint8, l.total), why: map[int32]string{}}
	for i := range w.parent {
		w.parent[i] = -2
	}
	visit := func(to, from int32, via uint8) {
		if to < 0 || w.parent[to] != -2 {
			return
		}
		w.parent[to] = from
		w.via[to] = via
		w.order = append(w.order, to)
	}
	for _, r := range l.roots {
		if w.parent[r.node] == -2 {
			visit(r.node, -1, viaRoot)
			w.why[r.node] = r.why
		}
	}
	for i := 0; i < len(w.order); i++ {
		g := w.order[i]
		m := l.moduleOf(g)
		n := &m.sum.Nodes[g-m.base]
		for _, c := range n.Calls {
			visit(m.base+c, g, viaCall)
		}
		kind := viaPointer
		if n.Data {
			kind = viaData
		}
		for _, r := range n.Refs {
			visit(m.base+r, g, kind)
		}
		for _, imp := range n.Imports {
			visit(l.resolveImport(m, imp), g, viaImport)
		}
		for _, e := range l.extra[g] {
			if w.parent[e.to] == -2 {
				w.why[e.to] = e.why
			}
			visit(e.to, g, viaExtra)
		}
	}
	return w
}

// frame describes global node g for a provenance chain.
func (l *linker) frame(w *walk, g int32) Frame {
	m := l.moduleOf(g)
	n := &m.sum.Nodes[g-m.base]
	f := Frame{Function: n.Name, Module: m.name, Data: n.Data}
	if f.Function == "" {
		f.Function = fmt.Sprintf("0x%x", n.Addr)
	}
	switch v := w.via[g]; v {
	case viaRoot, viaExtra:
		f.Via = w.why[g]
	default:
		f.Via = viaNames[v]
	}
	return f
}

func (l *linker) chain(w *walk, g int32) []Frame {
	var out []Frame
	for ; g >= 0 && len(out) < 256; g = w.parent[g] {
		out = append(out, l.frame(w, g))
	}
	return out
}

// result turns a finished walk into a Result.
func (l *linker) result(w *walk) *Result {
	r := &Result{Arch: l.arch.Name}
	type site struct {
		node    int32
		wrapper int32 // -1: the node's own syscall instruction
	}
	first := map[int32]site{}
	unknown := map[int]bool{}
	type dynCall struct {
		m    *module
		call string
	}
	dlopen := map[dynCall]int{}
	undefined := map[string]bool{}
	for _, g := range w.order {
		m := l.moduleOf(g)
		n := &m.sum.Nodes[g-m.base]
		r.Stats.ReachableFunctions += btoi(!n.Data)
		r.Unresolved.IndirectCalls += int(n.Indirect)
		r.Unresolved.SyscallSites += int(n.Unknown)
		for _, nr := range n.Syscalls {
			if _, ok := first[nr]; !ok {
				first[nr] = site{g, -1}
			}
		}
		for _, v := range n.Via {
			if _, ok := first[v.Nr]; ok {
				continue
			}
			wr := m.base + v.Wrapper
			if v.Wrapper < 0 {
				wr = l.resolveImport(m, -1-v.Wrapper)
			}
			first[v.Nr] = site{g, wr}
		}
		for _, imp := range n.Imports {
			s := m.sum.Imports[imp]
			switch s.Name {
			case "dlopen", "dlmopen":
				dlopen[dynCall{m, "dlopen"}]++
			case "dlsym", "dlvsym":
				dlopen[dynCall{m, "dlsym"}]++
			}
			if l.resolveImport(m, imp) == resUndefined && !s.Weak {
				undefined[s.Name+" ("+m.name+")"] = true
			}
		}
	}
	for nr, s := range first {
		name := l.arch.SyscallName(int(nr))
		if name == "" {
			unknown[int(nr)] = true
			continue
		}
		sc := Syscall{Name: name, Number: int(nr), VDSO: vdsoCalls[name]}
		if s.wrapper >= 0 {
			f := l.frame(w, s.wrapper)
			f.Via = "syscall wrapper"
			sc.Path = append(sc.Path, f)
		}
		sc.Path = append(sc.Path, l.chain(w, s.node)...)
		r.Syscalls = append(r.Syscalls, sc)
	}
	slices.SortFunc(r.Syscalls, func(a, b Syscall) int { return strings.Compare(a.Name, b.Name) })
	for nr := range unknown {
		r.Unresolved.UnknownNumbers = append(r.Unresolved.UnknownNumbers, nr)
	}
	slices.Sort(r.Unresolved.UnknownNumbers)
	r.Unresolved.Libraries = slices.Clone(l.missing)
	for s := range undefined {
		r.Unresolved.Imports = append(r.Unresolved.Imports, s)
	}
	slices.Sort(r.Unresolved.Imports)
	for _, m := range l.mods {
		for _, call := range []string{"dlopen", "dlsym"} {
			if n := dlopen[dynCall{m, call}]; n > 0 {
				r.Unresolved.Dlopen = append(r.Unresolved.Dlopen, Dlopen{Module: m.name, Call: call, Functions: n})
			}
		}
		r.Modules = append(r.Modules, Module{Path: m.path, Name: m.name, BuildID: m.buildID, Found: m.found, Cached: m.cached})
		r.Stats.Functions += m.sum.Stats.Functions
		r.Stats.Instructions += m.sum.Stats.Instructions
	}
	r.Warnings = slices.Clone(l.warnings)
	return r
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
