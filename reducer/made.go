package reducer

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// madeDir says whether d is a directory kept whole where a file the
// target made may be a made file (profiles.MadeFile), and how a made
// path there is written: $HOME for the target's home, the path itself
// for another home or /tmp. Other directories kept whole (/, /etc,
// ~/.ssh, ~/.config...) never get one.
func (b *fsBuilder) madeDir(d string) (string, bool) {
	switch {
	case b.home != "" && d == path.Clean(b.home):
		return "$HOME", true
	case d == "/tmp", slices.Contains(policy.Homes(d, b.home), d):
		return d, true
	}
	return "", false
}

// makes records f, at p in directory d, as a made file when it is one:
// a regular file the target made in a directory kept whole that may
// hold made files (madeDir), not a file a shell or login reads
// (policy.LoginFile), used with no right beyond profiles.MadeRights (made as a directory or
// a symlink, moved across directories, executed: it stays withheld). Such a file
// keeps its name from run to run (a program's state: ~/.lesshst,
// ~/.python_history), unless it is scratch: made and removed in the
// run, its name ending in six letters or digits (mkstemp's), and not a
// temporary name of another name made there (they differ in the last
// character only: less writes ~/.lesshsQ to replace ~/.lesshst). A
// scratch name stands for mkstemp's (PREFIXXXXXXX).
func (b *fsBuilder) makes(d, p string, f *profiles.FileAccess) bool {
	if f.Access&llMakeReg == 0 || f.Access&^profiles.MadeRights != 0 || !b.noWrite(d) || policy.LoginFile(p) {
		return false
	}
	at, ok := b.madeDir(d)
	if !ok {
		return false
	}
	name := path.Base(p)
	why := "a file of the program's own in a directory no rule writes as a whole: made, replaced and removed by sysrec's supervisor for it, by this name only"
	// A prefix of "." alone would stand for every seven-character
	// dotfile (.zshenv, and any a later program trusts): such a name
	// stays exact.
	if n := len(name) - len(profiles.MkstempSuffix); n > 0 && name[:n] != "." && f.Access&linuxabi.LandlockRemoveFile != 0 && profiles.MkstempName(name[n:]) && !b.tempOf(d, p) {
		name = name[:n] + profiles.MkstempSuffix
		why = fmt.Sprintf("a scratch file made and removed in %s (%s), its name ending in six letters or digits: mkstemp's names, made by sysrec's supervisor with O_EXCL and removed only if it made them", d, path.Base(p))
	}
	mp := at + "/" + name
	if _, ok := b.made[mp]; !ok {
		b.madeWhy[mp] = why
	}
	b.made[mp] += f.Count
	return true
}

// tempOf reports whether p is a temporary name of another regular file
// made in its directory d: the same name but its last character.
func (b *fsBuilder) tempOf(d, p string) bool {
	stem := p[:len(p)-1]
	for q, g := range b.seen {
		if q != p && len(q) == len(p) && strings.HasPrefix(q, stem) && path.Dir(q) == d && g.Access&llMakeReg != 0 {
			return true
		}
	}
	return false
}

// made2profile lists the made files, by path.
func (b *fsBuilder) made2profile() []profiles.MadeFile {
	var out []profiles.MadeFile
	for _, mp := range slices.Sorted(maps.Keys(b.made)) {
		out = append(out, profiles.MadeFile{Path: mp, Count: b.made[mp], Reason: b.madeWhy[mp]})
	}
	return out
}

// namedWrite makes the file rule r is on a made file when the command
// line names it (t: $OPERANDS[n], $OPT[-o], $ARGn, $WORDS[cmd]) and the
// target wrote it in place, there before the run: the next command line
// may name one that is not there yet (touch new.txt, truncate -s 1K
// new.bin, dd of=new after dd of=old, tee -a a new log), and making it is
// a right on its whole directory, which the recording never needed. The
// supervisor makes that one file, wherever it is; the directory gets
// nothing.
func (b *fsBuilder) namedWrite(r profiles.PathRule, t profiles.Template) {
	m := profiles.MadeFile{Path: t.String()}
	if _, ok := m.NamedFile(); !ok || t.Var == "ARG" && t.Key != "" {
		return
	}
	access, _ := linuxabi.ParseLandlockFS(r.Access)
	f := b.seen[r.Path]
	if access&(linuxabi.LandlockWriteFile|linuxabi.LandlockTruncate) == 0 || f == nil || f.Access&llMake != 0 {
		return
	}
	if _, ok := b.made[m.Path]; !ok {
		b.madeWhy[m.Path] = "a file the command line names, written in place: if the next run's is not there yet, sysrec's supervisor makes exactly it (a right to make files is a right on the whole directory)"
	}
	b.made[m.Path] += r.Count
}
