package analyze

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// summaryCache stores one summary per file content under dir, a
// directory only the user can write. A summary is found by the SHA-256 of
// the whole file, never by its build-id or path: a file can copy another
// one's build-id and size (a library planted next to an untrusted
// program, under a RUNPATH $ORIGIN) and must not answer for it. Entries
// are written atomically; an entry that cannot be read is treated as
// missing and rewritten.
type summaryCache struct {
	dir string
}

// DefaultCacheDir is where summaries are cached when Options.CacheDir is
// empty: $XDG_CACHE_HOME/sysrec/analyze or ~/.cache/sysrec/analyze.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "sysrec", "analyze"), nil
}

// openCache returns the cache in dir, creating it (mode 0700) if it is
// missing. Like ssh with its keys, it refuses a directory that another
// user owns or others can write, or that sits in one others could
// replace it in: summaries planted there would be trusted for every
// program that loads the library they name.
func openCache(dir string) (*summaryCache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// Nothing is created under a directory that fails the check (root
	// with a user's $HOME, say).
	existing := abs
	for _, err := os.Lstat(existing); errors.Is(err, os.ErrNotExist) && existing != filepath.Dir(existing); _, err = os.Lstat(existing) {
		existing = filepath.Dir(existing)
	}
	if err := checkAncestors(existing); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create cache directory: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	if err := checkOwn(real); err != nil {
		return nil, err
	}
	if err := checkAncestors(filepath.Dir(real)); err != nil {
		return nil, err
	}
	return &summaryCache{dir: real}, nil
}

// checkAncestors checks path, with its symbolic links resolved, and
// every directory above it.
func checkAncestors(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	for p := real; ; p = filepath.Dir(p) {
		if err := checkAncestor(p); err != nil {
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// checkOwn requires path to be the user's own and writable by nobody
// else.
func checkOwn(path string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	return ownedBySelf(path, info)
}

// contentKey identifies a file by its contents.
func contentKey(data []byte) [sha256.Size]byte { return sha256.Sum256(data) }

// cacheEntry is what a cache file holds: the summary and the hash of the
// contents it describes, checked on every read.
type cacheEntry struct {
	Content [sha256.Size]byte
	Summary *summary
}

func (c *summaryCache) path(key [sha256.Size]byte) (dir, file string) {
	h := hex.EncodeToString(key[:])
	dir = filepath.Join(c.dir, h[:2])
	return dir, filepath.Join(dir, h+".gob")
}

// load returns the cached summary of the file whose contents hash to
// key, or nil if there is none, or it cannot be read, or it is not the
// user's own.
func (c *summaryCache) load(key [sha256.Size]byte) (*summary, error) {
	if c == nil {
		return nil, nil
	}
	dir, p := c.path(key)
	if err := checkOwn(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := ownedBySelf(p, info); err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("cache entry %s: %w", p, ErrNotRegular)
	}
	var e cacheEntry
	// A bad entry is a miss (rewritten below), not an error.
	if err := gob.NewDecoder(io.LimitReader(f, info.Size())).Decode(&e); err != nil ||
		e.Summary == nil || e.Summary.Format != summaryFormat || e.Content != key {
		return nil, nil
	}
	return e.Summary, nil
}

// store writes s for key: a temporary file in the same directory, synced,
// then renamed over the entry, so readers see the old entry or the new
// one, never a part.
func (c *summaryCache) store(key [sha256.Size]byte, s *summary) (err error) {
	if c == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(cacheEntry{Content: key, Summary: s}); err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	dir, dst := c.path(key)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := checkOwn(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(tmp.Name()))
		}
	}()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
