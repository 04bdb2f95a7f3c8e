package recorder

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/reducer"
)

// heldOut is one job: a recorded run, runs of the same job on other
// inputs that should pass under the profile learned from it, and runs
// of the same program reaching elsewhere that should be refused.
type heldOut struct {
	name   string
	needs  string // a tool the job needs
	train  string // sh script; $1 is a scratch directory
	pass   []string
	refuse []string
}

var heldOutJobs = []heldOut{
	{name: "cat a licence", needs: "cat",
		train:  `cat /usr/share/common-licenses/GPL-3 > /dev/null`,
		pass:   []string{`cat /usr/share/common-licenses/Apache-2.0 > /dev/null`, `cat /usr/share/common-licenses/BSD > /dev/null`},
		refuse: []string{`cat /etc/shadow > /dev/null`, `cat /root/.bashrc > /dev/null`}},
	{name: "python import", needs: "python3",
		train:  `python3 -c 'import json'`,
		pass:   []string{`python3 -c 'import csv'`, `python3 -c 'import argparse'`, `python3 -c 'import email.mime.text'`, `python3 -c 'import json; print(json.dumps([1]))'`},
		refuse: []string{`python3 -c 'open("/etc/shadow").read()'`, `python3 -c 'open("'"$1"'/x", "w")'`}},
	{name: "ls -R a doc dir", needs: "ls",
		train:  `ls -R /usr/share/doc/bash > /dev/null`,
		pass:   []string{`ls -R /usr/share/doc/coreutils > /dev/null`, `ls /usr/share/doc > /dev/null`},
		refuse: []string{`ls /root > /dev/null`, `ls /etc > /dev/null`}},
	{name: "date in a zone", needs: "date",
		train: `test "$(TZ=Europe/Paris date +%Z)" = CET -o "$(TZ=Europe/Paris date +%Z)" = CEST`,
		// Without the zone file date falls back to UTC and still exits 0.
		pass: []string{`test "$(TZ=Asia/Tokyo date +%Z)" = JST`, `test "$(TZ=America/Argentina/Buenos_Aires date +%z)" = -0300`}},
	{name: "gzip inputs into out/", needs: "gzip",
		train:  `gzip -c "$1/in/a" > "$1/out/a.gz"`,
		pass:   []string{`gzip -c "$1/in/b" > "$1/out/b.gz"`, `gzip -c "$1/in/a" > "$1/out/a.gz"`},
		refuse: []string{`gzip -c "$1/in/a" > "$1/elsewhere.gz"`, `gzip -c /etc/shadow > "$1/out/s.gz"`}},
	{name: "tar a dir", needs: "tar",
		train:  `tar -C "$1/in" -cf "$1/out/a.tar" a`,
		pass:   []string{`tar -C "$1/in" -cf "$1/out/b.tar" b`, `tar -C "$1/in" -cf "$1/out/all.tar" .`},
		refuse: []string{`tar -C / -cf "$1/out/e.tar" etc/shadow`, `tar -C "$1/in" -cf "$1/x.tar" a`}},
	{name: "openssl digest", needs: "openssl",
		train:  `openssl sha256 "$1/in/a" > /dev/null`,
		pass:   []string{`openssl sha256 "$1/in/b" > /dev/null`, `openssl sha1 "$1/in/c" > /dev/null`},
		refuse: []string{`openssl sha256 /etc/shadow > /dev/null`}},
	{name: "perl modules", needs: "perl",
		train: `perl -e 'use POSIX; print floor(1.5)' > /dev/null`,
		pass:  []string{`perl -e 'use File::Temp; 1' > /dev/null`, `perl -e 'use Data::Dumper; print Dumper(1)' > /dev/null`}},
	{name: "mktemp -d work", needs: "mktemp",
		train:  `T=$(mktemp -d "$1/work/job.XXXXXX") && echo hi > "$T/x" && sort "$T/x" > "$T/y" && rm -r "$T"`,
		pass:   []string{`T=$(mktemp -d "$1/work/job.XXXXXX") && echo hi > "$T/x" && sort "$T/x" > "$T/y" && rm -r "$T"`},
		refuse: []string{`echo hi > "$1/x"`, `mkdir "$1/d"`}},
	{name: "git log", needs: "git",
		train:  `cd "$1/repo" && git log --oneline > /dev/null`,
		pass:   []string{`cd "$1/repo" && git log -p > /dev/null`, `cd "$1/repo" && git show HEAD > /dev/null`},
		refuse: []string{`cd "$1/repo" && git log > "$1/x"`}},
}

// TestFilesHeldOut measures the filesystem levels on held-out runs: for
// each job, the profile learned from one recorded run at each level, the
// share of other runs of the job it lets through and of reaching runs it
// refuses. Slow; runs with SYSREC_FS_HELDOUT=1 (make bench).
func TestFilesHeldOut(t *testing.T) {
	if os.Getenv("SYSREC_FS_HELDOUT") != "1" {
		t.Skip("a measurement: SYSREC_FS_HELDOUT=1 runs it")
	}
	testenv.RequireRoot(t)
	// Each held-out run runs twice: with the recorded scratch directory
	// and with another one (the same job on inputs elsewhere: the
	// command line names other paths).
	type score struct{ pass, passN, refuse, refuseN, moved, movedN, movedRefuse, movedRefuseN, rules int }
	total := map[reducer.FSLevel]*score{}
	for _, l := range reducer.FSLevels {
		total[l] = &score{}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%-24s %-6s %6s %8s %7s %8s %7s\n", "job", "level", "rules", "held-out", "refused", "moved", "refused")
	for _, job := range heldOutJobs {
		if _, err := exec.LookPath(job.needs); err != nil {
			t.Logf("%s: no %s, skipped", job.name, job.needs)
			continue
		}
		dir, moved := heldOutDir(t), heldOutDir(t)
		argv := []string{"sh", "-c", job.train, "sh", dir}
		rec := recordFiles(t, fileMaxDepth, argv...)
		// As sysrec record keeps them: the command line and environment
		// the templates are recognised from.
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		rec.Command, rec.Dir, rec.Env = argv, wd, os.Environ()
		for _, level := range reducer.FSLevels {
			p := landlockProfile(t, []*Recording{rec}, level)
			s := score{rules: len(p.Filesystem.Rules)}
			for _, d := range []string{dir, moved} {
				pass, passN, refuse, refuseN := &s.pass, &s.passN, &s.refuse, &s.refuseN
				if d == moved {
					pass, passN, refuse, refuseN = &s.moved, &s.movedN, &s.movedRefuse, &s.movedRefuseN
				}
				for _, run := range job.pass {
					*passN++
					if st, out := runLandlocked(t, p, "sh", "-c", run, "sh", d); st == 0 && !denied(out) {
						*pass++
					} else {
						t.Logf("%s/%s: held-out %q in %s refused: %s", job.name, level, run, d, firstLine(out))
					}
				}
				for _, run := range job.refuse {
					*refuseN++
					if st, out := runLandlocked(t, p, "sh", "-c", run, "sh", d); st != 0 && denied(out) {
						*refuse++
					} else {
						t.Logf("%s/%s: reaching run %q in %s allowed (exit %d)", job.name, level, run, d, st)
					}
				}
			}
			fmt.Fprintf(&report, "%-24s %-6s %6d %5d/%-2d %5d/%-2d %5d/%-2d %5d/%-2d\n", job.name, level, s.rules, s.pass, s.passN, s.refuse, s.refuseN, s.moved, s.movedN, s.movedRefuse, s.movedRefuseN)
			tt := total[level]
			tt.pass += s.pass
			tt.passN += s.passN
			tt.refuse += s.refuse
			tt.refuseN += s.refuseN
			tt.moved += s.moved
			tt.movedN += s.movedN
			tt.movedRefuse += s.movedRefuse
			tt.movedRefuseN += s.movedRefuseN
			tt.rules += s.rules
		}
	}
	for _, l := range reducer.FSLevels {
		s := total[l]
		fmt.Fprintf(&report, "%-24s %-6s %6d %5d/%-2d %5d/%-2d %5d/%-2d %5d/%-2d\n", "total", l, s.rules, s.pass, s.passN, s.refuse, s.refuseN, s.moved, s.movedN, s.movedRefuse, s.movedRefuseN)
	}
	t.Logf("\n%s", report.String())
	if s := total[reducer.DefaultFSLevel]; s.refuse != s.refuseN || s.movedRefuse != s.movedRefuseN {
		t.Errorf("default level %s let %d reaching runs through", reducer.DefaultFSLevel, s.refuseN-s.refuse+s.movedRefuseN-s.movedRefuse)
	}
}

// heldOutDir is a scratch directory with inputs in in/, an empty out/
// and work/, and a small git repository.
func heldOutDir(t *testing.T) string {
	dir := realPath(t, t.TempDir())
	for _, d := range []string{"in", "out", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, "in", f), []byte(strings.Repeat(f, 1000*(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := exec.LookPath("git"); err == nil {
		repo := filepath.Join(dir, "repo")
		script := `git init -q "$1" && cd "$1" && echo a > a && git add a && git -c user.email=t@t -c user.name=t commit -qm one && echo b >> a && git -c user.email=t@t -c user.name=t commit -qam two`
		if out, err := exec.Command("sh", "-c", script, "sh", repo).CombinedOutput(); err != nil {
			t.Fatalf("git: %v\n%s", err, out)
		}
	}
	return dir
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
