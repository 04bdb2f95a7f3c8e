package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// gen makes an input's data; the same gen always makes the same bytes.
type gen func() []byte

var (
	memoMu sync.Mutex
	memo   = map[string]*memoEntry{}
)

type memoEntry struct {
	once sync.Once
	data []byte
}

// memoized makes data once per key: several runs of a level and several
// levels share one copy of a 50 MB input.
func memoized(key string, f func() []byte) gen {
	return func() []byte {
		memoMu.Lock()
		e := memo[key]
		if e == nil {
			e = &memoEntry{}
			memo[key] = e
		}
		memoMu.Unlock()
		e.once.Do(func() { e.data = f() })
		return e.data
	}
}

func lit(s string) gen { return func() []byte { return []byte(s) } }

var dictionary = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu needle haystack")

func words(seed uint64, lines int) gen {
	return memoized(fmt.Sprint("words", seed, lines), func() []byte {
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
	})
}

func numbers(seed uint64, lines int) gen {
	return memoized(fmt.Sprint("numbers", seed, lines), func() []byte {
		r := rand.New(rand.NewPCG(seed, 2))
		var b bytes.Buffer
		for range lines {
			fmt.Fprintf(&b, "%d\n", r.IntN(1000))
		}
		return b.Bytes()
	})
}

func random(seed uint64, n int) gen {
	return memoized(fmt.Sprint("random", seed, n), func() []byte {
		r := rand.New(rand.NewPCG(seed, 3))
		b := make([]byte, n)
		for i := 0; i < n; i += 8 {
			v := r.Uint64()
			for k := 0; k < 8 && i+k < n; k++ {
				b[i+k] = byte(v >> (8 * k))
			}
		}
		return b
	})
}

func csv(seed uint64, rows int) gen {
	return memoized(fmt.Sprint("csv", seed, rows), func() []byte {
		r := rand.New(rand.NewPCG(seed, 4))
		var b bytes.Buffer
		for range rows {
			fmt.Fprintf(&b, "%s,%d\n", dictionary[r.IntN(len(dictionary))], r.IntN(10000))
		}
		return b.Bytes()
	})
}

func fooText(seed uint64, lines int) gen {
	w := words(seed, lines)
	return memoized(fmt.Sprint("foo", seed, lines), func() []byte {
		return bytes.ReplaceAll(w(), []byte("alpha"), []byte("foo"))
	})
}

func jsonNumbers(seed uint64, n int) gen {
	return memoized(fmt.Sprint("jsonNumbers", seed, n), func() []byte {
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
	})
}

func jsonRecords(seed uint64, n int) gen {
	return memoized(fmt.Sprint("jsonRecords", seed, n), func() []byte {
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
	})
}

func jqItems(seed uint64, n int) gen {
	return memoized(fmt.Sprint("jqItems", seed, n), func() []byte {
		r := rand.New(rand.NewPCG(seed, 7))
		var b bytes.Buffer
		b.WriteString(`{"items": [`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name": "%s", "v": %d}`, dictionary[r.IntN(len(dictionary))], r.IntN(20))
		}
		b.WriteString("]}\n")
		return b.Bytes()
	})
}

func manyFunctions(n int) gen {
	return memoized(fmt.Sprint("functions", n), func() []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, "int f%d(int x) { return x * %d + (x >> %d); }\n", i, i, i%7)
		}
		return b.Bytes()
	})
}

// textFiles makes n text files of various sizes under dir, some in
// subdirectories, some containing "needle".
func textFiles(dir string, seed uint64, n int) setup {
	return func(p *place) error {
		for i := range n {
			sub := ""
			if i%7 == 3 {
				sub = fmt.Sprintf("d%d", i%4)
			}
			if err := write(p, filepath.Join(dir, sub, fmt.Sprintf("f%03d.txt", i)), words(seed*1000+uint64(i), 10+(i*37)%200)()); err != nil {
				return err
			}
		}
		return nil
	}
}

func deepFiles(dir string, seed uint64, depth int) setup {
	return func(p *place) error {
		d := dir
		for k := range depth {
			d = filepath.Join(d, fmt.Sprintf("level%d", k))
			if err := write(p, filepath.Join(d, "f.txt"), words(seed+uint64(k), 100)()); err != nil {
				return err
			}
		}
		return nil
	}
}

func sparse(name, head string, size int64) setup {
	return func(p *place) error {
		if err := write(p, name, []byte(head)); err != nil {
			return err
		}
		return os.Truncate(p.at(name), size)
	}
}

func binary(name string, seed uint64, n int, needle string) setup {
	return func(p *place) error {
		b := bytes.Clone(random(seed, n)())
		copy(b[n/2:], needle)
		return write(p, name, b)
	}
}

// links adds a symlink, a symlink to the directory itself and a hard
// link to dir (made by textFiles).
func links(dir string) setup {
	return func(p *place) error {
		t := p.at(dir)
		if err := os.Symlink("f000.txt", filepath.Join(t, "link.txt")); err != nil {
			return err
		}
		if err := os.Symlink(".", filepath.Join(t, "self")); err != nil {
			return err
		}
		return os.Link(filepath.Join(t, "f001.txt"), filepath.Join(t, "hard.txt"))
	}
}

// hardLink adds only the hard link (zip follows symlinks, and one to
// the directory itself would never end).
func hardLink(dir string) setup {
	return func(p *place) error {
		return os.Link(p.at(filepath.Join(dir, "f001.txt")), p.at(filepath.Join(dir, "hard.txt")))
	}
}

func brokenLink(dir string) setup {
	return func(p *place) error { return os.Symlink("does-not-exist", p.at(filepath.Join(dir, "broken"))) }
}

func emptyDirs(dir string) setup {
	return mkdir(filepath.Join(dir, "empty"), filepath.Join(dir, "empty2", "inner"))
}

func xattrs(dir string) setup {
	return func(p *place) error {
		for _, f := range []string{"f000.txt", "f001.txt"} {
			if err := syscall.Setxattr(p.at(filepath.Join(dir, f)), "user.corpus", []byte("value"), 0); err != nil {
				return fmt.Errorf("setxattr (the file system must support user xattrs): %w", err)
			}
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

func sqliteDB(name string, rows int, extra string) setup {
	return func(p *place) error {
		if err := os.MkdirAll(filepath.Dir(p.at(name)), 0o755); err != nil {
			return err
		}
		sql := fmt.Sprintf("CREATE TABLE t(a INTEGER, b TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %d) INSERT INTO t SELECT x, hex(randomblob(8)) FROM c; %s", rows, extra)
		return setupCmd(p.root, "/usr/bin/sqlite3", p.at(name), sql)
	}
}

// sqliteRows makes the database pyLoad fills, with a few rows in it.
func sqliteRows(name string) setup {
	return func(p *place) error {
		return setupCmd(p.root, "/usr/bin/sqlite3", p.at(name), "CREATE TABLE rows(name TEXT, v INTEGER); INSERT INTO rows VALUES ('old', 1), ('older', 2);")
	}
}

// gitRepo makes a repository at dir with files committed, then changes
// some of them (a changed file of big bytes when big > 0), optionally
// packed first.
func gitRepo(dir string, seed uint64, files, changed int, packed bool, big int) setup {
	return func(p *place) error {
		repo := p.at(dir)
		if err := setupCmd(p.root, "/usr/bin/git", "init", "-q", repo); err != nil {
			return err
		}
		name := func(i int) string {
			if files > 10 {
				return filepath.Join(dir, fmt.Sprintf("dir%d", i%5), fmt.Sprintf("f%d.txt", i))
			}
			return filepath.Join(dir, fmt.Sprintf("f%d.txt", i))
		}
		for i := range files {
			if err := write(p, name(i), words(seed*100+uint64(i), 20)()); err != nil {
				return err
			}
		}
		if big > 0 {
			if err := write(p, filepath.Join(dir, "big.bin"), random(seed, big)()); err != nil {
				return err
			}
		}
		git := []string{"-c", "user.name=setup", "-c", "user.email=setup@example.com", "-C", repo}
		if err := setupCmd(p.root, "/usr/bin/git", append(git, "add", "-A")...); err != nil {
			return err
		}
		if err := setupCmd(p.root, "/usr/bin/git", append(git, "commit", "-q", "-m", "initial")...); err != nil {
			return err
		}
		if packed {
			if err := setupCmd(p.root, "/usr/bin/git", append(git, "gc", "-q")...); err != nil {
				return err
			}
		}
		for i := range changed {
			if err := write(p, name(i), words(seed*100+uint64(i)+7, 30)()); err != nil {
				return err
			}
		}
		if big > 0 {
			return write(p, filepath.Join(dir, "big.bin"), random(seed+1, big)())
		}
		return nil
	}
}

// tarArchive builds a tree "t" with the setups in a scratch directory
// and archives its contents, extended attributes included, as name.
func tarArchive(name string, build ...setup) setup {
	return func(p *place) error {
		scratch := &place{root: p.at(".scratch"), secret: p.secret}
		if err := os.MkdirAll(scratch.root, 0o755); err != nil {
			return err
		}
		defer os.RemoveAll(scratch.root)
		if err := steps(build...)(scratch); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p.at(name)), 0o755); err != nil {
			return err
		}
		return setupCmd(p.root, "/usr/bin/tar", "--xattrs", "-cf", p.at(name), "-C", scratch.at("t"), ".")
	}
}

// udiff appends to name a unified diff (for patch -p1) that turns path
// from old into new; old "" creates it.
func udiff(name, path, old, new string) setup {
	return func(p *place) error {
		lines := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
		}
		o, n := lines(old), lines(new)
		var b strings.Builder
		from, start := "a/"+path, 1
		if old == "" {
			from, start = "/dev/null", 0
		}
		fmt.Fprintf(&b, "--- %s\n+++ b/%s\n@@ -%d,%d +1,%d @@\n", from, path, start, len(o), len(n))
		for _, l := range o {
			b.WriteString("-" + strings.TrimSuffix(l, "\n") + "\n")
		}
		for _, l := range n {
			b.WriteString("+" + strings.TrimSuffix(l, "\n") + "\n")
		}
		prev, err := os.ReadFile(p.at(name))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		return write(p, name, append(prev, b.String()...))
	}
}

func gzipFile(name string, g gen) setup {
	return func(p *place) error {
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		if _, err := z.Write(g()); err != nil {
			return err
		}
		if err := z.Close(); err != nil {
			return err
		}
		return write(p, name, b.Bytes())
	}
}

func xzFile(name string, g gen) setup {
	return func(p *place) error {
		plain := strings.TrimSuffix(name, ".xz")
		if err := write(p, plain, g()); err != nil {
			return err
		}
		return setupCmd(p.root, "/usr/bin/xz", p.at(plain))
	}
}

// goFiles writes n Go files f0.go... in dir, every other one not
// gofmt-formatted.
func goFiles(dir string, seed uint64, n int) setup {
	pkg := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, filepath.Base(dir))
	if pkg == "" {
		pkg = "main"
	}
	return func(p *place) error {
		for i := range n {
			body := "\treturn fmt.Sprint(x + %d)\n"
			if i%2 == 0 {
				body = "  if x>1 {x=x*2}\n\treturn fmt.Sprint(x + %d)\n"
			}
			src := fmt.Sprintf("package %s\n\nimport \"fmt\"\n\n// F%d formats x.\nfunc F%d(x int) string {\n"+body+"}\n", pkg, i, i, seed+uint64(i))
			if err := write(p, filepath.Join(dir, fmt.Sprintf("f%d.go", i)), []byte(src)); err != nil {
				return err
			}
		}
		return nil
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

const pyLoad = `import csv, sqlite3, sys
src, dst = sys.argv[1], sys.argv[2]
con = sqlite3.connect(dst)
con.execute("CREATE TABLE IF NOT EXISTS rows(name TEXT, v INTEGER)")
with open(src, newline="") as f:
    con.executemany("INSERT INTO rows VALUES (?, ?)", ((r[0], int(r[1])) for r in csv.reader(f) if r))
con.commit()
print(con.execute("SELECT count(*), sum(v) FROM rows").fetchone())
`

// The *Secret snippets, appended to a job's script, make it read the
// secret and print it: the script is the program's input, not its
// command line.
const pySecret = "print(open(\"{secret}\").read())\n"

const perlReport = `use strict;
use warnings;
use List::Util qw(sum);
my $f = shift;
open(my $fh, '<', $f) or die "open $f: $!\n";
my %n;
while (<$fh>) { $n{$_}++ for split; }
my @top = grep { defined } (sort { $n{$b} <=> $n{$a} || $a cmp $b } keys %n)[0..2];
printf "%s %d\n", $_, $n{$_} for @top;
printf "total %d\n", sum(0, values %n);
`

const perlSecret = "open(my $s, '<', '{secret}') or die \"open: $!\\n\"; print <$s>;\n"

const nodeTransform = `const fs = require('fs');
const [input, output] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(input, 'utf8'));
const rows = data.map(r => [r.name, r.tags.join('|'), r.nested.v].join(','));
fs.writeFileSync(output, rows.join('\n') + '\n');
console.log(data.length);
`

const nodeSecret = "console.log(fs.readFileSync('{secret}', 'utf8'));\n"

const luaWC = `local f = assert(io.open(arg[1]))
local n, words = 0, {}
for line in f:lines() do
  for w in line:gmatch("%S+") do n = n + 1; words[w] = (words[w] or 0) + 1 end
end
f:close()
local keys = {}
for k in pairs(words) do keys[#keys + 1] = k end
table.sort(keys, function(a, b) return words[a] > words[b] or (words[a] == words[b] and a < b) end)
for i = 1, math.min(3, #keys) do print(keys[i], words[keys[i]]) end
print("total", n)
`

const luaSecret = "print(assert(io.open(\"{secret}\")):read(\"a\"))\n"

const helloC = "#include <stdio.h>\nint main(void) {\n\tputs(\"hello\");\n\treturn 0;\n}\n"

const helloC2 = "#include <stdio.h>\nint main(void) {\n\tputs(\"hello, world\");\n\treturn 0;\n}\n"

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
