package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/profiles"
)

// Invocation is the invocation argv makes from sysrec's working
// directory and environment, with the files its arguments name
// (emit --format landrun instantiates templates from it).
func Invocation(argv []string) (*profiles.Invocation, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("instantiate templates: %w", err)
	}
	env := os.Environ()
	return &profiles.Invocation{Args: argv, Dir: dir, Env: env, Files: argFiles(argv, dir), Programs: argPrograms(argv, env)}, nil
}

// defaultPath is the search path of a shell whose environment has none
// (glibc's confstr(_CS_PATH)).
const defaultPath = "/bin:/usr/bin"

// argPrograms are the executables the words of argv's arguments name
// through env's PATH (profiles.CommandWords), symlinks followed, for
// Invocation.Programs. Relative directories in PATH are left out: they
// name a different place in every directory the target visits.
func argPrograms(argv, env []string) []string {
	search, ok := profiles.Invocation{Env: env}.Getenv("PATH")
	if !ok {
		search = defaultPath
	}
	var out []string
	for _, w := range profiles.CommandWords(argv) {
		for _, dir := range filepath.SplitList(search) {
			if !filepath.IsAbs(dir) {
				continue
			}
			p, err := filepath.EvalSymlinks(filepath.Join(dir, w))
			if err != nil {
				continue
			}
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
				continue
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
			break
		}
	}
	return out
}

// argFiles reads, for Invocation.Files, the regular files of at most
// profiles.MaxArgFile bytes that argv's arguments name (resolved
// against dir). Anything else is left unopened: opening a device or a
// FIFO can have effects of its own (a tape rewinds when closed).
func argFiles(argv []string, dir string) map[int][]byte {
	var out map[int][]byte
	for n := 1; n < len(argv); n++ {
		p, ok := profiles.ArgPath(argv[n], dir)
		if !ok {
			continue
		}
		if b, ok := readSmall(p); ok {
			if out == nil {
				out = map[int][]byte{}
			}
			out[n] = b
		}
	}
	return out
}

// readSmall reads p if it is a regular file of at most
// profiles.MaxArgFile bytes.
func readSmall(p string) ([]byte, bool) {
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Size() > profiles.MaxArgFile {
		return nil, false
	}
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	// It may have been replaced since the Stat.
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, profiles.MaxArgFile+1))
	if err != nil || len(b) > profiles.MaxArgFile {
		return nil, false
	}
	return b, true
}
