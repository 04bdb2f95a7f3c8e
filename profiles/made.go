package profiles

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

// MadeFile is one file in a directory no rule may write as a whole
// ($HOME, /tmp: policy.KeptWhole) that the program may create, replace
// and remove all the same: `sysrec run`'s supervisor does it on the
// program's behalf, for this name only (less's ~/.lesshst, written as
// ~/.lesshsQ and renamed over it; php's mkstemp lock /tmp/.ZendSem.XXXXXX).
// Landlock cannot grant it: making a file is a right on its directory,
// which would reach ~/.bashrc and ~/.ssh/authorized_keys.
type MadeFile struct {
	// Path is a directory, a clean absolute path or an environment
	// template ($HOME, $TMPDIR, $XDG_*, $CWD), then one name. A name
	// ending in MkstempSuffix stands for the names mkstemp(3) makes
	// from it, created only with O_CREAT|O_EXCL.
	Path   string `json:"path"`
	Count  uint64 `json:"count,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// MkstempSuffix ends a made name that stands for mkstemp's: six
// characters of [A-Za-z0-9] in its place.
const MkstempSuffix = "XXXXXX"

// MadeRights are what a made file's name gets: made, removed, read,
// written and truncated, by the supervisor (make_reg, remove_file) and
// by Landlock on the file itself once it exists (the rest).
const MadeRights = linuxabi.LandlockMakeReg | linuxabi.LandlockRemoveFile | madeFileRights

// madeFileRights are the rights a Landlock rule on an existing made
// file grants, so the program reads and rewrites it in place.
const madeFileRights = linuxabi.LandlockReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockTruncate

// Split returns m's directory and name.
func (m MadeFile) Split() (dir, name string) {
	i := strings.LastIndexByte(m.Path, '/')
	if i < 0 {
		return "", m.Path
	}
	dir = m.Path[:i]
	if dir == "" {
		dir = "/"
	}
	return dir, m.Path[i+1:]
}

// Mkstemp reports whether name stands for mkstemp's names.
func Mkstemp(name string) bool {
	return len(name) > len(MkstempSuffix) && strings.HasSuffix(name, MkstempSuffix)
}

// MatchMade reports whether name is one pattern stands for: pattern
// itself, or for a mkstemp pattern its prefix and six letters or digits.
func MatchMade(pattern, name string) bool {
	if !Mkstemp(pattern) {
		return name == pattern
	}
	prefix := strings.TrimSuffix(pattern, MkstempSuffix)
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && MkstempName(rest)
}

// MkstempName reports whether s is six letters or digits: what mkstemp
// puts in place of XXXXXX.
func MkstempName(s string) bool {
	if len(s) != len(MkstempSuffix) {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// NamedFile returns the template of m when its whole path is a file
// the command line names ($OPERANDS[n], $OPT[-o], $ARGn, $WORDS[cmd]):
// a file the recorded run wrote in place, which the next run's may
// name before it exists (touch new.txt after touch a.txt). The
// supervisor then makes exactly that file, in whatever directory it is.
func (m MadeFile) NamedFile() (Template, bool) {
	if !IsTemplate(m.Path) {
		return Template{}, false
	}
	t, err := ParseTemplate(m.Path)
	if err != nil || !t.Named() || t.Var == "ARGS" || t.Rel != "" {
		return Template{}, false
	}
	return t, true
}

// validMade checks made entry i.
func validMade(i int, m MadeFile) error {
	field := fmt.Sprintf("filesystem.made[%d].path", i)
	if _, ok := m.NamedFile(); ok {
		return nil
	}
	dir, name := m.Split()
	switch {
	case dir == "":
		return &fieldError{field, fmt.Errorf("%q is no directory and name", m.Path)}
	case name == "" || name == "." || name == ".." || strings.ContainsRune(name, 0):
		return &fieldError{field, fmt.Errorf("%q: %q is not a file name", m.Path, name)}
	case strings.HasSuffix(name, MkstempSuffix) && !Mkstemp(name):
		return &fieldError{field, fmt.Errorf("%q: a mkstemp name needs a prefix before %s", m.Path, MkstempSuffix)}
	case IsTemplate(dir):
		t, err := ParseTemplate(dir)
		if err != nil {
			return &fieldError{field, err}
		}
		if t.Var != "CWD" && !slices.Contains(EnvVars(), t.Var) {
			return &fieldError{field, fmt.Errorf("%q: a made file's directory is a path, $CWD or an environment variable ($HOME, $TMPDIR...), not $%s", m.Path, t.Var)}
		}
		// As it would be in any home (/root stands for one): $CWD and
		// $TMPDIR may be one as well as $HOME.
		if policy.LoginFile(path.Join("/root", t.Rel, name)) {
			return &fieldError{field, fmt.Errorf("%q: a file a shell or login reads is never made on a program's behalf", m.Path)}
		}
	case !path.IsAbs(dir) || path.Clean(dir) != dir:
		return &fieldError{field, fmt.Errorf("%q: %q is not a clean absolute directory", m.Path, dir)}
	case dir == "/" || policy.SystemTree(dir):
		return &fieldError{field, fmt.Errorf("%q: never made in / or a system tree", m.Path)}
	case policy.LoginFile(m.Path):
		return &fieldError{field, fmt.Errorf("%q: a file a shell or login reads is never made on a program's behalf", m.Path)}
	}
	return nil
}

// HasMade reports whether p names made files: running it needs the
// supervisor that makes them.
func (p *Profile) HasMade() bool {
	return p.Filesystem != nil && len(p.Filesystem.Made) > 0
}

// instantiateMade replaces the directory templates of c's made files
// with what they name in inv, and drops, with a warning, those that name
// nothing or a file sysrec never makes (policy.LoginFile, a system tree):
// an environment whose $HOME is / or /etc makes nothing there.
func (c *Profile) instantiateMade(inv Invocation) []string {
	fs := c.Filesystem
	if fs == nil || len(fs.Made) == 0 {
		return nil
	}
	var warnings []string
	var out []MadeFile
	for _, m := range fs.Made {
		// The files m stands for in inv: the paths a named file's
		// template gives, or its name in its directory's one.
		var fulls []string
		t, named := m.NamedFile()
		if named {
			var why string
			if fulls, why = t.expand(inv); len(fulls) == 0 {
				warnings = append(warnings, fmt.Sprintf("made file %s: %s; nothing is made", m.Path, why))
			}
		} else {
			dir, name := m.Split()
			if IsTemplate(dir) {
				t, err := ParseTemplate(dir)
				if err != nil {
					continue // validated
				}
				paths, why := t.expand(inv)
				if len(paths) != 1 {
					warnings = append(warnings, fmt.Sprintf("made file %s: %s; nothing is made", m.Path, why))
					continue
				}
				dir = paths[0]
			}
			fulls = []string{path.Join(dir, name)}
		}
		for _, full := range fulls {
			switch d := path.Dir(full); {
			case d == "/" || policy.SystemTree(d) || policy.LoginFile(full):
				warnings = append(warnings, fmt.Sprintf("made file %s (%s): a login file, or in / or a system tree; nothing is made", m.Path, full))
				continue
			case named && Mkstemp(path.Base(full)):
				// A made name ending in XXXXXX stands for every name
				// mkstemp makes of it: the command line named one.
				warnings = append(warnings, fmt.Sprintf("made file %s (%s): a name ending in %s stands for mkstemp's names; nothing is made", m.Path, full, MkstempSuffix))
				continue
			}
			n := m
			n.Path = full
			out = append(out, n)
		}
	}
	fs.Made = out
	return warnings
}

// madeRules are the Landlock rules p's made files (instantiated) need on
// the files themselves: an existing one is read and rewritten in place
// (less reads ~/.lesshst before it replaces it). Optional: a file that
// is not there yet needs none; regular only: a directory there would
// take the rights to every file beneath it.
func (p *Profile) madeRules() []linuxabi.LandlockPath {
	var out []linuxabi.LandlockPath
	for _, m := range p.Filesystem.Made {
		if _, name := m.Split(); IsTemplate(m.Path) || Mkstemp(name) {
			continue
		}
		out = append(out, linuxabi.LandlockPath{Path: m.Path, Access: madeFileRights, Optional: true, RegularOnly: true})
	}
	return out
}

// Made reports whether p (instantiated) makes the file at abs, an
// absolute path.
func (p *Profile) Made(abs string) bool {
	if p.Filesystem == nil {
		return false
	}
	for _, m := range p.Filesystem.Made {
		dir, name := m.Split()
		if path.Dir(abs) == dir && MatchMade(name, path.Base(abs)) {
			return true
		}
	}
	return false
}

// normalizeMade sorts made files by path, one entry per path.
func normalizeMade(fs *Filesystem) {
	if len(fs.Made) == 0 {
		fs.Made = nil
		return
	}
	slices.SortStableFunc(fs.Made, func(a, b MadeFile) int { return strings.Compare(a.Path, b.Path) })
	out := fs.Made[:1]
	for _, m := range fs.Made[1:] {
		if last := &out[len(out)-1]; last.Path == m.Path {
			last.Count += m.Count
			if last.Reason == "" {
				last.Reason = m.Reason
			}
			continue
		}
		out = append(out, m)
	}
	fs.Made = out
}

// diffMade lists the made files nw has and o does not: each lets the
// program create and replace one more named file (ordinary tier: one
// file, never one a shell or login reads).
func diffMade(o, nw *Filesystem) []string {
	var out []string
	for _, m := range nw.Made {
		if !slices.ContainsFunc(o.Made, func(x MadeFile) bool { return x.Path == m.Path }) {
			out = append(out, fmt.Sprintf("+ made %s (ordinary: sysrec's supervisor creates, replaces and removes this one file for the program)", Printable(m.Path)))
		}
	}
	return out
}

// formatMade prints the made files for show.
func formatMade(b *strings.Builder, fs *Filesystem) {
	if len(fs.Made) == 0 {
		return
	}
	b.WriteString("made by sysrec's supervisor on the program's behalf (run), in directories no rule writes as a whole:\n")
	for _, m := range fs.Made {
		fmt.Fprintf(b, "  %-40s", Printable(m.Path))
		if m.Reason != "" {
			fmt.Fprintf(b, "  (%s)", m.Reason)
		}
		b.WriteString("\n")
	}
}

// restrictSelf is the call by which a process adds a Landlock domain of
// its own: the supervisor acts outside every domain and cannot see one,
// so it stops making files, or opening comm files, once a process of
// the target makes it.
const restrictSelf = "landlock_restrict_self"

// threadCalls are the calls that may open a thread's comm file.
var threadCalls = map[string]bool{"open": true, "openat": true, "openat2": true}

// madeCalls are the calls that make, replace or remove a file by name,
// with the index of their open flags (-1: every call of it may).
var madeCalls = map[string]int{
	"open": 1, "openat": 2, "creat": -1, "openat2": -1,
	"rename": -1, "renameat": -1, "renameat2": -1, "unlink": -1, "unlinkat": -1,
}

// Making returns p, a view to compile (no phases: Union or Supervised),
// with the calls that may make a made file sent to run's supervisor,
// among those p allows only: each allowed entry of open and openat gets
// a copy before it that matches O_CREAT and notifies, and the allowed
// entries of creat, openat2, rename, renameat, renameat2, unlink and
// unlinkat notify. Every other call, and every call p does not allow,
// is decided by the kernel as in p: the supervisor sees only calls p
// would have run, and answers those it does not make a file for by
// letting them continue under Landlock, which refuses what its rules do
// not grant. With thread names (threadnames.go), each allowed entry of
// open and openat also gets a copy that matches an open for writing, and
// openat2 notifies. Without either it is p.
func (p *Profile) Making() *Profile {
	made, threads := p.HasMade(), p.HasThreadNames()
	if !made && !threads {
		return p
	}
	c := p.Clone()
	var out []Syscall
	for _, s := range c.Syscalls {
		rs := routes(s.Name, made, threads)
		if len(rs) == 0 || s.EffectiveAction().Kind != Allow {
			out = append(out, s)
			continue
		}
		whole := false
		for _, r := range rs {
			n := s
			n.Action = Action{Kind: UserNotif}
			n.Count, n.Errors, n.Seen, n.Runs = 0, nil, nil, 0
			n.Reason = r.reason
			if r.arg != nil {
				n.Args = append(slices.Clone(s.Args), *r.arg)
			}
			whole = whole || r.arg == nil
			out = append(out, n)
		}
		if !whole {
			out = append(out, s)
		}
	}
	if c.DefaultAction.Kind == Allow {
		// Every call is allowed: those sent to the supervisor go after
		// the entries, as Decide reads them.
		for _, name := range append([]string{restrictSelf}, slices.Sorted(maps.Keys(madeCalls))...) {
			for _, r := range routes(name, made, threads) {
				n := Syscall{Name: name, Action: Action{Kind: UserNotif}, Reason: r.reason}
				if r.arg != nil {
					n.Args = []ArgRule{*r.arg}
				}
				out = append(out, n)
			}
		}
	}
	c.Syscalls = out
	return c
}

// route is when a call goes to run's supervisor: when its arguments
// also match arg, or always (nil).
type route struct {
	arg    *ArgRule
	reason string
}

// routes are the routes of the calls of name for a profile with made
// files (made) or thread names (threads): an open that may create
// (O_CREAT), or open for writing (a comm file), or the whole call when
// its flags are out of reach (openat2) or it always may (creat, the
// renames and unlinks; landlock_restrict_self, which ends the
// supervisor's making).
func routes(name string, made, threads bool) []route {
	if name == restrictSelf {
		return []route{{reason: "made files: a further Landlock domain ends the supervisor's making"}}
	}
	idx, ok := madeCalls[name]
	if !ok {
		return nil
	}
	var out []route
	if made {
		r := route{reason: "made files: sent to run's supervisor"}
		if idx >= 0 {
			r.arg = &ArgRule{Index: idx, Op: OpIn, Mask: linuxabi.OCreat, Values: []uint64{linuxabi.OCreat}}
		}
		out = append(out, r)
	}
	if threads && threadCalls[name] && (idx >= 0 || !made) {
		// Opened for writing, as a comm file is: the supervisor opens a
		// thread's for it (threadnames.go).
		r := route{reason: "thread names: sent to run's supervisor"}
		if idx >= 0 {
			r.arg = &ArgRule{Index: idx, Op: OpIn, Mask: 3, Values: []uint64{1, 2}}
		}
		out = append(out, r)
	}
	return out
}

// Unmade is refused (RefusedFiles of p's ruleset) without the rights
// p's made files (instantiated) get from run's supervisor: making,
// removing, reading, writing and truncating those names is no
// violation.
func (p *Profile) Unmade(refused []FileAccess) []FileAccess {
	if !p.HasMade() && !p.HasThreadNames() {
		return refused
	}
	var out []FileAccess
	for _, f := range refused {
		if _, _, ok := ThreadComm(f.Path); ok && p.HasThreadNames() {
			if f.Access &^= linuxabi.LandlockReadFile | linuxabi.LandlockWriteFile; f.Access == 0 {
				continue
			}
		}
		if p.Made(f.Path) {
			if f.Access &^= MadeRights; f.Access == 0 {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// serves reports whether made file m, of a section reduced from a
// run's files, is what one of refused needs: a made name in its
// directory (a template directory stands for the run's own).
func (m MadeFile) serves(refused []FileAccess) bool {
	dir, name := m.Split()
	return slices.ContainsFunc(refused, func(f FileAccess) bool {
		return f.Access&MadeRights != 0 && MatchMade(name, path.Base(f.Path)) && (IsTemplate(dir) || dir == path.Dir(f.Path))
	})
}
