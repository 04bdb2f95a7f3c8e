package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// corpus is the programs and their jobs. Every job is recorded on its
// first input and held out on the others: other data, other sizes, other
// states of the same job. Absolute paths: the Debian binaries, never a
// wrapper (pyenv shims, ccache) that PATH might find first.
func corpus() []job {
	return []job{
		{name: "sort", bin: "/usr/bin/sort", args: []string{"-o", "out.txt", "in.txt"}, inputs: []input{
			{"1000 words", file("in.txt", words(1, 1000))},
			{"50 words", file("in.txt", words(2, 50))},
			{"400000 words (threads)", file("in.txt", words(3, 400_000))},
			{"numbers with duplicates", file("in.txt", numbers(4, 20_000))},
			{"empty", file("in.txt", nil)},
		}},
		{name: "grep", bin: "/usr/bin/grep", args: []string{"-r", "-n", "needle", "tree"}, inputs: []input{
			{"5 text files", tree(textFiles(5, 5))},
			{"a sparse file", tree(textFiles(6, 2), sparse("tree/sparse.dat", "needle\n", 64<<20))},
			{"binary file, deep dirs", tree(textFiles(7, 3), binary("tree/a/b/c/d/blob.bin", 8, 1<<20, "needle"))},
			{"300 files", tree(textFiles(9, 300))},
		}},
		{name: "find", bin: "/usr/bin/find", args: []string{"tree", "-type", "f", "-name", "*.txt", "-size", "+1k"}, inputs: []input{
			{"10 files", tree(textFiles(10, 10))},
			{"symlinks and hard links", tree(textFiles(11, 10), links)},
			{"deep tree", tree(deepFiles(12, 6))},
			{"1000 files", tree(textFiles(13, 1000))},
		}},
		{name: "tar", bin: "/usr/bin/tar", args: []string{"czf", "out.tgz", "tree"}, inputs: []input{
			{"10 text files", tree(textFiles(14, 10))},
			{"symlinks and hard links", tree(textFiles(15, 10), links)},
			{"a sparse file", tree(textFiles(16, 2), sparse("tree/sparse.dat", "x", 32<<20))},
			{"deep tree, empty dirs", tree(deepFiles(17, 5), emptyDirs)},
		}},
		{name: "gzip", bin: "/usr/bin/gzip", args: []string{"-kf", "data"}, inputs: []input{
			{"10 KB text", file("data", words(18, 1500))},
			{"20 MB random", file("data", random(19, 20<<20))},
			{"empty", file("data", nil)},
			{"200 KB text", file("data", words(20, 30_000))},
		}},
		{name: "xz", bin: "/usr/bin/xz", args: []string{"-kf", "data"}, inputs: []input{
			{"20 KB text", file("data", words(21, 3000))},
			{"3 MB text", file("data", words(22, 400_000))},
			{"empty", file("data", nil)},
			{"1 MB random", file("data", random(23, 1<<20))},
		}},
		{name: "cp", bin: "/usr/bin/cp", args: []string{"-a", "tree", "copy"}, inputs: []input{
			{"10 text files", tree(textFiles(24, 10))},
			{"symlinks and hard links", tree(textFiles(25, 10), links)},
			{"extended attributes", tree(textFiles(26, 5), xattrs)},
			{"a sparse file", tree(textFiles(27, 2), sparse("tree/sparse.dat", "x", 32<<20))},
		}},
		{name: "ls", bin: "/usr/bin/ls", args: []string{"-laR", "tree"}, inputs: []input{
			{"10 files", tree(textFiles(28, 10))},
			{"symlinks, a broken one", tree(textFiles(29, 5), links, brokenLink)},
			{"1000 files", tree(textFiles(30, 1000))},
			{"extended attributes", tree(textFiles(31, 5), xattrs)},
		}},
		{name: "sha256sum", bin: "/usr/bin/sha256sum", args: []string{"data"}, inputs: []input{
			{"10 KB", file("data", random(32, 10<<10))},
			{"50 MB", file("data", random(33, 50<<20))},
			{"empty", file("data", nil)},
			{"1 byte", file("data", []byte("x"))},
		}},
		{name: "gawk", bin: "/usr/bin/gawk", args: []string{"-F,", "{ s += $2; n[$1]++ } END { print s, length(n) }", "data.csv"}, inputs: []input{
			{"100 rows", file("data.csv", csv(34, 100))},
			{"1 million rows", file("data.csv", csv(35, 1_000_000))},
			{"empty", file("data.csv", nil)},
			{"text, not numbers", file("data.csv", words(36, 500))},
		}},
		{name: "sqlite3", bin: "/usr/bin/sqlite3", args: []string{"db.sqlite", "CREATE TABLE IF NOT EXISTS t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'); SELECT count(*), sum(a) FROM t;"}, inputs: []input{
			{"a database of 10 rows", sqliteDB(10, "")},
			{"no database yet", func(string) error { return nil }},
			{"200000 rows with an index", sqliteDB(200_000, "CREATE INDEX ta ON t(a);")},
			{"WAL journal", sqliteDB(100, "PRAGMA journal_mode=WAL;")},
		}},
		{name: "python3", bin: "/usr/bin/python3.11", args: []string{"job.py", "data.json"}, inputs: []input{
			{"1000 numbers", pyJob(jsonNumbers(37, 1000))},
			{"2 million numbers", pyJob(jsonNumbers(38, 2_000_000))},
			{"nested records, unicode", pyJob(jsonRecords(39, 5000))},
			{"empty list", pyJob([]byte("[]"))},
		}},
		{name: "perl", bin: "/usr/bin/perl", args: []string{"-pi", "-e", "s/foo/bar/g", "file.txt"}, inputs: []input{
			{"small file", file("file.txt", fooText(40, 100))},
			{"10 MB file", file("file.txt", fooText(41, 1_000_000))},
			{"CRLF and unicode", file("file.txt", []byte("foo\r\nbär foo\r\n☃ foo\r\n"))},
			{"empty", file("file.txt", nil)},
		}},
		{name: "git", bin: "/usr/bin/git", args: []string{"-c", "user.name=corpus", "-c", "user.email=corpus@example.com", "-C", "repo", "commit", "-q", "-am", "change"}, inputs: []input{
			{"3 files, one changed", gitRepo(42, 3, 1, false, 0)},
			{"50 files in directories, 10 changed", gitRepo(43, 50, 10, false, 0)},
			{"packed repository", gitRepo(44, 20, 2, true, 0)},
			{"a changed 2 MB file", gitRepo(45, 5, 1, false, 2<<20)},
		}},
		{name: "openssl", bin: "/usr/bin/openssl", args: []string{"enc", "-aes-256-cbc", "-pbkdf2", "-pass", "pass:corpus", "-in", "data", "-out", "data.enc"}, inputs: []input{
			{"4 KB", file("data", random(46, 4<<10))},
			{"30 MB", file("data", random(47, 30<<20))},
			{"empty", file("data", nil)},
			{"1 byte", file("data", []byte("x"))},
		}},
		{name: "gcc", bin: "/usr/bin/gcc", args: []string{"-O2", "-c", "prog.c", "-o", "prog.o"}, inputs: []input{
			{"hello world", file("prog.c", []byte("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"))},
			{"threads and math", file("prog.c", []byte(cThreads))},
			{"warnings", file("prog.c", []byte("int f(int x) { int y; if (x) y = 1; return y; }\nint g(void) { return f(0) + 1u; }\n"))},
			{"2000 functions", file("prog.c", manyFunctions(2000))},
		}},
	}
}

// threadedPython is the rerun job: a few short CPython threads, the kind
// of run whose syscalls depend on timing alone (whether a thread finished
// before it was joined, whether the GIL was contended).
func threadedPython() job {
	script := `import threading
def work(n):
    s = 0
    for i in range(n):
        s += i
    return s
threads = [threading.Thread(target=work, args=(3000,)) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("joined")
`
	return job{name: "python3-threads", bin: "/usr/bin/python3.11", args: []string{"threads.py"},
		inputs: []input{{"3 short threads", file("threads.py", []byte(script))}}}
}

func file(name string, data []byte) func(string) error {
	return func(dir string) error {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
}

// tree runs the setups in order (they build dir/tree).
func tree(steps ...func(string) error) func(string) error {
	return func(dir string) error {
		for _, s := range steps {
			if err := s(dir); err != nil {
				return err
			}
		}
		return nil
	}
}

var dictionary = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu needle haystack")

func words(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for range lines {
		for w := range 1 + r.IntN(6) {
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(dictionary[r.IntN(len(dictionary))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func numbers(seed uint64, lines int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	for range lines {
		fmt.Fprintf(&b, "%d\n", r.IntN(1000))
	}
	return b.Bytes()
}

func random(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func csv(seed uint64, rows int) []byte {
	r := rand.New(rand.NewPCG(seed, 4))
	var b bytes.Buffer
	for range rows {
		fmt.Fprintf(&b, "%s,%d\n", dictionary[r.IntN(len(dictionary))], r.IntN(10000))
	}
	return b.Bytes()
}

func fooText(seed uint64, lines int) []byte {
	return bytes.ReplaceAll(words(seed, lines), []byte("alpha"), []byte("foo"))
}

// textFiles makes n text files of various sizes under tree, some of
// them containing "needle".
func textFiles(seed uint64, n int) func(string) error {
	return func(dir string) error {
		for i := range n {
			sub := ""
			if i%7 == 3 {
				sub = fmt.Sprintf("d%d", i%4)
			}
			if err := file(filepath.Join("tree", sub, fmt.Sprintf("f%03d.txt", i)), words(seed*1000+uint64(i), 10+(i*37)%200))(dir); err != nil {
				return err
			}
		}
		return nil
	}
}

func deepFiles(seed uint64, depth int) func(string) error {
	return func(dir string) error {
		p := "tree"
		for d := range depth {
			p = filepath.Join(p, fmt.Sprintf("level%d", d))
			if err := file(filepath.Join(p, "f.txt"), words(seed+uint64(d), 100))(dir); err != nil {
				return err
			}
		}
		return nil
	}
}

func sparse(name, head string, size int64) func(string) error {
	return func(dir string) error {
		if err := file(name, []byte(head))(dir); err != nil {
			return err
		}
		return os.Truncate(filepath.Join(dir, name), size)
	}
}

func binary(name string, seed uint64, n int, needle string) func(string) error {
	return func(dir string) error {
		b := random(seed, n)
		copy(b[n/2:], needle)
		return file(name, b)(dir)
	}
}

func links(dir string) error {
	t := filepath.Join(dir, "tree")
	if err := os.Symlink("f000.txt", filepath.Join(t, "link.txt")); err != nil {
		return err
	}
	if err := os.Symlink(".", filepath.Join(t, "self")); err != nil {
		return err
	}
	return os.Link(filepath.Join(t, "f001.txt"), filepath.Join(t, "hard.txt"))
}

func brokenLink(dir string) error {
	return os.Symlink("does-not-exist", filepath.Join(dir, "tree", "broken"))
}

func emptyDirs(dir string) error {
	for _, d := range []string{"tree/empty", "tree/empty2/inner"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func xattrs(dir string) error {
	for _, f := range []string{"f000.txt", "f001.txt"} {
		if err := syscall.Setxattr(filepath.Join(dir, "tree", f), "user.corpus", []byte("value"), 0); err != nil {
			return fmt.Errorf("setxattr (the file system must support user xattrs): %w", err)
		}
	}
	return nil
}

func sqliteDB(rows int, extra string) func(string) error {
	return func(dir string) error {
		sql := fmt.Sprintf("CREATE TABLE t(a INTEGER, b TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) INSERT INTO t SELECT x, hex(randomblob(8)) FROM c; %s", rows, extra)
		return setupCmd(dir, "/usr/bin/sqlite3", "db.sqlite", sql)
	}
}

const pyScript = `import json, sys, statistics
with open(sys.argv[1]) as f:
    data = json.load(f)
values = sorted(x if isinstance(x, (int, float)) else len(json.dumps(x, ensure_ascii=False)) for x in data)
summary = {"n": len(values), "median": statistics.median(values) if values else None, "top": values[-5:]}
with open("out.json", "w") as f:
    json.dump(summary, f)
print(summary["n"])
`

func pyJob(data []byte) func(string) error {
	return tree(file("job.py", []byte(pyScript)), file("data.json", data))
}

func jsonNumbers(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 5))
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, r.IntN(1_000_000))
	}
	b.WriteByte(']')
	return b.Bytes()
}

func jsonRecords(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 6))
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name": "%s ☃ ü", "tags": ["%s", "%s"], "nested": {"v": %d}}`,
			dictionary[r.IntN(len(dictionary))], dictionary[r.IntN(len(dictionary))], dictionary[r.IntN(len(dictionary))], r.IntN(100))
	}
	b.WriteByte(']')
	return b.Bytes()
}

// gitRepo makes dir/repo with files committed, then changes some of them
// (a changed file of big bytes when big > 0), optionally packed first.
func gitRepo(seed uint64, files, changed int, packed bool, big int) func(string) error {
	return func(dir string) error {
		repo := filepath.Join(dir, "repo")
		if err := setupCmd(dir, "/usr/bin/git", "init", "-q", repo); err != nil {
			return err
		}
		for i := range files {
			sub := ""
			if files > 10 {
				sub = fmt.Sprintf("dir%d", i%5)
			}
			if err := file(filepath.Join("repo", sub, fmt.Sprintf("f%d.txt", i)), words(seed*100+uint64(i), 20))(dir); err != nil {
				return err
			}
		}
		if big > 0 {
			if err := file("repo/big.bin", random(seed, big))(dir); err != nil {
				return err
			}
		}
		git := []string{"-c", "user.name=setup", "-c", "user.email=setup@example.com", "-C", repo}
		if err := setupCmd(dir, "/usr/bin/git", append(git, "add", "-A")...); err != nil {
			return err
		}
		if err := setupCmd(dir, "/usr/bin/git", append(git, "commit", "-q", "-m", "initial")...); err != nil {
			return err
		}
		if packed {
			if err := setupCmd(dir, "/usr/bin/git", append(git, "gc", "-q")...); err != nil {
				return err
			}
		}
		for i := range changed {
			sub := ""
			if files > 10 {
				sub = fmt.Sprintf("dir%d", i%5)
			}
			if err := file(filepath.Join("repo", sub, fmt.Sprintf("f%d.txt", i)), words(seed*100+uint64(i)+7, 30))(dir); err != nil {
				return err
			}
		}
		if big > 0 {
			return file("repo/big.bin", random(seed+1, big))(dir)
		}
		return nil
	}
}

func setupCmd(dir, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
	}
	return nil
}

const cThreads = `#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static double acc[4];
static void *work(void *arg) {
	int i = *(int *)arg;
	for (int k = 0; k < 1000; k++) acc[i] += sin(k) * cos(i);
	return NULL;
}
int main(void) {
	pthread_t t[4]; int ids[4];
	for (int i = 0; i < 4; i++) { ids[i] = i; pthread_create(&t[i], NULL, work, &ids[i]); }
	for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
	printf("%f\n", acc[0] + acc[1] + acc[2] + acc[3]);
	return 0;
}
`

func manyFunctions(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "int f%d(int x) { return x * %d + (x >> %d); }\n", i, i, i%7)
	}
	return b.Bytes()
}
