package analyze

import (
	"os"
	"testing"
)

// FuzzSummarize feeds damaged ELF files to the summary: errors are fine,
// panics are not, and the bounds keep the work per input small. The
// seeds are a small C program and a small library.
func FuzzSummarize(f *testing.F) {
	requireAMD64(f)
	dir := f.TempDir()
	for _, seed := range [][]string{
		{"direct", testdata("direct.c")},
		{"plugin.so", "-shared", "-fPIC", testdata("plugin.c")},
	} {
		b, err := os.ReadFile(gcc(f, dir, seed[0], seed[1:]...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := summarize(b)
		if err != nil {
			return // a fine answer for a damaged file
		}
		// What the linker indexes with must be in range.
		n, imps := int32(len(s.Nodes)), int32(len(s.Imports))
		in := func(i, n int32) bool { return i >= 0 && i < n }
		for i, nd := range s.Nodes {
			for _, c := range append(append([]int32{}, nd.Calls...), nd.Refs...) {
				if !in(c, n) {
					t.Fatalf("node %d: edge to node %d of %d", i, c, n)
				}
			}
			for _, imp := range nd.Imports {
				if !in(imp, imps) {
					t.Fatalf("node %d: import %d of %d", i, imp, imps)
				}
			}
		}
		for _, e := range s.Exports {
			if e.Node != -1 && !in(e.Node, n) {
				t.Fatalf("export %s: node %d of %d", e.Name, e.Node, n)
			}
		}
		if s.Entry != -1 && !in(s.Entry, n) {
			t.Fatalf("entry node %d of %d", s.Entry, n)
		}
	})
}
