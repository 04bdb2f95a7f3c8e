package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// TestFullDisk fills a tiny tmpfs: the write fails and the old file is
// intact, with no temporary file left behind.
func TestFullDisk(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	path := filepath.Join(dir, "app.json")
	old := bytes.Repeat([]byte("o"), 20<<10)
	if err := Write(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, bytes.Repeat([]byte("n"), 60<<10), 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("error %q should name %s, not the temporary file", err, path)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, old) {
		t.Fatalf("old file damaged: %d bytes, want %d", len(got), len(old))
	}
	assertOnly(t, dir, "app.json")
}
