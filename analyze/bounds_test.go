package analyze

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"github.com/sysrec/sysrec/analyze/elfload"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// readELF returns the bytes of the ELF file at path and the file parsed.
func readELF(t *testing.T, path string) ([]byte, *elf.File) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return b, f
}

// patchSections rewrites the section headers of the ELF file at path
// for which match holds, with set.
func patchSections(t *testing.T, path string, match func(*elf.Section) bool, set func(hdr []byte, size int)) {
	t.Helper()
	b, f := readELF(t, path)
	shoff := binary.LittleEndian.Uint64(b[0x28:])
	const shentsize = 64
	patched := 0
	for i, s := range f.Sections {
		if match(s) {
			set(b[shoff+uint64(i)*shentsize:][:shentsize], len(b))
			patched++
		}
	}
	if patched == 0 {
		t.Fatalf("%s: no section to patch", path)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// Files that ask for unbounded work are refused with an error naming
// the bound: more DT_NEEDED entries or RUNPATH directories than any real
// file, loaded sections that overlap, symbol tables too large.
func TestELFBounds(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		build func(t *testing.T, dir string) string
		want  string
	}{
		{"DT_NEEDED", func(t *testing.T, dir string) string {
			lib := gcc(t, dir, "lib.so", "-shared", "-fPIC", testdata("plugin.c"))
			b, err := os.ReadFile(lib)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{testdata("direct.c"), "-L" + dir, "-Wl,--no-as-needed"}
			for i := range elfload.MaxNeeded + 1 {
				name := fmt.Sprintf("libn%d.so", i)
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-l:"+name)
			}
			return gcc(t, dir, "prog", args...)
		}, fmt.Sprintf("DT_NEEDED entries, more than %d", elfload.MaxNeeded)},
		{"RUNPATH", func(t *testing.T, dir string) string {
			dirs := make([]string, elfload.MaxSearchDirs+1)
			for i := range dirs {
				dirs[i] = fmt.Sprintf("/nonexistent/%d", i)
			}
			return gcc(t, dir, "prog", testdata("direct.c"), "-Wl,--enable-new-dtags,-rpath,"+strings.Join(dirs, ":"))
		}, fmt.Sprintf("%d DT_RPATH and DT_RUNPATH directories, more than %d", elfload.MaxSearchDirs+1, elfload.MaxSearchDirs)},
		{"overlapping sections", func(t *testing.T, dir string) string {
			p := gcc(t, dir, "prog", testdata("direct.c"))
			patchSections(t, p, func(s *elf.Section) bool { return s.Flags&elf.SHF_ALLOC != 0 && s.Type == elf.SHT_PROGBITS },
				func(hdr []byte, size int) {
					binary.LittleEndian.PutUint64(hdr[0x18:], 0)            // sh_offset
					binary.LittleEndian.PutUint64(hdr[0x20:], uint64(size)) // sh_size
				})
			return p
		}, "loaded sections hold"},
		{"symbols", func(t *testing.T, dir string) string {
			p := gcc(t, dir, "prog", testdata("direct.c"))
			patchSections(t, p, func(s *elf.Section) bool { return s.Type == elf.SHT_DYNSYM },
				func(hdr []byte, _ int) { binary.LittleEndian.PutUint64(hdr[0x20:], (elfload.MaxSymbols+1)*24) })
			return p
		}, fmt.Sprintf("%d symbols, more than the %d", elfload.MaxSymbols+1, elfload.MaxSymbols)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Binary(tt.build(t, d), Options{NoCache: true})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// A chain of a million data objects, each pointing at the next, is
// followed with a stack of the analysis's own: on the goroutine's stack
// it took hundreds of megabytes and, longer, crashed the process (a
// stack overflow is fatal, not a panic).
func TestDataChain(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "chain.s")
	const n = 1 << 20
	asm := fmt.Sprintf(`	.text
	.globl start
	.type start, @function
start:
	leaq chain(%%rip), %%rax
	ret
	.section .data.rel.local,"aw"
	.p2align 3
chain:
	.set i, 1
	.rept %d
	.quad chain + i*8
	.set i, i+1
	.endr
	.quad 0
	.section .note.GNU-stack,"",@progbits
`, n)
	if err := os.WriteFile(src, []byte(asm), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := gcc(t, dir, "libchain.so", "-shared", "-nostdlib", src)
	defer debug.SetMaxStack(debug.SetMaxStack(32 << 20))
	r, err := Exports(lib, []string{"start"}, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Stats.ReachableFunctions; got != 1 {
		t.Errorf("%d reachable functions, want 1", got)
	}
}

// A function made to cost the data flow its whole per-query budget at
// every syscall site — 200,000 sites, each reached by a jump from a chain
// of conditional jumps after 300 instructions that leave the number
// alone — is bounded by the file's budget: the sites past it count as
// unknown numbers instead of costing 400 states each.
func TestFlowBudget(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "flow.s")
	const sites = 200000
	asm := fmt.Sprintf(`	.text
	.globl start
	.type start, @function
start:
	movl $39, %%eax
	.rept 300
	nop
	.endr
	.set i, 0
	.rept %d
	.byte 0x0f, 0x84
	.long sites + i*3 - (. + 4)
	.set i, i+1
	.endr
	ret
sites:
	.rept %d
	syscall
	ret
	.endr
	.section .note.GNU-stack,"",@progbits
`, sites, sites)
	if err := os.WriteFile(src, []byte(asm), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := gcc(t, dir, "libflow.so", "-shared", "-nostdlib", src)
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, err := summarize(b)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var known, unknown int
	for _, n := range s.Nodes {
		known += len(n.Syscalls)
		unknown += int(n.Unknown)
	}
	t.Logf("%v: %d sites with a known number, %d unknown", took, known, unknown)
	if known == 0 || unknown == 0 {
		t.Errorf("%d known, %d unknown: want the first sites resolved (getpid) and the budget spent", known, unknown)
	}
	// About 1 s here; without the budget, 21 s.
	if took > 5*time.Second {
		t.Errorf("summarize took %v, want under 5 s", took)
	}
}

// A program whose 1024 DT_NEEDED libraries are all missing, each
// searched for in its 256 RUNPATH directories, asks for 270,000 look-ups:
// the search stops at maxLookups and says so.
func TestLookupBudget(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	lib := gcc(t, dir, "lib.so", "-shared", "-fPIC", testdata("plugin.c"))
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{testdata("direct.c"), "-L" + dir, "-Wl,--no-as-needed"}
	var libs []string
	for i := range elfload.MaxNeeded - 1 {
		name := fmt.Sprintf("libn%d.so", i)
		libs = append(libs, filepath.Join(dir, name))
		if err := os.WriteFile(libs[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-l:"+name)
	}
	dirs := make([]string, elfload.MaxSearchDirs)
	for i := range dirs {
		dirs[i] = filepath.Join(dir, "missing", fmt.Sprint(i))
	}
	prog := gcc(t, dir, "prog", append(args, "-Wl,--enable-new-dtags,-rpath,"+strings.Join(dirs, ":"))...)
	for _, l := range libs {
		if err := os.Remove(l); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	r, err := Binary(prog, Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	want := fmt.Sprintf("more than %d library look-ups", elfload.MaxLookups)
	if !slices.ContainsFunc(r.Unresolved.Libraries, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("unresolved libraries %q, want one saying %q", r.Unresolved.Libraries[len(r.Unresolved.Libraries)-1], want)
	}
	if took > 10*time.Second {
		t.Errorf("took %v", took)
	}
}
