package reducer

import (
	"debug/buildinfo"
	"debug/elf"
	"path/filepath"
	"strings"
)

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

// multiarch is the Debian library directory tuple per machine.
var multiarch = map[elf.Machine]string{elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_AARCH64: "aarch64-linux-gnu"}

// libraryImports reports whether the library soname, found where Debian
// and most distributions keep libraries, imports symbol.
func libraryImports(m elf.Machine, soname, symbol string) bool {
	var dirs []string
	if t, ok := multiarch[m]; ok {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	dirs = append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
	for _, d := range dirs {
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
