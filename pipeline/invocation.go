package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/sysrec/sysrec/internal/regularfile"
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
	files, real := argFiles(argv, dir)
	inv := &profiles.Invocation{Args: argv, Dir: dir, Env: env, Files: files, FilePaths: real, Programs: argPrograms(argv, env)}
	inv.Links, inv.LinkDirs = argLinks(argv, dir)
	return inv, nil
}

// argLinks resolves, for Invocation.Links, the paths argv's arguments
// (and the words of an argument of several) name, and their
// directories, that are or pass through a symbolic link; and, for
// Invocation.LinkDirs, the directories each resolution looked names up
// in.
func argLinks(argv []string, dir string) (map[string]string, map[string][]string) {
	var out map[string]string
	var dirs map[string][]string
	add := func(p string) {
		for _, q := range []string{p, filepath.Dir(p)} {
			if r, looked, err := resolve(q); err == nil && r != q {
				if out == nil {
					out, dirs = map[string]string{}, map[string][]string{}
				}
				out[q], dirs[q] = r, looked
			}
		}
	}
	for _, a := range argv[min(1, len(argv)):] {
		if p, ok := profiles.ArgPath(a, dir); ok {
			add(p)
		}
		for _, p := range profiles.WordPaths(a, dir) {
			add(p)
		}
	}
	return out, dirs
}

// maxLinks is the kernel's limit on the symbolic links one path
// resolution follows (MAXSYMLINKS).
const maxLinks = 40

// resolve resolves the absolute path p as the kernel does, and returns
// with what it resolves to the directories (symlinks resolved) it looked
// each name up in: whoever may change one of them may have put a link
// there, wherever the name p spells is.
func resolve(p string) (string, []string, error) {
	todo := strings.Split(p, "/")
	cur := "/"
	var looked []string
	for links := 0; len(todo) > 0; {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		if !slices.Contains(looked, cur) {
			looked = append(looked, cur)
		}
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", nil, fmt.Errorf("resolve %s: %w", p, err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", nil, fmt.Errorf("resolve %s: %w", p, syscall.ELOOP)
		}
		to, err := os.Readlink(next)
		if err != nil {
			return "", nil, fmt.Errorf("resolve %s: %w", p, err)
		}
		if filepath.IsAbs(to) {
			cur = "/"
		}
		todo = append(strings.Split(to, "/"), todo...)
	}
	return cur, looked, nil
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

// argFiles reads, for Invocation.Files, the configuration files
// (profiles.ConfigFile) of at most profiles.MaxArgFile bytes, regular,
// that argv's arguments name (resolved against dir), and returns their paths with symlinks resolved
// (Invocation.FilePaths). Anything else is left unopened: opening a
// device or a FIFO can have effects of its own (a tape rewinds when
// closed). A file with more than one hard link is left out too: the
// target could change it through a name its rules reach, which
// Instantiate cannot see from this one.
func argFiles(argv []string, dir string) (map[int][]byte, map[int]string) {
	var out map[int][]byte
	var real map[int]string
	for n := 1; n < len(argv); n++ {
		p, ok := profiles.ArgPath(argv[n], dir)
		if !ok || !profiles.ConfigFile(p) {
			continue
		}
		if b, rp, ok := readSmall(p); ok {
			if out == nil {
				out, real = map[int][]byte{}, map[int]string{}
			}
			out[n], real[n] = b, rp
		}
	}
	return out, real
}

// readSmall reads p if it is a regular file of at most
// profiles.MaxArgFile bytes with one link, and returns its path with
// symlinks resolved.
func readSmall(p string) ([]byte, string, bool) {
	rp, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, "", false
	}
	f, st, err := regularfile.OpenNoFollow(rp)
	if err != nil {
		return nil, "", false
	}
	defer f.Close()
	if st.Size() > profiles.MaxArgFile || links(st) != 1 {
		return nil, "", false
	}
	b, err := io.ReadAll(io.LimitReader(f, profiles.MaxArgFile+1))
	if err != nil || len(b) > profiles.MaxArgFile {
		return nil, "", false
	}
	return b, rp, true
}

// links is the number of hard links of the file st describes.
func links(st os.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Nlink)
	}
	return 0
}

// unchangedFiles returns the files of before (argFiles before the
// target ran) that after (argFiles once it ended) holds unchanged: a
// file the recorded target changed, replaced or linked elsewhere gives
// it its next run's ports and paths, so nothing is learned from it.
func unchangedFiles(before, after map[int][]byte) map[int][]byte {
	var out map[int][]byte
	for n, b := range before {
		if a, ok := after[n]; ok && bytes.Equal(a, b) {
			if out == nil {
				out = map[int][]byte{}
			}
			out[n] = b
		}
	}
	return out
}
