package pipeline

import (
	"fmt"
	"io"
	"os"

	"github.com/sysrec/sysrec/internal/atomicfile"
)

// CheckOutput checks, before any work, that WriteOutput can write to
// path ("" or "-" is standard output).
func CheckOutput(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	return atomicfile.Check(path)
}

// WriteOutput writes b to path atomically, or to stdout for "" or "-".
func WriteOutput(stdout io.Writer, path string, b []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// writeOrRescue writes b to path; when that fails (full disk, a
// directory that went away) it saves b to a new file in the temporary
// directory instead and says where in the error, so a finished recording
// is never lost.
func writeOrRescue(stdout io.Writer, path string, b []byte) error {
	err := WriteOutput(stdout, path, b)
	if err == nil {
		return nil
	}
	f, terr := os.CreateTemp("", "sysrec-rescued-*.json")
	if terr == nil {
		_, terr = f.Write(b)
		if cerr := f.Close(); terr == nil {
			terr = cerr
		}
		if terr == nil {
			return fmt.Errorf("%w; the profile was saved to %s instead", err, f.Name())
		}
		os.Remove(f.Name())
	}
	return fmt.Errorf("%w (saving it to a temporary file failed too: %v)", err, terr)
}
