package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tools locates the corpus's Go programs: gofmt from the toolchain, and
// those the corpus builds into dir.
type tools struct {
	dir   string
	gofmt string
}

func (t tools) built(name string) string { return filepath.Join(t.dir, name) }

// corpus is the programs and their jobs. Every job is recorded on its
// first input and held out on the others: other data, sizes and states
// of the same job, at other paths (relative ones elsewhere under the
// working directory, absolute ones, several files where the recorded
// run named one) and, where a program can fail on its input, an error
// path (a missing input): the program must be able to say why. Absolute
// paths: the Debian binaries, never a wrapper (pyenv shims, ccache) that
// PATH might find first.
func corpus(t tools) []job {
	jobs := []job{
		{name: "sort", bin: "/usr/bin/sort", pkg: "coreutils", inputs: []input{
			{desc: "1000 words", setup: file("in.txt", words(1, 1000)), args: argv("-o", "out.txt", "in.txt")},
			{desc: "50 words in another directory, sorted beside them", setup: file("data/list.txt", words(2, 50)), args: argv("-o", "data/sorted.txt", "data/list.txt")},
			{desc: "400000 words (threads, temporary files), absolute paths", setup: steps(file("ext/big/words", words(3, 400_000)), mkdir("ext/out")), args: argv("-o", "@ext/out/sorted", "@ext/big/words")},
			{desc: "numbers with duplicates", setup: file("nums/n.txt", numbers(4, 20_000)), args: argv("-o", "nums/n.sorted", "nums/n.txt")},
			{desc: "empty", setup: file("in/empty.txt", nil), args: argv("-o", "in/empty.sorted", "in/empty.txt")},
			{desc: "missing input (error path)", args: argv("-o", "out.txt", "nowhere/in.txt"), failing: true},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: secretLink("data/in.txt"), args: argv("-o", "data/out.txt", "data/in.txt")},
		}},
		{name: "grep", bin: "/usr/bin/grep", pkg: "grep", inputs: []input{
			{desc: "5 text files", setup: textFiles("tree", 5, 5), args: argv("-R", "-n", "needle", "tree")},
			{desc: "300 files in another directory", setup: textFiles("docs/notes", 9, 300), args: argv("-R", "-n", "needle", "docs/notes")},
			{desc: "a sparse and a binary file, absolute path", setup: steps(textFiles("ext/src", 6, 2), sparse("ext/src/sparse.dat", "needle\n", 64<<20), binary("ext/src/a/b/c/blob.bin", 8, 1<<20, "needle")), args: argv("-R", "-n", "needle", "@ext/src")},
			{desc: "no match (exit 1)", setup: file("plain/a.txt", lit("alpha\nbravo\n")), args: argv("-R", "-n", "needle", "plain")},
			{desc: "missing directory (error path)", args: argv("-R", "-n", "needle", "gone"), failing: true},
		}, reach: []input{
			{desc: "a symlink to the secret in the tree", setup: steps(textFiles("tree", 5, 3), secretLink("tree/notes.txt")), args: argv("-R", "-n", "needle", "tree")},
		}},
		{name: "find", bin: "/usr/bin/find", pkg: "findutils", inputs: []input{
			{desc: "10 files", setup: textFiles("tree", 10, 10), args: argv("tree", "-type", "f", "-name", "*.txt", "-size", "+1k")},
			{desc: "symlinks and hard links in another directory", setup: steps(textFiles("src", 11, 10), links("src")), args: argv("src", "-type", "f", "-name", "*.txt", "-size", "+1k")},
			{desc: "deep tree, absolute path", setup: deepFiles("ext/deep", 12, 6), args: argv("@ext/deep", "-type", "f", "-name", "*.txt", "-size", "+1k")},
			{desc: "1000 files", setup: textFiles("many", 13, 1000), args: argv("many", "-type", "f", "-name", "*.txt", "-size", "+1k")},
			{desc: "missing directory (error path)", args: argv("gone", "-type", "f", "-name", "*.txt", "-size", "+1k"), failing: true},
		}},
		{name: "tar", bin: "/usr/bin/tar", pkg: "tar", inputs: []input{
			{desc: "10 text files", setup: textFiles("tree", 14, 10), args: argv("czf", "out.tgz", "tree")},
			{desc: "symlinks and hard links, archived into another directory", setup: steps(textFiles("src", 15, 10), links("src"), mkdir("backup")), args: argv("czf", "backup/src.tgz", "src")},
			{desc: "a sparse file, absolute paths", setup: steps(textFiles("ext/data", 16, 2), sparse("ext/data/sparse.dat", "x", 32<<20), mkdir("ext/arch")), args: argv("czf", "@ext/arch/a.tgz", "@ext/data")},
			{desc: "deep tree, empty directories", setup: steps(deepFiles("proj", 17, 5), emptyDirs("proj")), args: argv("czf", "proj.tgz", "proj")},
			{desc: "missing directory (error path)", args: argv("czf", "gone.tgz", "gone"), failing: true},
		}},
		compressor("gzip", "/usr/bin/gzip", 18),
		compressor("xz", "/usr/bin/xz", 22),
		compressor("bzip2", "/usr/bin/bzip2", 26),
		{name: "cp", bin: "/usr/bin/cp", pkg: "coreutils", inputs: []input{
			{desc: "10 text files", setup: textFiles("tree", 24, 10), args: argv("-a", "tree", "copy")},
			{desc: "symlinks and hard links, into another directory", setup: steps(textFiles("src", 25, 10), links("src"), mkdir("backup")), args: argv("-a", "src", "backup/src")},
			{desc: "extended attributes, absolute paths", setup: steps(textFiles("ext/tagged", 26, 5), xattrs("ext/tagged"), mkdir("ext/out")), args: argv("-a", "@ext/tagged", "@ext/out/tagged")},
			{desc: "a sparse file", setup: steps(textFiles("vm", 27, 2), sparse("vm/disk.img", "x", 32<<20)), args: argv("-a", "vm", "vm-copy")},
			{desc: "missing source (error path)", args: argv("-a", "gone", "copy"), failing: true},
		}},
		{name: "ls", bin: "/usr/bin/ls", pkg: "coreutils", inputs: []input{
			{desc: "10 files", setup: textFiles("tree", 28, 10), args: argv("-laR", "tree")},
			{desc: "symlinks, a broken one, in another directory", setup: steps(textFiles("src", 29, 5), links("src"), brokenLink("src")), args: argv("-laR", "src")},
			{desc: "1000 files, absolute path", setup: textFiles("ext/many", 30, 1000), args: argv("-laR", "@ext/many")},
			{desc: "extended attributes", setup: steps(textFiles("tagged", 31, 5), xattrs("tagged")), args: argv("-laR", "tagged")},
			{desc: "missing directory (error path)", args: argv("-laR", "gone"), failing: true},
		}},
		{name: "sha256sum", bin: "/usr/bin/sha256sum", pkg: "coreutils", inputs: []input{
			{desc: "10 KB", setup: file("data", random(32, 10<<10)), args: argv("data")},
			{desc: "50 MB in another directory", setup: file("big/blob", random(33, 50<<20)), args: argv("big/blob")},
			{desc: "three files, absolute paths", setup: steps(file("ext/a", random(34, 100)), file("ext/b", words(34, 50)), file("ext/c", lit("x"))), args: argv("@ext/a", "@ext/b", "@ext/c")},
			{desc: "empty", setup: file("e/empty", nil), args: argv("e/empty")},
			{desc: "missing file (error path)", args: argv("gone/data"), failing: true},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: secretLink("in/data"), args: argv("in/data")},
		}},
		{name: "md5sum-c", bin: "/usr/bin/md5sum", pkg: "coreutils", inputs: []input{
			{desc: "two files in the working directory", setup: steps(file("a.txt", words(35, 100)), file("b.txt", words(36, 10)), sums("sums.md5", "a.txt", "b.txt")), args: argv("-c", "sums.md5")},
			{desc: "a list in another directory naming files in subdirectories", setup: steps(file("data/x.txt", words(37, 100)), file("data/y/z.txt", random(37, 5000)), sums("lists/check.md5", "data/x.txt", "data/y/z.txt")), args: argv("-c", "lists/check.md5")},
			{desc: "a mismatch (exit 1)", setup: steps(file("m/a.txt", words(38, 100)), sums("m/sums.md5", "m/a.txt"), file("m/a.txt", words(39, 100))), args: argv("-c", "m/sums.md5"), failing: true},
			{desc: "a listed file is missing (error path)", setup: steps(file("gone.txt", lit("x")), sums("lost.md5", "gone.txt"), remove("gone.txt")), args: argv("-c", "lost.md5"), failing: true},
		}, reach: []input{
			{desc: "the list names the secret", setup: secretSums("lists/check.md5"), args: argv("-c", "lists/check.md5"),
				leaked: func(p *place, res *result) bool { return strings.Contains(string(res.stdout), p.secret+": OK") }},
		}},
		{name: "gawk", bin: "/usr/bin/gawk", pkg: "gawk", inputs: []input{
			{desc: "100 rows", setup: file("data.csv", csv(34, 100)), args: argv("-F,", awkProg, "data.csv")},
			{desc: "1 million rows in another directory", setup: file("tables/big.csv", csv(35, 1_000_000)), args: argv("-F,", awkProg, "tables/big.csv")},
			{desc: "empty, absolute path", setup: file("ext/e.csv", nil), args: argv("-F,", awkProg, "@ext/e.csv")},
			{desc: "text, not numbers", setup: file("notes.txt", words(36, 500)), args: argv("-F,", awkProg, "notes.txt")},
			{desc: "missing file (error path)", args: argv("-F,", awkProg, "gone.csv"), failing: true},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: secretLink("in/data.csv"), args: argv("-F,", awkProg, "in/data.csv")},
		}},
		{name: "sqlite3", bin: "/usr/bin/sqlite3", pkg: "sqlite3", inputs: []input{
			{desc: "a database of 10 rows", setup: sqliteDB("db.sqlite", 10, ""), args: argv("db.sqlite", sqlJob)},
			{desc: "no database yet, in another directory", setup: mkdir("state"), args: argv("state/new.db", sqlJob)},
			{desc: "200000 rows with an index, absolute path", setup: sqliteDB("ext/big.db", 200_000, "CREATE INDEX ta ON t(a);"), args: argv("@ext/big.db", sqlJob)},
			{desc: "WAL journal", setup: sqliteDB("wal/w.db", 100, "PRAGMA journal_mode=WAL;"), args: argv("wal/w.db", sqlJob)},
			{desc: "a directory where the database should be (error path)", setup: mkdir("dir.db"), args: argv("dir.db", sqlJob), failing: true},
		}},
		{name: "python3", bin: "/usr/bin/python3.11", pkg: "python3", inputs: []input{
			{desc: "1000 numbers", setup: steps(text("job.py", pyScript), file("data.json", jsonNumbers(37, 1000))), args: argv("job.py", "data.json")},
			{desc: "2 million numbers, script and data in other directories", setup: steps(text("tools/job.py", pyScript), file("in/nums.json", jsonNumbers(38, 2_000_000))), args: argv("tools/job.py", "in/nums.json")},
			{desc: "nested records, unicode, absolute paths", setup: steps(text("ext/bin/job.py", pyScript), file("ext/data/r.json", jsonRecords(39, 5000))), args: argv("@ext/bin/job.py", "@ext/data/r.json")},
			{desc: "empty list", setup: steps(text("job.py", pyScript), file("empty.json", lit("[]"))), args: argv("job.py", "empty.json")},
			{desc: "missing data file (error path)", setup: text("job.py", pyScript), args: argv("job.py", "gone.json"), failing: true},
		}, reach: []input{
			{desc: "the script reads the secret", setup: steps(text("tools/job.py", pyScript+pySecret), file("in/nums.json", jsonNumbers(40, 100))), args: argv("tools/job.py", "in/nums.json")},
		}},
		{name: "perl-pi", bin: "/usr/bin/perl", pkg: "perl", inputs: []input{
			{desc: "small file", setup: file("file.txt", fooText(40, 100)), args: argv("-pi", "-e", "s/foo/bar/g", "file.txt")},
			{desc: "10 MB file in another directory", setup: file("notes/big.txt", fooText(41, 1_000_000)), args: argv("-pi", "-e", "s/foo/bar/g", "notes/big.txt")},
			{desc: "CRLF and unicode, absolute path", setup: file("ext/u.txt", lit("foo\r\nbär foo\r\n☃ foo\r\n")), args: argv("-pi", "-e", "s/foo/bar/g", "@ext/u.txt")},
			{desc: "two files", setup: steps(file("a.txt", fooText(42, 10)), file("sub/b.txt", fooText(43, 10))), args: argv("-pi", "-e", "s/foo/bar/g", "a.txt", "sub/b.txt")},
			{desc: "missing file (error path)", args: argv("-pi", "-e", "s/foo/bar/g", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "the file is a symlink to the secret", setup: secretLink("notes/file.txt"), args: argv("-pi", "-e", "s/foo/bar/g", "notes/file.txt")},
		}},
		{name: "sed-i", bin: "/usr/bin/sed", pkg: "sed", inputs: []input{
			{desc: "small file", setup: file("file.txt", fooText(44, 100)), args: argv("-i", "s/foo/bar/g", "file.txt")},
			{desc: "1 MB file in another directory", setup: file("notes/big.txt", fooText(45, 100_000)), args: argv("-i", "s/foo/bar/g", "notes/big.txt")},
			{desc: "absolute path", setup: file("ext/conf.txt", fooText(46, 20)), args: argv("-i", "s/foo/bar/g", "@ext/conf.txt")},
			{desc: "two files", setup: steps(file("a.txt", fooText(47, 10)), file("sub/b.txt", fooText(48, 10))), args: argv("-i", "s/foo/bar/g", "a.txt", "sub/b.txt")},
			{desc: "missing file (error path)", args: argv("-i", "s/foo/bar/g", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "the file is a symlink to the secret", setup: secretLink("notes/file.txt"), args: argv("-i", "s/foo/bar/g", "notes/file.txt")},
		}},
		{name: "git", bin: "/usr/bin/git", pkg: "git", inputs: []input{
			{desc: "3 files, one changed", setup: gitRepo("repo", 42, 3, 1, false, 0), args: argv(gitCommit("repo")...)},
			{desc: "50 files in directories, 10 changed, the repository elsewhere", setup: gitRepo("projects/app", 43, 50, 10, false, 0), args: argv(gitCommit("projects/app")...)},
			{desc: "packed repository, absolute path", setup: gitRepo("ext/pack", 44, 20, 2, true, 0), args: argv(gitCommit("@ext/pack")...)},
			{desc: "a changed 2 MB file", setup: gitRepo("big", 45, 5, 1, false, 2<<20), args: argv(gitCommit("big")...)},
			{desc: "nothing to commit (exit 1)", setup: gitRepo("clean", 46, 3, 0, false, 0), args: argv(gitCommit("clean")...)},
		}},
		{name: "openssl", bin: "/usr/bin/openssl", pkg: "openssl", inputs: []input{
			{desc: "4 KB", setup: file("data", random(46, 4<<10)), args: argv(opensslEnc("data", "data.enc")...)},
			{desc: "30 MB in another directory", setup: file("vault/blob", random(47, 30<<20)), args: argv(opensslEnc("vault/blob", "vault/blob.enc")...)},
			{desc: "empty, absolute paths", setup: steps(file("ext/e", nil), mkdir("ext/out")), args: argv(opensslEnc("@ext/e", "@ext/out/e.enc")...)},
			{desc: "1 byte", setup: file("one", lit("x")), args: argv(opensslEnc("one", "one.enc")...)},
			{desc: "missing input (error path)", args: argv(opensslEnc("gone", "gone.enc")...), failing: true},
		}},
		{name: "gcc", bin: "/usr/bin/gcc", pkg: "gcc", inputs: []input{
			{desc: "hello world", setup: text("prog.c", "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"), args: argv("-O2", "-c", "prog.c", "-o", "prog.o")},
			{desc: "threads and math, in other directories", setup: steps(text("src/t.c", cThreads), mkdir("build")), args: argv("-O2", "-c", "src/t.c", "-o", "build/t.o")},
			{desc: "warnings, absolute paths", setup: text("ext/w.c", "int f(int x) { int y; if (x) y = 1; return y; }\nint g(void) { return f(0) + 1u; }\n"), args: argv("-O2", "-c", "@ext/w.c", "-o", "@ext/w.o")},
			{desc: "2000 functions", setup: file("gen/many.c", manyFunctions(2000)), args: argv("-O2", "-c", "gen/many.c", "-o", "gen/many.o")},
			{desc: "a syntax error (error path)", setup: text("bad.c", "int main( { return 0 }\n"), args: argv("-O2", "-c", "bad.c", "-o", "bad.o"), failing: true},
		}, reach: []input{
			{desc: "the source includes the secret", setup: text("src/p.c", "#include \"{secret}\"\nint main(void) { return 0; }\n"), args: argv("-O2", "-c", "src/p.c", "-o", "src/p.o")},
		}},
		{name: "rsync", bin: "/usr/bin/rsync", pkg: "rsync", inputs: []input{
			{desc: "10 text files", setup: textFiles("tree", 52, 10), args: argv("-aX", "tree/", "copy/")},
			{desc: "symlinks and hard links, into another directory", setup: steps(textFiles("src", 53, 10), links("src"), mkdir("backups")), args: argv("-aX", "src/", "backups/src/")},
			{desc: "extended attributes, absolute paths", setup: steps(textFiles("ext/tagged", 54, 5), xattrs("ext/tagged"), mkdir("ext/out")), args: argv("-aX", "@ext/tagged/", "@ext/out/tagged/")},
			{desc: "deep tree", setup: deepFiles("proj", 55, 6), args: argv("-aX", "proj/", "proj-copy/")},
			{desc: "missing source (error path)", args: argv("-aX", "gone/", "copy/"), failing: true},
		}},
		{name: "tar-x", bin: "/usr/bin/tar", pkg: "tar", inputs: []input{
			{desc: "10 files with extended attributes", setup: steps(tarArchive("in.tar", textFiles("t", 56, 10), xattrs("t")), mkdir("out")), args: argv("--xattrs", "-xpf", "in.tar", "-C", "out")},
			{desc: "symlinks and hard links, into another directory", setup: steps(tarArchive("arch/src.tar", textFiles("t", 57, 10), links("t")), mkdir("restore/here")), args: argv("--xattrs", "-xpf", "arch/src.tar", "-C", "restore/here")},
			{desc: "extended attributes, absolute paths", setup: steps(tarArchive("ext/t.tar", textFiles("t", 58, 5), xattrs("t")), mkdir("ext/dest")), args: argv("--xattrs", "-xpf", "@ext/t.tar", "-C", "@ext/dest")},
			{desc: "deep tree, empty directories", setup: steps(tarArchive("deep.tar", deepFiles("t", 59, 6), emptyDirs("t")), mkdir("deep")), args: argv("--xattrs", "-xpf", "deep.tar", "-C", "deep")},
			{desc: "not an archive (error path)", setup: steps(file("bad.tar", random(60, 1000)), mkdir("out2")), args: argv("--xattrs", "-xpf", "bad.tar", "-C", "out2"), failing: true},
		}},
		{name: "diff", bin: "/usr/bin/diff", pkg: "diffutils", inputs: []input{
			{desc: "two different files (exit 1)", setup: steps(file("a.txt", words(61, 200)), file("b.txt", words(62, 200))), args: argv("-u", "a.txt", "b.txt")},
			{desc: "identical files in two other directories (exit 0)", setup: steps(file("old/x.txt", words(63, 300)), file("new/x.txt", words(63, 300))), args: argv("-u", "old/x.txt", "new/x.txt")},
			{desc: "absolute paths", setup: steps(file("ext/v1/conf", words(64, 50)), file("ext/v2/conf", words(65, 60))), args: argv("-u", "@ext/v1/conf", "@ext/v2/conf")},
			{desc: "binary files", setup: steps(file("bin1", random(66, 5000)), file("bin2", random(67, 5000))), args: argv("-u", "bin1", "bin2")},
			{desc: "missing file (error path)", setup: file("a.txt", words(68, 10)), args: argv("-u", "a.txt", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "one file is a symlink to the secret", setup: steps(secretLink("old/a.txt"), file("new/a.txt", words(69, 5))), args: argv("-u", "old/a.txt", "new/a.txt")},
		}},
		{name: "jq", bin: "/usr/bin/jq", pkg: "jq", inputs: []input{
			{desc: "100 items", setup: file("data.json", jqItems(70, 100)), args: argv(jqFilter, "data.json")},
			{desc: "20000 items in another directory", setup: file("in/items.json", jqItems(71, 20_000)), args: argv(jqFilter, "in/items.json")},
			{desc: "absolute path", setup: file("ext/d.json", jqItems(72, 10)), args: argv(jqFilter, "@ext/d.json")},
			{desc: "no items", setup: file("empty.json", lit(`{"items": []}`)), args: argv(jqFilter, "empty.json")},
			{desc: "invalid JSON (error path)", setup: file("bad.json", lit(`{"items": [`)), args: argv(jqFilter, "bad.json"), failing: true},
		}},
		{name: "zip", bin: "/usr/bin/zip", pkg: "zip", inputs: []input{
			{desc: "10 text files", setup: textFiles("tree", 73, 10), args: argv("-q", "-r", "out.zip", "tree")},
			{desc: "hard links, archived into another directory", setup: steps(textFiles("src", 74, 10), hardLink("src"), mkdir("backup")), args: argv("-q", "-r", "backup/src.zip", "src")},
			{desc: "absolute paths", setup: steps(textFiles("ext/data", 75, 5), mkdir("ext/out")), args: argv("-q", "-r", "@ext/out/d.zip", "@ext/data")},
			{desc: "deep tree, empty directories", setup: steps(deepFiles("proj", 76, 6), emptyDirs("proj")), args: argv("-q", "-r", "proj.zip", "proj")},
			{desc: "missing directory (error path)", args: argv("-q", "-r", "gone.zip", "gone"), failing: true},
		}, reach: []input{
			{desc: "a symlink to the secret in the tree", setup: steps(textFiles("tree", 77, 3), secretLink("tree/notes.txt")), args: argv("-q", "-r", "out.zip", "tree")},
		}},
		{name: "split", bin: "/usr/bin/split", pkg: "coreutils", inputs: []input{
			{desc: "1000 lines", setup: steps(file("in.txt", words(78, 1000)), mkdir("parts")), args: argv("-l", "100", "in.txt", "parts/p-")},
			{desc: "another file, chunks in another directory", setup: steps(file("logs/app.log", words(79, 3000)), mkdir("chunks/app")), args: argv("-l", "100", "logs/app.log", "chunks/app/x-")},
			{desc: "absolute paths", setup: steps(file("ext/big.txt", words(80, 20_000)), mkdir("ext/out")), args: argv("-l", "100", "@ext/big.txt", "@ext/out/")},
			{desc: "empty", setup: steps(file("e.txt", nil), mkdir("eparts")), args: argv("-l", "100", "e.txt", "eparts/e-")},
			{desc: "missing file (error path)", setup: mkdir("parts"), args: argv("-l", "100", "gone.txt", "parts/p-"), failing: true},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: steps(secretLink("logs/app.log"), mkdir("chunks")), args: argv("-l", "100", "logs/app.log", "chunks/x-")},
		}},
		{name: "patch", bin: "/usr/bin/patch", pkg: "patch", inputs: []input{
			{desc: "one file", setup: steps(text("hello.c", helloC), udiff("fix.diff", "hello.c", helloC, helloC2)), args: argv("-s", "-p1", "-i", "fix.diff")},
			{desc: "files in subdirectories, the patch in another directory", setup: steps(text("src/a.c", helloC), text("lib/b.c", cThreads), udiff("patches/p1.diff", "src/a.c", helloC, helloC2), udiff("patches/p1.diff", "lib/b.c", cThreads, strings.Replace(cThreads, "1000", "2000", 1))), args: argv("-s", "-p1", "-i", "patches/p1.diff")},
			{desc: "a new file, the patch at an absolute path", setup: udiff("ext/new.diff", "NEWS", "", "release 2\n"), args: argv("-s", "-p1", "-i", "@ext/new.diff")},
			{desc: "a hunk that does not apply (exit 1)", setup: steps(text("old.c", cThreads), udiff("stale.diff", "old.c", helloC, helloC2)), args: argv("-s", "-p1", "-i", "stale.diff"), failing: true},
			{desc: "missing patch file (error path)", args: argv("-s", "-p1", "-i", "gone.diff"), failing: true},
		}},
		{name: "file", bin: "/usr/bin/file", pkg: "file", inputs: []input{
			{desc: "a text file", setup: file("notes.txt", words(81, 100)), args: argv("-E", "-b", "notes.txt")},
			{desc: "several kinds in another directory", setup: steps(file("mixed/a.bin", random(82, 4096)), text("mixed/b.c", helloC), file("mixed/c.json", jsonNumbers(83, 10))), args: argv("-E", "-b", "mixed/a.bin", "mixed/b.c", "mixed/c.json")},
			{desc: "an ELF binary, absolute path", setup: copyFile("ext/tool", "/usr/bin/true"), args: argv("-E", "-b", "@ext/tool")},
			{desc: "a gzip file", setup: gzipFile("logs/app.log.gz", words(84, 200)), args: argv("-E", "-b", "logs/app.log.gz")},
			{desc: "missing file (error path)", args: argv("-E", "-b", "gone"), failing: true},
		}},

		// Interpreters running scripts.
		{name: "python3-csv", bin: "/usr/bin/python3.11", pkg: "python3", inputs: []input{
			{desc: "200 rows into a new database", setup: steps(text("load.py", pyLoad), file("in.csv", csv(85, 200))), args: argv("load.py", "in.csv", "out.db")},
			{desc: "50000 rows, script, data and database in other directories", setup: steps(text("scripts/load.py", pyLoad), file("data/rows.csv", csv(86, 50_000)), mkdir("db")), args: argv("scripts/load.py", "data/rows.csv", "db/rows.db")},
			{desc: "into an existing database, absolute paths", setup: steps(text("ext/load.py", pyLoad), file("ext/in.csv", csv(87, 100)), sqliteRows("ext/rows.db")), args: argv("@ext/load.py", "@ext/in.csv", "@ext/rows.db")},
			{desc: "quotes and unicode", setup: steps(text("load.py", pyLoad), file("u.csv", lit("\"bär, ☃\",1\n\"a \"\"quoted\"\" name\",2\n"))), args: argv("load.py", "u.csv", "u.db")},
			{desc: "missing CSV file (error path)", setup: text("load.py", pyLoad), args: argv("load.py", "gone.csv", "out.db"), failing: true},
		}, reach: []input{
			{desc: "the script reads the secret", setup: steps(text("scripts/load.py", pyLoad+pySecret), file("data/rows.csv", csv(88, 10)), mkdir("db")), args: argv("scripts/load.py", "data/rows.csv", "db/rows.db")},
		}},
		{name: "perl-report", bin: "/usr/bin/perl", pkg: "perl", inputs: []input{
			{desc: "1000 lines", setup: steps(text("report.pl", perlReport), file("words.txt", words(89, 1000))), args: argv("report.pl", "words.txt")},
			{desc: "a large log, script and data in other directories", setup: steps(text("bin/report.pl", perlReport), file("logs/app.log", words(90, 200_000))), args: argv("bin/report.pl", "logs/app.log")},
			{desc: "absolute paths", setup: steps(text("ext/report.pl", perlReport), file("ext/w.txt", words(91, 100))), args: argv("@ext/report.pl", "@ext/w.txt")},
			{desc: "empty", setup: steps(text("report.pl", perlReport), file("e.txt", nil)), args: argv("report.pl", "e.txt")},
			{desc: "missing file (error path)", setup: text("report.pl", perlReport), args: argv("report.pl", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "the script reads the secret", setup: steps(text("bin/report.pl", perlReport+perlSecret), file("logs/app.log", words(92, 100))), args: argv("bin/report.pl", "logs/app.log")},
		}},
		{name: "node", bin: "/usr/bin/node", pkg: "nodejs", inputs: []input{
			{desc: "100 records", setup: steps(text("transform.js", nodeTransform), file("data.json", jsonRecords(93, 100))), args: argv("transform.js", "data.json", "out.csv")},
			{desc: "20000 records, script, data and output in other directories", setup: steps(text("js/transform.js", nodeTransform), file("in/records.json", jsonRecords(94, 20_000)), mkdir("out")), args: argv("js/transform.js", "in/records.json", "out/records.csv")},
			{desc: "absolute paths", setup: steps(text("ext/transform.js", nodeTransform), file("ext/r.json", jsonRecords(95, 10))), args: argv("@ext/transform.js", "@ext/r.json", "@ext/r.csv")},
			{desc: "empty list", setup: steps(text("transform.js", nodeTransform), file("e.json", lit("[]"))), args: argv("transform.js", "e.json", "e.csv")},
			{desc: "missing input (error path)", setup: text("transform.js", nodeTransform), args: argv("transform.js", "gone.json", "out.csv"), failing: true},
		}, reach: []input{
			{desc: "the script reads the secret", setup: steps(text("js/transform.js", nodeTransform+nodeSecret), file("in/records.json", jsonRecords(96, 10)), mkdir("out")), args: argv("js/transform.js", "in/records.json", "out/records.csv")},
		}},
		{name: "lua", bin: "/usr/bin/lua5.4", pkg: "lua5.4", inputs: []input{
			{desc: "1000 lines", setup: steps(text("wc.lua", luaWC), file("words.txt", words(97, 1000))), args: argv("wc.lua", "words.txt")},
			{desc: "a large log, script and data in other directories", setup: steps(text("lib/wc.lua", luaWC), file("logs/app.log", words(98, 200_000))), args: argv("lib/wc.lua", "logs/app.log")},
			{desc: "absolute paths", setup: steps(text("ext/wc.lua", luaWC), file("ext/w.txt", words(99, 100))), args: argv("@ext/wc.lua", "@ext/w.txt")},
			{desc: "empty", setup: steps(text("wc.lua", luaWC), file("e.txt", nil)), args: argv("wc.lua", "e.txt")},
			{desc: "missing file (error path)", setup: text("wc.lua", luaWC), args: argv("wc.lua", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "the script reads the secret", setup: steps(text("lib/wc.lua", luaWC+luaSecret), file("logs/app.log", words(100, 100))), args: argv("lib/wc.lua", "logs/app.log")},
		}},

		// Go command-line programs.
		{name: "gofmt-l", bin: t.gofmt, pkg: "golang (the Go toolchain)", inputs: []input{
			{desc: "5 files", setup: goFiles("src", 101, 5), args: argv("-l", "src")},
			{desc: "a module tree in another directory", setup: steps(goFiles("work/mod/pkg", 102, 20), goFiles("work/mod/cmd/x", 103, 3)), args: argv("-l", "work/mod")},
			{desc: "50 files, absolute path", setup: goFiles("ext/big", 104, 50), args: argv("-l", "@ext/big")},
			{desc: "a syntax error (error path)", setup: steps(goFiles("bad", 105, 2), text("bad/x.go", "package x\nfunc {\n")), args: argv("-l", "bad"), failing: true},
			{desc: "missing directory (error path)", args: argv("-l", "gone"), failing: true},
		}, reach: []input{
			{desc: "a symlink to the secret in the tree", setup: steps(goFiles("src", 106, 3), secretLink("src/zz.go")), args: argv("-l", "src")},
		}},
		{name: "gofmt-w", bin: t.gofmt, pkg: "golang (the Go toolchain)", inputs: []input{
			{desc: "one file", setup: goFiles(".", 107, 1), args: argv("-w", "f0.go")},
			{desc: "a file in another directory", setup: goFiles("cmd/tool", 108, 2), args: argv("-w", "cmd/tool/f1.go")},
			{desc: "two files, absolute paths", setup: goFiles("ext/pkg", 109, 2), args: argv("-w", "@ext/pkg/f0.go", "@ext/pkg/f1.go")},
			{desc: "a syntax error (error path)", setup: text("bad.go", "package x\nfunc {\n"), args: argv("-w", "bad.go"), failing: true},
		}, reach: []input{
			{desc: "the file is a symlink to the secret", setup: secretLink("cmd/tool/main.go"), args: argv("-w", "cmd/tool/main.go")},
		}},
		{name: "gohash", bin: t.built("gohash"), build: "github.com/sysrec/sysrec/testdata/corpus/gohash", inputs: []input{
			{desc: "10 files", setup: textFiles("tree", 110, 10), args: argv("-o", "report.json", "tree")},
			{desc: "another directory, the report in a third", setup: steps(textFiles("data/set", 111, 30), mkdir("reports")), args: argv("-o", "reports/r.json", "data/set")},
			{desc: "two directories, absolute paths", setup: steps(textFiles("ext/a", 112, 5), deepFiles("ext/b", 113, 4)), args: argv("-o", "@ext/r.json", "@ext/a", "@ext/b")},
			{desc: "symlinks, a broken one", setup: steps(textFiles("links", 114, 5), links("links"), brokenLink("links")), args: argv("-o", "l.json", "links")},
			{desc: "missing directory (error path)", args: argv("-o", "report.json", "gone"), failing: true},
		}, reach: []input{
			{desc: "a symlink to the secret in the tree", setup: steps(textFiles("tree", 115, 3), secretLink("tree/notes.txt")), args: argv("-o", "report.json", "tree")},
		}},

		// Terminals.
		{name: "ls-tty", bin: "/usr/bin/ls", pkg: "coreutils", tty: true, inputs: []input{
			{desc: "10 files on a terminal", setup: textFiles("tree", 116, 10), args: argv("-C", "--color=auto", "tree")},
			{desc: "symlinks in another directory", setup: steps(textFiles("src", 117, 5), links("src"), brokenLink("src")), args: argv("-C", "--color=auto", "src")},
			{desc: "300 files, absolute path", setup: textFiles("ext/many", 118, 300), args: argv("-C", "--color=auto", "@ext/many")},
			{desc: "missing directory (error path)", args: argv("-C", "--color=auto", "gone"), failing: true},
		}},
		{name: "bc-tty", bin: "/usr/bin/bc", pkg: "bc", tty: true, inputs: []input{
			{desc: "pi, then typed lines", setup: text("calc.bc", "scale=20; 4*a(1)\n"), args: argv("-ql", "calc.bc"), typed: "2^64\nquit\n"},
			{desc: "a function library in another directory", setup: text("lib/fact.bc", "define f(n) { if (n < 2) return 1; return n * f(n-1); }\nf(30)\n"), args: argv("-ql", "lib/fact.bc"), typed: "f(10)\nquit\n"},
			{desc: "absolute path", setup: text("ext/s.bc", "scale=5; sqrt(2)\n"), args: argv("-ql", "@ext/s.bc"), typed: "s(1)\nquit\n"},
			{desc: "a syntax error (error path)", setup: text("bad.bc", "1 +* 2\n"), args: argv("-ql", "bad.bc"), typed: "quit\n", failing: true},
		}},
		{name: "script", bin: "/usr/bin/script", pkg: "bsdutils", inputs: []input{
			{desc: "a command on a new terminal", setup: file("in.txt", words(119, 100)), args: argv("-q", "-e", "-c", "wc -l in.txt", "typescript")},
			{desc: "another file, the log in another directory", setup: steps(file("data/x.txt", words(120, 1000)), mkdir("logs")), args: argv("-q", "-e", "-c", "wc -l data/x.txt", "logs/session.log")},
			{desc: "absolute paths", setup: steps(file("ext/w.txt", words(121, 10)), mkdir("ext/log")), args: argv("-q", "-e", "-c", "wc -l {root}/ext/w.txt", "@ext/log/s.log")},
			{desc: "the command fails (exit 1)", args: argv("-q", "-e", "-c", "wc -l gone.txt", "typescript")},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: steps(secretLink("data/x.txt"), mkdir("logs")), args: argv("-q", "-e", "-c", "cat data/x.txt", "logs/session.log")},
		}},

		// Pipelines.
		{name: "sh-pipeline", bin: "/usr/bin/dash", pkg: "dash", inputs: []input{
			{desc: "2000 lines", setup: file("words.txt", words(122, 2000)), args: argv("-c", shTop, "sh", "words.txt")},
			{desc: "a log in another directory", setup: file("logs/app.log", words(123, 20_000)), args: argv("-c", shTop, "sh", "logs/app.log")},
			{desc: "absolute path", setup: file("ext/w.txt", words(124, 10)), args: argv("-c", shTop, "sh", "@ext/w.txt")},
			{desc: "empty", setup: file("e.txt", nil), args: argv("-c", shTop, "sh", "e.txt")},
			{desc: "missing file (error path)", args: argv("-c", shTop, "sh", "gone.txt"), failing: true},
		}, reach: []input{
			{desc: "the input is a symlink to the secret", setup: secretLink("logs/app.log"), args: argv("-c", shTop, "sh", "logs/app.log")},
		}},
		{name: "bash-unpack", bin: "/usr/bin/bash", pkg: "bash", inputs: []input{
			{desc: "a gzip log", setup: gzipFile("app.log.gz", words(125, 2000)), args: argv("-c", bashTail, "bash", "app.log.gz")},
			{desc: "an xz log in another directory", setup: xzFile("logs/old/app.log.xz", words(126, 2000)), args: argv("-c", bashTail, "bash", "logs/old/app.log.xz")},
			{desc: "a plain log, absolute path", setup: file("ext/app.log", words(127, 100)), args: argv("-c", bashTail, "bash", "@ext/app.log")},
			{desc: "missing log (error path)", args: argv("-c", bashTail, "bash", "gone.gz"), failing: true},
		}, reach: []input{
			{desc: "the log is a symlink to the secret", setup: secretLink("logs/app.log"), args: argv("-c", bashTail, "bash", "logs/app.log")},
		}},
	}
	return append(jobs, servers(t)...)
}

// compressor is the job of gzip, xz or bzip2 -kf: compress a file beside
// itself, keeping it.
func compressor(name, bin string, seed uint64) job {
	return job{name: name, bin: bin, pkg: map[string]string{"gzip": "gzip", "xz": "xz-utils", "bzip2": "bzip2"}[name], inputs: []input{
		{desc: "10 KB text", setup: file("data", words(seed, 1500)), args: argv("-kf", "data")},
		{desc: "3 MB random in another directory", setup: file("in/blob.bin", random(seed+1, 3<<20)), args: argv("-kf", "in/blob.bin")},
		{desc: "empty, absolute path", setup: file("ext/logs/empty.log", nil), args: argv("-kf", "@ext/logs/empty.log")},
		{desc: "200 KB text, a name with spaces", setup: file("my logs/app log.txt", words(seed+2, 30_000)), args: argv("-kf", "my logs/app log.txt")},
		{desc: "missing file (error path)", args: argv("-kf", "gone/data"), failing: true},
	}, reach: []input{
		{desc: "the input is a symlink to the secret", setup: secretLink("in/data"), args: argv("-kf", "in/data")},
	}}
}

const (
	awkProg  = "{ s += $2; n[$1]++; last = $0 } END { print s, length(n), last }"
	sqlJob   = "CREATE TABLE IF NOT EXISTS t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'); SELECT count(*), sum(a) FROM t;"
	jqFilter = "[.items[] | select(.v > 10) | .name] | length"
	shTop    = `sort "$1" | uniq -c | sort -rn | head -n 3`
	bashTail = `case "$1" in *.gz) gzip -dc "$1" ;; *.xz) xz -dc "$1" ;; *) cat "$1" ;; esac | tail -n 2`
)

func gitCommit(repo string) []string {
	return []string{"-c", "user.name=corpus", "-c", "user.email=corpus@example.com", "-C", repo, "commit", "-q", "-am", "change"}
}

func opensslEnc(in, out string) []string {
	return []string{"enc", "-aes-256-cbc", "-pbkdf2", "-pass", "pass:corpus", "-in", in, "-out", out}
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
	return job{name: "python3-threads", bin: "/usr/bin/python3.11", pkg: "python3",
		inputs: []input{{desc: "3 short threads", setup: text("threads.py", script), args: argv("threads.py")}}}
}

// argv builds a command line: "@rel" is rel under the run's directory
// (an absolute path), "{root}" the run's directory, "{port}" its port
// ($PORT where it has none: in reports).
func argv(parts ...string) func(p *place) []string {
	return func(p *place) []string {
		port := fmt.Sprint(p.port)
		if p.port == 0 {
			port = "$PORT"
		}
		out := make([]string, len(parts))
		for i, s := range parts {
			if rel, ok := strings.CutPrefix(s, "@"); ok {
				s = p.at(rel)
			}
			s = strings.ReplaceAll(s, "{root}", p.root)
			out[i] = strings.ReplaceAll(s, "{port}", port)
		}
		return out
	}
}

// steps runs setups in order.
func steps(s ...setup) setup {
	return func(p *place) error {
		for _, f := range s {
			if err := f(p); err != nil {
				return err
			}
		}
		return nil
	}
}

func write(p *place, name string, data []byte) error {
	path := p.at(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// file writes name (under the run's directory) with g's data; nil makes
// it empty.
func file(name string, g gen) setup {
	return func(p *place) error {
		var data []byte
		if g != nil {
			data = g()
		}
		return write(p, name, data)
	}
}

// text writes name with s, "{secret}", "{root}" and "{port}" replaced
// by the run's.
func text(name, s string) setup {
	return func(p *place) error {
		s := strings.NewReplacer("{secret}", p.secret, "{root}", p.root, "{port}", fmt.Sprint(p.port)).Replace(s)
		return write(p, name, []byte(s))
	}
}

func mkdir(names ...string) setup {
	return func(p *place) error {
		for _, n := range names {
			if err := os.MkdirAll(p.at(n), 0o755); err != nil {
				return err
			}
		}
		return nil
	}
}

func remove(name string) setup {
	return func(p *place) error { return os.Remove(p.at(name)) }
}

func copyFile(name, from string) setup {
	return func(p *place) error {
		b, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		return write(p, name, b)
	}
}

// secretLink makes name a symlink to the run's secret: data that points
// the program at a file its command line does not name.
func secretLink(name string) setup {
	return func(p *place) error {
		if err := os.MkdirAll(filepath.Dir(p.at(name)), 0o755); err != nil {
			return err
		}
		return os.Symlink(p.secret, p.at(name))
	}
}

// sums writes an md5sum list of files (paths as given, relative to the
// working directory).
func sums(list string, files ...string) setup {
	return func(p *place) error {
		var b strings.Builder
		for _, f := range files {
			data, err := os.ReadFile(p.at(f))
			if err != nil {
				return err
			}
			sum := md5.Sum(data)
			fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), f)
		}
		return write(p, list, []byte(b.String()))
	}
}

// secretSums writes an md5sum list naming the secret, with its sum.
func secretSums(list string) setup {
	return func(p *place) error {
		data, err := os.ReadFile(p.secret)
		if err != nil {
			return err
		}
		sum := md5.Sum(data)
		return write(p, list, []byte(fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), p.secret)))
	}
}
