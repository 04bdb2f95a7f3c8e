package enforce

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestProcSelf(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/proc/self", "/proc/42"},
		{"/proc/self/status", "/proc/42/status"},
		{"/proc/thread-self/status", "/proc/42/task/42/status"},
		{"/proc/thread-self", "/proc/42/task/42"},
		{"/proc/selfish", "/proc/selfish"},
		{"/proc/kallsyms", "/proc/kallsyms"},
		{"/home/proc/self", "/home/proc/self"},
	} {
		if got := procSelf(tc.in, 42); got != tc.want {
			t.Errorf("procSelf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOpenRulePath: with openat2 and with the component walk that
// replaces it, files and directories open, a link anywhere in the path is
// refused and named, and a missing path is ENOENT.
func TestOpenRulePath(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"real", "real/sub"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "real/sub/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"link": "real", "real/sub/flink": "f"} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	magic := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/0"
	for _, open := range []struct {
		name string
		fn   func(string) (int, error)
	}{{"openat2", openRulePath}, {"walk", openRulePathWalk}} {
		for _, tc := range []struct {
			path string
			link string // the link named in the error, or "" for success
			err  error
		}{
			{path: "/"},
			{path: dir + "/real/sub"},
			{path: dir + "/real/sub/f"},
			{path: dir + "/real/sub/flink", link: dir + "/real/sub/flink"},
			{path: dir + "/link/sub/f", link: dir + "/link"},
			{path: dir + "/link", link: dir + "/link"},
			{path: magic, link: magic},
			{path: "/proc/self/status", link: "/proc/self"},
			{path: dir + "/real/missing", err: unix.ENOENT},
		} {
			fd, err := open.fn(tc.path)
			if err == nil {
				unix.Close(fd)
			}
			var se *symlinkError
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("%s %s: %v, want %v", open.name, tc.path, err, tc.err)
				}
			case tc.link == "":
				if err != nil {
					t.Errorf("%s %s: %v", open.name, tc.path, err)
				}
			case !errors.As(err, &se) || se.Link != tc.link:
				t.Errorf("%s %s: %v, want the link %s named", open.name, tc.path, err, tc.link)
			}
		}
	}
}
