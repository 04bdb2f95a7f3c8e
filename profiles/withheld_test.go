package profiles

import (
	"strings"
	"testing"
)

const withheldProfile = `{"version": 2, "arch": ["x86_64"], "default_action": "kill_process", "syscalls": [],
 "filesystem": {"rules": [{"path": "/home/u/.myapp_history", "access": ["write_file"]}],
  "not_allowed": [{"path": "/home/u", "access": ["make_reg", "write_file"], "count": 1, "reason": "created /home/u/.myapp_history"}]},
 "network": {"rules": []}}`

// TestFilesystemNotAllowed: withheld rights are validated, shown with
// the rule that would grant them, dropped by a merge with a profile that
// grants them, and named by diff when a later profile grants them.
func TestFilesystemNotAllowed(t *testing.T) {
	p, err := Parse([]byte(withheldProfile))
	if err != nil {
		t.Fatal(err)
	}
	show := Format(p)
	for _, want := range []string{
		"not allowed (filesystem), although the recording used it:",
		"/home/u                                  make_reg,write_file  (created /home/u/.myapp_history)",
		`to grant it, add to filesystem.rules: {"path":"/home/u","access":["make_reg","write_file"]}`,
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}

	for _, bad := range []struct{ json, err string }{
		{strings.Replace(withheldProfile, `"path": "/home/u",`, `"path": "home/u",`, 1), `field filesystem.not_allowed[0].path: "home/u" is not a clean absolute path`},
		{strings.Replace(withheldProfile, `["make_reg", "write_file"]`, `[]`, 1), `field filesystem.not_allowed[0].access: no right listed`},
		{strings.Replace(withheldProfile, `["make_reg", "write_file"]`, `["make_everything"]`, 1), `field filesystem.not_allowed[0].access`},
	} {
		if _, err := Parse([]byte(bad.json)); err == nil || !strings.Contains(err.Error(), bad.err) {
			t.Errorf("parse: %v, want %q", err, bad.err)
		}
	}

	grants, err := Parse([]byte(strings.Replace(withheldProfile, `"access": ["write_file"]}]`, `"access": ["write_file"]}, {"path": "/home/u", "access": ["make_reg"]}]`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(p, grants)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Filesystem.NotAllowed; len(got) != 1 || strings.Join(got[0].Access, ",") != "write_file" || got[0].Count != 2 {
		t.Errorf("merged not_allowed %+v, want write_file alone on /home/u, count 2", got)
	}
	d := Diff(p, grants)
	if len(d.Landlock) != 1 || !strings.Contains(d.Landlock[0], "+ /home/u make_reg — OLD withheld it: created /home/u/.myapp_history") {
		t.Errorf("diff %q, want the new make_reg named as withheld", d.Landlock)
	}
}
