package analyze

import (
	"os"
	"testing"
)

// benchProgram is a program with libc and five other libraries
// (libsqlite3, libreadline, libz, libm, libtinfo).
const benchProgram = "/usr/bin/sqlite3"

func requireBenchProgram(b *testing.B) {
	requireAMD64Bench(b)
	if _, err := os.Stat(benchProgram); err != nil {
		b.Skipf("%s: %v (apt-get install sqlite3)", benchProgram, err)
	}
}

func requireAMD64Bench(b *testing.B) {
	if _, err := os.Stat("/lib/x86_64-linux-gnu/libc.so.6"); err != nil {
		b.Skip("needs x86_64 Debian-style glibc")
	}
}

// Cold: every library disassembled and summarised, nothing cached.
func BenchmarkAnalyzeCold(b *testing.B) {
	requireBenchProgram(b)
	for b.Loop() {
		if _, err := Binary(benchProgram, Options{NoCache: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// Warm: every summary comes from the cache; what is left is reading the
// files' build-ids, decoding the summaries, linking and walking.
func BenchmarkAnalyzeWarm(b *testing.B) {
	requireBenchProgram(b)
	dir := b.TempDir()
	if _, err := Binary(benchProgram, Options{CacheDir: dir}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := Binary(benchProgram, Options{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if !r.Modules[0].Cached {
			b.Fatal("not cached")
		}
	}
}
