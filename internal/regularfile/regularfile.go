// Package regularfile opens and reads files a program names (its
// executable, libraries, scripts, configuration) only when they are
// regular files, checked on the opened file so that it cannot be swapped
// in between: a FIFO or a device would block the reader or feed it
// without end. It imports only the standard library.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned for a file that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading without blocking (opening a FIFO
// with no writer would wait for one forever) and requires a regular
// file, checked before the open and again on the opened file so it
// cannot be swapped in between.
func Open(path string) (*os.File, fs.FileInfo, error) { return open(path, false) }

// OpenNoFollow is Open of a path whose last component is not followed
// if it is a symbolic link: a path resolved beforehand that must not
// have been replaced by a link since.
func OpenNoFollow(path string) (*os.File, fs.FileInfo, error) { return open(path, true) }

func open(path string, nofollow bool) (*os.File, fs.FileInfo, error) {
	stat, flags := os.Stat, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY
	if nofollow {
		stat, flags = os.Lstat, flags|syscall.O_NOFOLLOW
	}
	// A device is not even opened: opening one can have effects of its
	// own (a tape rewinds when closed, a terminal becomes controlling).
	if info, err := stat(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = &fs.PathError{Op: "open", Path: path, Err: pe.Err}
		}
		return nil, nil, err
	} else if !info.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileType(info.Mode()))}
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileType(info.Mode()))}
	}
	return f, info, nil
}

// Read reads the regular file at path, refusing one larger than
// limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	f, info, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%d bytes, more than the %d this analysis reads", info.Size(), limit)}
	}
	// What the fstat saw is what is read: a file that grows meanwhile
	// is read up to that size, one that shrinks is an error.
	b := make([]byte, info.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return b, nil
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "mode " + m.String()
}
