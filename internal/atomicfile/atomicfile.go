package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Check reports, before the work that produces it, whether path can be
// written by Write: its directory exists and takes new files, and path is
// absent, a regular file, a character device (/dev/null) or a FIFO — not
// a directory, a block device, a socket or a symbolic link (which Write
// neither follows nor replaces).
func Check(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("directory %s does not exist", dir)
		}
		return fmt.Errorf("check directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	direct, err := kind(path)
	if err != nil || direct {
		return err
	}
	// Creating a file is the only honest test of writability (access(2)
	// ignores read-only mounts for root, and /proc accepts nothing).
	f, err := os.CreateTemp(dir, ".sysrec-check-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("check %s: %w", dir, err)
	}
	return nil
}

// kind says whether path is written directly (an existing character
// device or FIFO: no rename can replace those) and refuses what cannot be
// written at all.
func kind(path string) (direct bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", path, err)
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return false, nil
	case m.IsDir():
		return false, fmt.Errorf("%s is a directory", path)
	case m&fs.ModeSymlink != 0:
		return false, fmt.Errorf("%s is a symbolic link: sysrec neither follows nor replaces links (name the file itself, or - for stdout)", path)
	case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return true, nil
	default:
		return false, fmt.Errorf("%s is not a regular file (%s)", path, m.Type())
	}
}

// Write replaces path with data: a temporary file in the same directory,
// created exclusively (O_EXCL, so a planted file or symlink is never
// opened), written, synced and renamed over path, then the directory is
// synced. On any error the temporary file is removed and path is left as
// it was. An existing regular file keeps its permissions. A symbolic
// link at path is an error; a character device or FIFO is written
// directly.
func Write(path string, data []byte, perm fs.FileMode) (err error) {
	direct, err := kind(path)
	if err != nil {
		return err
	}
	if direct {
		return writeDirect(path, data)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if fi, serr := os.Lstat(path); serr == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm() // replacing a file keeps its mode
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, unwrapPath(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	// The rename is durable once the directory is; failing to sync it
	// does not undo the write.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func writeDirect(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError wrapper, whose path would name the
// temporary file rather than the destination the user gave.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
