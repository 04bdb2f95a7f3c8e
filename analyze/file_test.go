package analyze

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysrec/sysrec/internal/testenv"
)

// mkfifo makes a FIFO no one will ever write to: opening it for reading
// the usual way waits forever.
func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Files that are not regular files — a FIFO as the program, as a
// script's interpreter, as a library on the search path, as ld.so.cache
// or nsswitch.conf, a device as the program — give an error naming the
// file (or, where ld.so would skip them, a warning), at once.
func TestNotRegularFiles(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "fifo"))
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!"+fifo+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "origin"), 0o755); err != nil {
		t.Fatal(err)
	}
	withFIFOLibc := gcc(t, filepath.Join(dir, "origin"), "prog", testdata("direct.c"), "-Wl,--enable-new-dtags,-rpath,$ORIGIN")
	mkfifo(t, filepath.Join(dir, "origin", "libc.so.6"))
	nss := gcc(t, dir, "nss", testdata("nss.c"))
	direct := gcc(t, dir, "direct", testdata("direct.c"))
	for _, tt := range []struct {
		name    string
		binary  string
		opts    Options
		err     string // the error, or "" for a result
		warning string // a warning the result carries
	}{
		{name: "program", binary: fifo, err: fifo + ": not a regular file (a FIFO)"},
		{name: "interpreter", binary: script, err: fifo + ": not a regular file (a FIFO)"},
		{name: "device", binary: "/dev/zero", err: "/dev/zero: not a regular file (a character device)"},
		{name: "library", binary: withFIFOLibc},
		{name: "ld.so.cache", binary: direct, opts: Options{LDCache: fifo}, warning: fifo + ": not a regular file (a FIFO)"},
		{name: "nsswitch.conf", binary: nss, opts: Options{NSSwitch: fifo}, warning: fifo + ": not a regular file (a FIFO)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.NoCache = true
			type result struct {
				r   *Result
				err error
			}
			res := testenv.Within(t, 20*time.Second, func() result {
				r, err := Binary(tt.binary, tt.opts)
				return result{r, err}
			})
			r, err := res.r, res.err
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrNotRegular) {
					t.Fatalf("got %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.warning != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
				t.Errorf("warnings %q, want one saying %q", r.Warnings, tt.warning)
			}
			for _, m := range r.Modules {
				if m.Name == "libc.so.6" && filepath.Dir(m.Path) == filepath.Join(dir, "origin") {
					t.Errorf("the FIFO %s was taken for libc", m.Path)
				}
			}
		})
	}
}
