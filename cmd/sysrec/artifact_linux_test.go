package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/ocitest"
)

// TestPushPullCLI: sysrec push prints a reference pinned by digest, the
// same for a second push, and sysrec pull of the tag and of that
// reference writes what emit --format oci writes, byte for byte.
func TestPushPullCLI(t *testing.T) {
	reg := ocitest.StartRegistry(t)
	dir := t.TempDir()
	profile := "../../emit/testdata/sample.json"
	oci := filepath.Join(dir, "sample.oci.json")
	mustSysrec(t, "emit", "--format", "oci", "-o", oci, profile)
	want, err := os.ReadFile(oci)
	if err != nil {
		t.Fatal(err)
	}
	ref := "oci://" + reg.Host + "/sysrec/sample:v1"
	pinned := strings.TrimSpace(mustSysrec(t, "push", "--plain-http", profile, ref))
	pinned = pinned[strings.LastIndex(pinned, "\n")+1:]
	if !strings.HasPrefix(pinned, "oci://"+reg.Host+"/sysrec/sample@sha256:") {
		t.Fatalf("push printed %q, want the reference pinned by digest", pinned)
	}
	if again := mustSysrec(t, "push", "--plain-http", profile, ref); !strings.Contains(again, pinned+"\n") || !strings.Contains(again, "syscall filter only") {
		t.Errorf("a second push of the same profile printed\n%s\nwant %s and that the Landlock sections stay behind", again, pinned)
	}
	for _, r := range []string{ref, pinned} {
		out := filepath.Join(dir, "pulled.json")
		msg := mustSysrec(t, "pull", "--plain-http", r, "-o", out)
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("pull %s: not what emit --format oci writes", r)
		}
		if !strings.Contains(msg, pinned[strings.Index(pinned, "@")+1:]) {
			t.Errorf("pull %s printed %q, not the digest", r, msg)
		}
	}
}
