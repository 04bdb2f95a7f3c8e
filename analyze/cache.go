package analyze

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// summaryCache stores one summary per file under dir, named after the
// file's build-id (or, without one, its path, size and modification
// time). Entries are written atomically; an entry that cannot be read is
// treated as missing and rewritten.
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

// cacheKey names the summary of a file. The build-id identifies the
// contents; the size guards against two builds that share one.
func cacheKey(path string, info fs.FileInfo, buildID string) string {
	h := sha256.New()
	fmt.Fprintf(h, "format %d\n", summaryFormat)
	if buildID != "" {
		fmt.Fprintf(h, "build-id %s size %d\n", buildID, info.Size())
	} else {
		abs, err := filepath.Abs(path)
		if err != nil {
			abs = path
		}
		fmt.Fprintf(h, "path %s size %d mtime %d\n", abs, info.Size(), info.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil)[:20])
}

func (c *summaryCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".gob")
}

// load returns the cached summary for key, or nil if there is none or it
// cannot be read.
func (c *summaryCache) load(key string) *summary {
	if c == nil {
		return nil
	}
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil
	}
	var s summary
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil || s.Format != summaryFormat {
		return nil
	}
	return &s
}

// store writes s for key: a temporary file in the same directory, synced,
// then renamed over the entry, so readers see the old entry or the new
// one, never a part.
func (c *summaryCache) store(key string, s *summary) (err error) {
	if c == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	dst := c.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+strconv.Itoa(os.Getpid())+"-*")
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
