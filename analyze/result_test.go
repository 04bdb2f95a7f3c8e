package analyze

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func sampleResult() *Result {
	return &Result{
		Binary: "/usr/bin/app", Arch: "x86_64", Kind: "dynamic",
		Modules: []Module{{Path: "/usr/bin/app", Name: "app", Found: "executable"}},
		Syscalls: []Syscall{
			{Name: "clock_gettime", Number: 228, VDSO: true, Path: []Frame{{Function: "clock_gettime", Module: "libc.so.6", Via: "import"}, {Function: "main", Module: "app", Via: "entry point"}}},
			{Name: "kcmp", Number: 312, Path: []Frame{
				{Function: "syscall", Module: "libc.so.6", Via: "syscall wrapper"},
				{Function: "0x1234", Module: "app", Via: "pointer"},
				{Function: "hook", Module: "app", Data: true, Via: "data"},
				{Function: "_start", Module: "app", Via: "entry point"}}},
		},
		Unresolved: Unresolved{IndirectCalls: 7, SyscallSites: 1, Libraries: []string{"libgone.so.1 (needed by app)"},
			Dlopen: []Dlopen{{Module: "app", Call: "dlopen", Functions: 2}}},
	}
}

func TestResultText(t *testing.T) {
	got := sampleResult().Text()
	want := `/usr/bin/app (x86_64, dynamic): 2 reachable syscalls
  clock_gettime ← clock_gettime@libc.so.6 ← main@app (entry point) (vDSO; syscall only on fallback)
  kcmp          ← syscall@libc.so.6 ← 0x1234@app ← data:hook@app ← _start@app (entry point)
unresolved: 7 indirect call sites, 1 syscall sites with a non-constant number
unresolved: library not found: libgone.so.1 (needed by app)
unresolved: app calls dlopen (2 reachable functions); what it loads is not analysed
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	r := sampleResult()
	if !r.Has("kcmp") || r.Has("read") || !strings.HasPrefix(r.Syscalls[1].Chain(), "kcmp ← syscall@libc.so.6 ← ") {
		t.Errorf("Has/Chain: %v %v %q", r.Has("kcmp"), r.Has("read"), r.Syscalls[1].Chain())
	}
}

// The reducer reads the JSON back: nothing is lost.
func TestResultJSON(t *testing.T) {
	r := sampleResult()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("round trip lost something:\n%s", b)
	}
	for _, field := range []string{`"syscalls"`, `"path"`, `"via"`, `"indirect_calls"`, `"syscall_sites"`, `"dlopen"`, `"vdso":true`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON has no %s", field)
		}
	}
}

// TestFormat: one result is one JSON object, several an array; text
// separates results by a blank line and ends each with its warnings.
func TestFormat(t *testing.T) {
	a := &Result{Binary: "/bin/a", Warnings: []string{"stripped"}}
	b := &Result{Binary: "/bin/b"}
	one, err := Format([]*Result{a}, true)
	if err != nil || !bytes.HasPrefix(one, []byte("{")) {
		t.Errorf("one result as JSON: %s, %v", one, err)
	}
	two, err := Format([]*Result{a, b}, true)
	if err != nil || !bytes.HasPrefix(two, []byte("[")) {
		t.Errorf("two results as JSON: %s, %v", two, err)
	}
	text, err := Format([]*Result{a, b}, false)
	want := a.Text() + "warning: stripped\n\n" + b.Text()
	if err != nil || string(text) != want {
		t.Errorf("text:\n%s\nwant\n%s", text, want)
	}
}
