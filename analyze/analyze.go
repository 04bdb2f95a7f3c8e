package analyze

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sysrec/sysrec/internal/regularfile"
)

// Options tune an analysis. The zero value analyses for the binary's own
// machine, follows plugins, and caches summaries in DefaultCacheDir.
type Options struct {
	// Arch, if set, must be the binary's architecture (x86_64, aarch64,
	// or an alias such as amd64); it names the syscall table.
	Arch string
	// CacheDir holds library summaries; "" means DefaultCacheDir().
	CacheDir string
	// NoCache analyses every file afresh and writes nothing.
	NoCache bool
	// LibraryPath is searched as ld.so searches LD_LIBRARY_PATH.
	LibraryPath []string
	// LDCache is the ld.so cache to read; "" means /etc/ld.so.cache.
	LDCache string
	// NSSwitch is the NSS configuration; "" means /etc/nsswitch.conf.
	NSSwitch string
	// NoPlugins: do not follow NSS modules, gconv modules or the
	// unwinder that libc loads with dlopen.
	NoPlugins bool
}

// Binary analyses the executable at path with the libraries ld.so would
// load for it and the plugins its reachable imports show it uses. A
// script ("#!") is analysed as its interpreter: what the script does
// depends on its text, which this package does not read.
func Binary(path string, opts Options) (*Result, error) {
	interp, err := scriptInterpreter(path)
	if err != nil {
		return nil, withPath(path, err)
	}
	if interp != "" {
		r, err := Binary(interp, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: interpreter: %w", path, err)
		}
		r.Binary, r.Interpreter = path, interp
		return r, nil
	}
	return analyzeELF(path, opts)
}

func analyzeELF(path string, opts Options) (*Result, error) {
	l, err := newLinker(opts)
	if err != nil {
		return nil, err
	}
	exe, err := l.load(path, "executable", true)
	if err != nil {
		return nil, withPath(path, err)
	}
	l.exe = exe
	l.loadNeeded(0, "")
	if ip := exe.sum.Interp; ip != "" {
		m, err := l.load(ip, "interpreter", false)
		if err != nil {
			// Not at its absolute path (a binary for another machine,
			// its libraries under --library-path): ld.so by its name.
			if p, how, ferr := l.search.Find(filepath.Base(ip), nil, exe.requester()); ferr == nil {
				m, err = l.load(p, "interpreter ("+how+")", false)
			}
		}
		if err != nil {
			l.missing = append(l.missing, fmt.Sprintf("%s (interpreter): %v", ip, err))
		} else if m.sum.Entry >= 0 {
			if !strings.HasPrefix(m.found, "interpreter") {
				m.found += "; interpreter"
			}
			l.roots = append(l.roots, rootRef{m.base + m.sum.Entry, "ld.so start-up"})
			l.loadNeeded(len(l.mods)-1, "")
		}
	}
	if exe.sum.Entry >= 0 {
		l.roots = append(l.roots, rootRef{exe.base + exe.sum.Entry, "entry point"})
	}
	for _, m := range l.mods {
		l.addInits(m)
	}
	r := l.run()
	r.Binary = path
	r.Kind = kind(exe.sum)
	return r, nil
}

// Exports analyses the library at path as if a program called the named
// exported functions: their closure through the library and the
// libraries it needs. Constructors are not roots.
func Exports(path string, symbols []string, opts Options) (*Result, error) {
	l, err := newLinker(opts)
	if err != nil {
		return nil, err
	}
	lib, err := l.load(path, "library", false)
	if err != nil {
		return nil, withPath(path, err)
	}
	l.exe = lib
	l.loadNeeded(0, "")
	for _, s := range symbols {
		n, ok := lib.nodeNamed(s)
		if !ok {
			return nil, fmt.Errorf("%s: no function %q", path, s)
		}
		l.roots = append(l.roots, rootRef{lib.base + n, "export"})
	}
	r := l.run()
	r.Binary = path + ":" + strings.Join(symbols, ",")
	r.Kind = "exports"
	return r, nil
}

func (l *linker) addInits(m *module) {
	for _, i := range m.sum.Inits {
		l.roots = append(l.roots, rootRef{m.base + i, "constructor"})
	}
	// ld.so calls these by name while it starts the program.
	for _, name := range rtldCalls {
		if i, ok := m.exports[name]; ok && m.sum.Exports[i].Node >= 0 {
			l.roots = append(l.roots, rootRef{m.base + m.sum.Exports[i].Node, "called by ld.so"})
		}
	}
}

// rtldCalls are functions glibc's ld.so looks up by name and calls
// during start-up (__libc_early_init in libc.so.6 since glibc 2.32).
var rtldCalls = []string{"__libc_early_init"}

// run walks the graph, follows plugins where reachable imports call for
// them (walking again with them), and builds the result.
func (l *linker) run() *Result {
	w := l.walk()
	for round := 0; round < 3 && !l.opts.NoPlugins; round++ {
		if !l.plugins(w) {
			break
		}
		w = l.walk()
	}
	return l.result(w)
}

func kind(s *summary) string {
	switch {
	case s.Go && s.Interp != "":
		return "go-dynamic"
	case s.Go:
		return "go"
	case s.Interp == "" && len(s.Needed) == 0 && s.Exec:
		return "static"
	case s.Interp == "" && len(s.Needed) == 0:
		return "static-pie"
	}
	return "dynamic"
}

// libDir is the directory libc was loaded from, where its plugins live.
func (l *linker) libcDir() string {
	for _, m := range l.mods {
		if strings.HasPrefix(m.name, "libc.so") {
			return filepath.Dir(m.path)
		}
	}
	if d := l.search.DefaultDirs; len(d) > 0 {
		return d[0]
	}
	return "/lib"
}

// withPath names the file in err unless err already does (os errors).
func withPath(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// scriptInterpreter returns the program the kernel runs for a "#!"
// script at path ("" for anything else), seeing through "/usr/bin/env
// NAME" to the NAME env would run.
func scriptInterpreter(path string) (string, error) {
	for depth := 0; ; depth++ {
		f, _, err := regularfile.Open(path)
		if err != nil {
			return "", err
		}
		line, err := bufio.NewReader(io.LimitReader(f, maxScriptLine)).ReadBytes('\n')
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		if !bytes.HasPrefix(line, []byte("#!")) {
			if depth == 0 {
				return "", nil
			}
			return path, nil
		}
		if depth >= maxInterpChain {
			return "", errors.New("too many levels of #! interpreters")
		}
		fields := strings.Fields(string(line[2:]))
		if len(fields) == 0 {
			return "", errors.New("empty #! line")
		}
		next := fields[0]
		if filepath.Base(next) == "env" {
			for _, a := range fields[1:] {
				if strings.HasPrefix(a, "-") || strings.Contains(a, "=") {
					continue
				}
				if next, err = exec.LookPath(a); err != nil {
					return "", err
				}
				break
			}
		}
		path = next
	}
}
