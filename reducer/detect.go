package reducer

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/sysrec/sysrec/internal/regularfile"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// DetectRuntime is RuntimeOf for the executable a target names (a path
// found on $PATH, /proc/PID/exe; "" for none): the target names the
// file, so it is read only when it is a regular file (a FIFO would block
// the read for good), reopened through /proc so the file cannot be
// swapped in between.
func DetectRuntime(exe string) string {
	if exe == "" {
		return RuntimeNone
	}
	f, _, err := regularfile.Open(exe)
	if err != nil {
		return RuntimeNone
	}
	defer f.Close()
	return RuntimeOf(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
}

// GoSignature reports whether the recorded calls of the executables
// matching the glob exe (every one when "") carry the Go runtime's
// start-up signature: a handler for SIGURG, the signal Go preempts
// goroutines with and C programs leave alone, together with per-thread
// signal stacks (sigaltstack). A command that is not a Go binary (a
// shell, `go test`) may run one.
func GoSignature(rec *profiles.Recording, exe string) bool {
	urg, altstack := false, false
	for _, s := range rec.Samples {
		if s.Arch != "" && s.Arch != rec.Arch {
			continue // an i386 call says nothing of the Go runtime
		}
		if exe != "" {
			if ok, _ := path.Match(exe, s.Exe); !ok {
				continue
			}
		}
		switch s.Name {
		case "rt_sigaction":
			urg = urg || (s.Recorded[0] && s.Args[0] == 23) // SIGURG
		case "sigaltstack":
			altstack = true
		}
	}
	return urg && altstack
}

// RuntimeOf returns the runtime whose timing-dependent calls a profile of
// the executable at path needs, from evidence in the file: RuntimeGo when
// it carries Go build information, RuntimePython when it is CPython (it
// defines or imports Py_Initialize), RuntimeNode when it is node (it
// defines or imports napi_module_register), RuntimeGlibcThreads when it or a
// library it links imports glibc's pthread_create, RuntimeGlibc for
// another program linked with glibc; otherwise RuntimeNone.
func RuntimeOf(path string) string {
	if _, err := buildinfo.ReadFile(path); err == nil {
		return RuntimeGo
	}
	f, err := elf.Open(path)
	if err != nil {
		return RuntimeNone
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	glibc, python, threads := false, false, false
	for _, l := range libs {
		glibc = glibc || l == "libc.so.6"
		python = python || strings.HasPrefix(l, "libpython3")
	}
	if !glibc {
		return RuntimeNone // static, musl, or not a program
	}
	python = python || hasSymbol(f, "Py_Initialize", true)
	// node defines (or, built against a shared libnode, imports) the
	// N-API entry point every native module registers through.
	if hasSymbol(f, "napi_module_register", true) {
		return RuntimeNode
	}
	threads = hasSymbol(f, "pthread_create", false)
	for _, l := range libs {
		if !threads && l != "libc.so.6" {
			threads = libraryImports(f.Machine, l, "pthread_create")
		}
	}
	switch {
	case python:
		return RuntimePython
	case threads:
		return RuntimeGlibcThreads
	}
	return RuntimeGlibc
}

// hasSymbol reports whether f's dynamic symbols import name (or, with
// defined, also define it). A weak import does not count: libselinux
// imports pthread_create weakly only to learn whether threads exist.
func hasSymbol(f *elf.File, name string, defined bool) bool {
	syms, err := f.DynamicSymbols()
	if err != nil {
		return false
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		if s.Section != elf.SHN_UNDEF {
			if defined {
				return true
			}
			continue
		}
		if elf.ST_BIND(s.Info) != elf.STB_WEAK {
			return true
		}
	}
	return false
}

// libraryImports reports whether the library soname, found in the
// loader's default directories, imports symbol.
func libraryImports(m elf.Machine, soname, symbol string) bool {
	for _, d := range linuxabi.DefaultLibraryDirs(m) {
		f, err := elf.Open(filepath.Join(d, soname))
		if err != nil {
			continue
		}
		ok := f.Machine == m && hasSymbol(f, symbol, false)
		f.Close()
		if ok {
			return true
		}
	}
	return false
}
