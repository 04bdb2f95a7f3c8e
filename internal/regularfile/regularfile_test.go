package regularfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNotRegular: a FIFO no one writes to, a directory and a device are
// refused at once (opening the FIFO the usual way would wait forever);
// a regular file is read up to its limit.
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, dir, "/dev/null"} {
		if _, err := Read(p, 1<<20); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Read(%s) = %v, want ErrNotRegular", p, err)
		}
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(file, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read = %q, %v", b, err)
	}
	if _, err := Read(file, 4); err == nil {
		t.Error("a file over the limit was read")
	}
}
