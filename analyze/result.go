package analyze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Result is what a program can reach. It is plain data: the reducer reads
// it (or its JSON) as evidence.
type Result struct {
	Binary string `json:"binary"`
	// Interpreter is what was analysed for a "#!" script.
	Interpreter string `json:"interpreter,omitempty"`
	Arch        string `json:"arch"`
	// Kind is "dynamic", "static", "static-pie", "go" or "go-dynamic".
	Kind       string     `json:"kind"`
	Modules    []Module   `json:"modules"`
	Syscalls   []Syscall  `json:"syscalls"`
	Unresolved Unresolved `json:"unresolved"`
	Stats      Stats      `json:"stats"`
	// Warnings are problems that did not stop the analysis (a cache
	// that could not be written, an unreadable ld.so.cache).
	Warnings []string `json:"warnings,omitempty"`
}

// Module is one ELF file the analysis read.
type Module struct {
	Path    string `json:"path"`
	Name    string `json:"name"` // soname, or the file name
	BuildID string `json:"build_id,omitempty"`
	// Found says why the module was loaded: "executable", "interpreter",
	// "DT_NEEDED of X (ld.so.cache)", "NSS module for passwd", ...
	Found  string `json:"found"`
	Cached bool   `json:"cached"`
}

// Syscall is one reachable syscall and the shortest chain that reaches
// it: Path[0] makes the call, each frame is reached from the next, and
// the last is a root (entry point, constructor, or a requested export).
type Syscall struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
	// VDSO: the vDSO answers this call without entering the kernel; the
	// syscall happens only as a fallback (no vDSO, or a clock it does not
	// serve).
	VDSO bool    `json:"vdso,omitempty"`
	Path []Frame `json:"path"`
}

// Frame is a function (or data object) in a provenance chain.
type Frame struct {
	Function string `json:"function"` // symbol name, or 0xADDR in a stripped file
	Module   string `json:"module"`
	Data     bool   `json:"data,omitempty"`
	// Via says how the next frame reaches this one: call, import,
	// pointer (its address is taken), data (a data object holds it),
	// syscall-wrapper, a plugin rule, or for the last frame why it is a
	// root.
	Via string `json:"via"`
}

// Unresolved counts what the analysis saw but could not follow, in
// reachable code only.
type Unresolved struct {
	// IndirectCalls are call sites through a register or memory; their
	// targets are approximated by the functions whose address reachable
	// code takes.
	IndirectCalls int `json:"indirect_calls"`
	// SyscallSites are syscall instructions (and syscall() calls) whose
	// number is not a constant the flow can find.
	SyscallSites int `json:"syscall_sites"`
	// UnknownNumbers are constant numbers the syscall table does not have.
	UnknownNumbers []int `json:"unknown_numbers,omitempty"`
	// Libraries are DT_NEEDED entries (and plugins) that were not found.
	Libraries []string `json:"libraries,omitempty"`
	// Imports are symbols no loaded library defines.
	Imports []string `json:"imports,omitempty"`
	// Dlopen lists modules whose reachable code calls dlopen (what they
	// load is not analysed) or dlsym (what they call through the
	// pointer it returns is not followed).
	Dlopen []Dlopen `json:"dlopen,omitempty"`
}

// Dlopen is a module that loads libraries, or looks up functions by
// name, where the analysis cannot follow.
type Dlopen struct {
	Module string `json:"module"`
	Call   string `json:"call"` // dlopen or dlsym
	// Functions is how many reachable functions of Module make the call.
	Functions int `json:"functions"`
}

// Stats sizes the analysis.
type Stats struct {
	Functions          int `json:"functions"`
	ReachableFunctions int `json:"reachable_functions"`
	Instructions       int `json:"instructions"`
}

// vdsoCalls are the calls the x86_64 and arm64 vDSOs serve in user space.
var vdsoCalls = map[string]bool{"clock_gettime": true, "clock_getres": true, "gettimeofday": true, "time": true, "getcpu": true}

// Names lists the reachable syscalls, sorted.
func (r *Result) Names() []string {
	out := make([]string, len(r.Syscalls))
	for i, s := range r.Syscalls {
		out[i] = s.Name
	}
	return out
}

// Has reports whether the syscall called name is reachable.
func (r *Result) Has(name string) bool {
	_, ok := slices.BinarySearchFunc(r.Syscalls, name, func(s Syscall, n string) int { return strings.Compare(s.Name, n) })
	return ok
}

// Lookup returns the reachable syscall called name.
func (r *Result) Lookup(name string) (Syscall, bool) {
	i, ok := slices.BinarySearchFunc(r.Syscalls, name, func(s Syscall, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Syscall{}, false
	}
	return r.Syscalls[i], true
}

// Chain is the provenance as one line: "fdatasync ← fdatasync@libc.so.6 ←
// 0x4f2a0@libsqlite3.so.0 ← main@sqlite3".
func (s Syscall) Chain() string {
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteString(" ← ")
	b.WriteString(pathString(s.Path))
	return b.String()
}

// pathString joins the frames of a chain and says why its last frame is
// a root.
func pathString(path []Frame) string {
	parts := make([]string, len(path))
	for i, f := range path {
		parts[i] = f.String()
	}
	if n := len(path); n > 0 && path[n-1].Via != "" {
		parts[n-1] += " (" + path[n-1].Via + ")"
	}
	return strings.Join(parts, " ← ")
}

func (f Frame) String() string {
	s := f.Function + "@" + f.Module
	if f.Data {
		s = "data:" + s
	}
	switch {
	case strings.HasPrefix(f.Via, "NSS"), strings.HasPrefix(f.Via, "gconv"), strings.HasPrefix(f.Via, "unwinder"):
		s += " [" + f.Via + "]"
	}
	return s
}

// Text is the result for people: one syscall per line with its chain,
// then what was not resolved.
func (r *Result) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %s): %d reachable syscalls\n", r.Binary, r.Arch, r.Kind, len(r.Syscalls))
	if r.Interpreter != "" {
		fmt.Fprintf(&b, "script: analysed its interpreter %s, not the script\n", r.Interpreter)
	}
	w := 0
	for _, s := range r.Syscalls {
		w = max(w, len(s.Name))
	}
	for _, s := range r.Syscalls {
		note := ""
		if s.VDSO {
			note = " (vDSO; syscall only on fallback)"
		}
		fmt.Fprintf(&b, "  %-*s ← %s%s\n", w, s.Name, pathString(s.Path), note)
	}
	u := r.Unresolved
	fmt.Fprintf(&b, "unresolved: %d indirect call sites, %d syscall sites with a non-constant number\n", u.IndirectCalls, u.SyscallSites)
	if len(u.UnknownNumbers) > 0 {
		fmt.Fprintf(&b, "unresolved: syscall numbers not in the %s table: %v\n", r.Arch, u.UnknownNumbers)
	}
	for _, l := range u.Libraries {
		fmt.Fprintf(&b, "unresolved: library not found: %s\n", l)
	}
	if len(u.Imports) > 0 {
		fmt.Fprintf(&b, "unresolved: %d imports no library defines: %s\n", len(u.Imports), strings.Join(u.Imports, " "))
	}
	for _, d := range u.Dlopen {
		what := "what it loads is not analysed"
		if d.Call == "dlsym" {
			what = "calls through what it looks up are not followed"
		}
		fmt.Fprintf(&b, "unresolved: %s calls %s (%d reachable functions); %s\n", d.Module, d.Call, d.Functions, what)
	}
	for _, m := range r.Modules {
		if strings.HasPrefix(m.Found, "NSS") || strings.HasPrefix(m.Found, "gconv") || strings.HasPrefix(m.Found, "unwinder") {
			fmt.Fprintf(&b, "plugin: %s (%s)\n", m.Path, m.Found)
		}
	}
	return b.String()
}

// Format writes results as analyze prints them: as JSON, one object for
// one result and an array for several (for the reducer and scripts);
// else each result's Text followed by its warnings, a blank line
// between results.
func Format(results []*Result, asJSON bool) ([]byte, error) {
	var out bytes.Buffer
	if asJSON {
		var v any = results
		if len(results) == 1 {
			v = results[0]
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, err
		}
		out.Write(b)
		out.WriteByte('\n')
		return out.Bytes(), nil
	}
	for i, r := range results {
		if i > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(r.Text())
		for _, w := range r.Warnings {
			out.WriteString("warning: " + w + "\n")
		}
	}
	return out.Bytes(), nil
}
