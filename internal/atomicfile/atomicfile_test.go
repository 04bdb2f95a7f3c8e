package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	for _, content := range []string{"first\n", "second, longer\n", "3\n"} {
		if err := Write(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("read %q, want %q", got, content)
		}
	}
	assertOnly(t, dir, "p.json")
}

// TestSymlinkRefused: a symlink planted where the output goes is neither
// followed nor replaced.
func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.json")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := Check(path); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Check of a symlink: %v, want a refusal", err)
	}
	if err := Write(path, []byte("new"), 0o644); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Write to a symlink: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Fatalf("symlink target rewritten: %q", got)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v %v", fi, err)
	}
}

// TestDevice: character devices are written directly (no rename over a
// device node); /dev/full fails with ENOSPC.
func TestDevice(t *testing.T) {
	if err := Write("/dev/null", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write("/dev/full", []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "no space") {
		t.Fatalf("write to /dev/full: %v, want no space left", err)
	}
	if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi, err)
	}
}

func TestKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, err string
	}{
		{filepath.Join(dir, "new.json"), ""},
		{file, ""},
		{dir, "is a directory"},
		{"/dev/full", ""},
		{"/dev/null", ""},
		{"/dev/stdout", "symbolic link"},
		{filepath.Join(dir, "missing", "x.json"), "does not exist"},
		{filepath.Join(file, "x.json"), "not a directory"},
		{"/proc/x.json", "cannot create files in /proc"},
	} {
		err := Check(tc.path)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Check(%s) = %v, want error containing %q", tc.path, err, tc.err)
		}
	}
	assertOnly(t, dir, "file")
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}
