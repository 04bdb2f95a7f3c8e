package analyze

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned for an analysed file (a binary, a library, a
// script, an interpreter, ld.so.cache, nsswitch.conf) that is not a
// regular file: a FIFO or a device would block the analysis or feed it
// without end.
var ErrNotRegular = errors.New("not a regular file")

// Bounds on what one analysis reads, far above real files (the largest
// program on the development machine is a 707 MB Go binary; the most
// DT_NEEDED entries a Debian file has is 21, RPATH/RUNPATH directories 2,
// symbols 259 k in .symtab and 171 k in .dynsym), so that a hostile file
// costs bounded time and memory.
const (
	maxELFSize     = 1 << 30  // bytes of one ELF file
	maxConfigSize  = 64 << 20 // ld.so.cache, nsswitch.conf
	maxNeeded      = 1024     // DT_NEEDED entries of one file
	maxSearchDirs  = 256      // DT_RPATH plus DT_RUNPATH directories of one file
	maxModules     = 4096     // files loaded for one program
	maxLookups     = 1 << 16  // candidate paths tried for one program's libraries
	maxSymbols     = 1 << 22  // entries of .symtab, and of .dynsym
	maxScriptLine  = 256      // the kernel reads this much of a "#!" line (BINPRM_BUF_SIZE)
	maxInterpChain = 4        // "#!" interpreters that are scripts themselves
)

// openRegular opens path for reading without blocking (opening a FIFO
// with no writer would wait for one forever) and requires a regular
// file, checked on the opened file so it cannot be swapped in between.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
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

// readRegular reads the regular file at path, refusing one larger than
// limit bytes.
func readRegular(path string, limit int64) ([]byte, error) {
	f, info, err := openRegular(path)
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
