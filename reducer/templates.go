package reducer

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// params are what a recording's command line and environment named:
// a rule on one of them, or under one, becomes a template that the next
// run's command line and environment instantiate (profiles.Template).
type params struct {
	inv profiles.Invocation
	// args are the paths the arguments name, by argument number (""
	// for an argument that names none, or names a system file: those
	// are the same next run).
	args []string
	// outputs are the arguments the recording wrote through: it wrote,
	// truncated, created or removed the path, or created files whose
	// names the path begins (split's "parts/p-" makes parts/p-aa). The
	// directory of an output is where the job writes; the directory of
	// an input is not.
	outputs []bool
	// written are the paths the recording wrote, truncated or made;
	// read, those it used and did not.
	written, read map[string]bool
	// siblings are the arguments the recording made a file beside
	// named after them (madeSibling): inputs whose directory is an
	// output's.
	siblings []bool
	// wordOps are the paths the command strings of the command line
	// give a command (or an output redirection) as operands, by key:
	// what $WORDS[key] stands for (wordTemplates).
	wordOps []wordOp
	// words are the paths the words of an argument of several words
	// name (script -c "wc -l data/x.txt") that the recording used: $ARGS
	// reads them next run.
	words map[string]bool
	// vars are the environment's values that lead to the target's own
	// files, most specific first: $XDG_* and $TMPDIR only where the
	// environment set them (the evidence that the program found its
	// files through them), $HOME, and the working directory.
	vars []envParam
}

type envParam struct{ name, value string }

// newParams reads the parameters of inv from what the recording used
// (seen): an argument is a path parameter when the recording used that
// path, something under it, or created files it is the prefix of (an
// argument such as tar's "czf" names no path, though it could be one).
func newParams(inv profiles.Invocation, seen map[string]*profiles.FileAccess) *params {
	ps := &params{inv: inv, args: make([]string, len(inv.Args)), outputs: make([]bool, len(inv.Args)), siblings: make([]bool, len(inv.Args)), words: map[string]bool{}, written: map[string]bool{}, read: map[string]bool{}}
	for p, f := range seen {
		if f.Access&(linuxabi.LandlockWriteFile|linuxabi.LandlockTruncate|llMake) != 0 {
			ps.written[p] = true
		} else {
			ps.read[p] = true
		}
	}
	ps.wordOps = ps.commandOperands()
	if inv.Dir == "" {
		// Not started by sysrec (a container, a process followed): the
		// command line's context is unknown, and its paths may be
		// another mount namespace's.
		return ps
	}
	paths := make([]string, len(inv.Args))
	named := map[string]bool{}
	for n := 1; n < len(inv.Args); n++ {
		p, ok := profiles.ArgPath(inv.Args[n], inv.Dir)
		if to, link := inv.Links[p]; link {
			// The recorder saw the object, not the link to it.
			p = to
		}
		if ok && !policy.SystemTree(p) {
			paths[n], named[p] = p, true
		}
	}
	for n, p := range paths {
		if p == "" {
			continue
		}
		if used, wrote := argUse(p, seen, named); used {
			sib := madeSibling(p, seen, named)
			// An input made into a file beside it is an output's
			// directory too.
			ps.args[n], ps.outputs[n], ps.siblings[n] = p, wrote || seen[p] != nil && sib, sib
		}
	}
	for _, a := range inv.Args[min(1, len(inv.Args)):] {
		for _, p := range profiles.WordPaths(a, inv.Dir) {
			if f := seen[p]; f != nil && !policy.SystemTree(p) {
				ps.words[p] = true
			}
		}
	}
	for _, name := range append(profiles.EnvVars(), "CWD") {
		if set, ok := inv.Getenv(name); name != "HOME" && name != "CWD" && (!ok || set == "") {
			continue
		}
		if v := inv.Var(name); v != "" && v != "/" && !policy.SystemTree(v) {
			ps.vars = append(ps.vars, envParam{name, v})
		}
	}
	// Longest first: $XDG_CACHE_HOME/app, not $HOME/.cache/app.
	slices.SortStableFunc(ps.vars, func(a, b envParam) int { return len(b.value) - len(a.value) })
	return ps
}

// argUse reports whether the recording used p or something under it,
// and whether it wrote through p: wrote, truncated, created or removed
// p, or created a file in p's directory whose name p's name begins (an
// output prefix, as split's; p itself is never made then) and that no
// argument names itself (named): 7zz a arch.7z makes arch.7z, argument
// 2's, not a file with the prefix of argument 1, the command "a".
func argUse(p string, seen map[string]*profiles.FileAccess, named map[string]bool) (used, wrote bool) {
	if f := seen[p]; f != nil {
		return true, f.Access&(linuxabi.LandlockWriteFile|linuxabi.LandlockTruncate|llParent) != 0
	}
	for q, f := range seen {
		switch {
		case strings.HasPrefix(q, p+"/"):
			used = true
		case path.Dir(q) == path.Dir(p) && strings.HasPrefix(path.Base(q), path.Base(p)) && f.Access&llMake != 0 && !named[q]:
			return true, true
		}
	}
	return used, false
}

// madeSibling reports whether the recording made, beside input p, a
// file whose name is p's with a suffix added or an extension taken off
// (gzip -k a.txt makes a.txt.gz, bzip2 -dk a.txt.bz2 makes a.txt, xz and
// zstd alike) that no argument names: the program writes beside its
// input, wherever the next command line puts it, not in the working
// directory it happened to share (gzip -k /data/c.txt makes
// /data/c.txt.gz).
func madeSibling(p string, seen map[string]*profiles.FileAccess, named map[string]bool) bool {
	dir, base := path.Split(p)
	stem := strings.TrimSuffix(base, path.Ext(base))
	for q, f := range seen {
		if f.Access&llMake == 0 || named[q] || path.Dir(q)+"/" != dir {
			continue
		}
		b := path.Base(q)
		if b != base && (strings.HasPrefix(b, base+".") || stem != "" && stem != base && b == stem) {
			return true
		}
	}
	return false
}

// argT is the template of argument n's path: the value of the option
// before it ($OPT[-F] for "-F out.cpio", $OPT[--output] for
// "--output=x"), which the next command line may move by adding options
// before it; the operands ending the command line from n on
// ($OPERANDS[n]) for its last argument, which the next may move by
// adding or dropping options before it (tidy -config f.cfg -o o.html
// in.html after tidy -o o.html in.html) or follow with more files
// (sed -i s/a/b/ x y after sed -i s/a/b/ x); or else argument n ($ARGn).
func (ps *params) argT(n int) profiles.Template {
	a := ps.inv.Args[n]
	if key, _, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") && profiles.ValidOption(key) {
		return profiles.Template{Var: "OPT", Option: key, Arg: n}
	}
	if n >= 2 && profiles.ValidOption(ps.inv.Args[n-1]) {
		return profiles.Template{Var: "OPT", Option: ps.inv.Args[n-1], Arg: n}
	}
	if ops := profiles.TrailingOperands(ps.inv.Args, n); len(ops) > 0 && ops[0] == n {
		return profiles.Template{Var: "OPERANDS", Arg: n}
	}
	return profiles.Template{Var: "ARG", Arg: n}
}

// named returns the first argument that names p, or 0.
func (ps *params) named(p string) int {
	for n, a := range ps.args {
		if a != "" && a == p {
			return n
		}
	}
	return 0
}

// namedAbove returns the nearest directory above p that an argument
// names, and the argument, or 0 when none does. Directories shared by
// many owners (/, /tmp, $HOME, ...) do not count: a command line that
// names $HOME does not make everything in it a parameter.
func (ps *params) namedAbove(p string) (string, int) {
	best, bestN := "", 0
	for n, a := range ps.args {
		if a == "" || !strings.HasPrefix(p, a+"/") || len(a) <= len(best) || policy.Shared(a, ps.inv.Var("HOME")) {
			continue
		}
		best, bestN = a, n
	}
	return best, bestN
}

// template is the template a rule on p with access stands for, with
// the variable it comes from (rules on one variable may cover one
// another, as rules on paths do), or ok false for a constant. Only a
// template that instantiates, from the recording's own command line and
// environment, back to p with every right is chosen: recognition and
// instantiation agree on what a template may grant.
func (ps *params) template(p string, access uint64) (t profiles.Template, base string, ok bool) {
	if devPTS.MatchString(p) {
		return profiles.Template{Var: "TTY"}, "TTY", true
	}
	var cands []profiles.Template
	for n, a := range ps.args {
		if a == p {
			cands = append(cands, ps.argT(n))
		}
	}
	if ps.words[p] && access&^llRead == 0 {
		cands = append(cands, profiles.Template{Var: "ARGS"})
	}
	if slices.Contains(ps.inv.Programs, p) && access&linuxabi.LandlockExecute != 0 && access&^(linuxabi.LandlockExecute|linuxabi.LandlockReadFile) == 0 {
		cands = append(cands, profiles.Template{Var: "PROGS"})
	}
	// Writes in the directory of an output, reads in that of an input:
	// gcc -c prog.c -o prog.o makes its object beside argument 4,
	// whatever directory argument 2 is in next run, and python3
	// load.py in.csv out.db lists the script's directory, not the
	// database's (rules2profile splits a rule with both).
	writes := access&^llRead != 0
	var parents []profiles.Template
	output := false
	for n, a := range ps.args {
		if a != "" && path.Dir(a) == p {
			t := ps.argT(n)
			t.Parent = true
			parents = append(parents, t)
			output = output || ps.outputs[n]
		}
	}
	slices.SortStableFunc(parents, func(a, b profiles.Template) int {
		return cmpBool(ps.outputs[b.Arg] == writes, ps.outputs[a.Arg] == writes)
	})
	if access&llParent != 0 && !output && p == ps.inv.Dir {
		// Files made or removed in the working directory beside inputs
		// but no output: the program writes relative to where it runs
		// (a script's "out.json", patch's files), not beside its
		// script or its patch file, which the next run may name
		// elsewhere.
		cands = append(cands, profiles.Template{Var: "CWD"})
	}
	if access&^llRead != 0 {
		// A path a command string names, written: what its command
		// (or redirection) is given next run.
		cands = append(cands, ps.wordTemplates(p)...)
	}
	cands = append(cands, parents...)
	byLen := make([]int, 0, len(ps.args))
	for n := range ps.args {
		byLen = append(byLen, n)
	}
	slices.SortStableFunc(byLen, func(a, b int) int { return len(ps.args[b]) - len(ps.args[a]) })
	for _, n := range byLen {
		if a := ps.args[n]; a != "" && strings.HasPrefix(p, a+"/") && !policy.Shared(a, ps.inv.Var("HOME")) {
			t := ps.argT(n)
			t.Rel = strings.TrimPrefix(p, a+"/")
			cands = append(cands, t)
		}
	}
	// Paths a configuration file the command line names gives (nginx's
	// root, lighttpd's server.errorlog): after the arguments' own,
	// before the environment's.
	for _, n := range slices.Sorted(maps.Keys(ps.inv.Files)) {
		if n >= len(ps.inv.Args) {
			continue
		}
		for _, c := range profiles.ConfigPathLines(ps.inv.Files[n]) {
			v := c.Path
			if v == "/" || policy.SystemTree(v) {
				continue
			}
			switch {
			case p == v:
				cands = append(cands, profiles.Template{Var: "ARG", Arg: n, Key: c.Key})
			case p == path.Dir(v):
				cands = append(cands, profiles.Template{Var: "ARG", Arg: n, Key: c.Key, Parent: true})
			case strings.HasPrefix(p, v+"/"):
				cands = append(cands, profiles.Template{Var: "ARG", Arg: n, Key: c.Key, Rel: strings.TrimPrefix(p, v+"/")})
			}
		}
	}
	for _, v := range ps.vars {
		if p == v.value {
			cands = append(cands, profiles.Template{Var: v.name})
		} else if strings.HasPrefix(p, v.value+"/") {
			cands = append(cands, profiles.Template{Var: v.name, Rel: strings.TrimPrefix(p, v.value+"/")})
		}
	}
	for _, c := range cands {
		if ps.instantiatesTo(c, p, access) {
			// The variable: the template without the path below it.
			v := c
			v.Rel = ""
			return c, strings.TrimPrefix(v.String(), "$"), true
		}
	}
	return profiles.Template{}, "", false
}

type readTemplate struct {
	t      profiles.Template
	access uint64
}

// selfReads returns the templates a directory's own reads (f: its
// listing, not what was made in it) stand for besides t, the template
// its rule got. The directory of several arguments and the working
// directory are one path in the recording and may be apart next run:
//   - a listing beside writes may follow an input's directory instead
//     (python3 load.py in.csv out.db lists the script's directory, not
//     the database's); the writes' rule keeps it, for what was made in
//     it;
//   - the working directory's listing is also $CWD's: programs open "."
//     to come back to it (find, perl -i: gnulib's save_cwd), whatever
//     directory the arguments are in next run.
func (ps *params) selfReads(p string, access []string, f *profiles.FileAccess, t profiles.Template) []readTemplate {
	own, _ := linuxabi.ParseLandlockFS(access)
	if f == nil || f.Access&own&llRead == 0 {
		return nil
	}
	read := f.Access & own & llRead
	var out []readTemplate
	if own&^llRead != 0 {
		if rt, _, ok := ps.template(p, read); ok && rt != t {
			out = append(out, readTemplate{rt, read})
		}
	}
	cwd := profiles.Template{Var: "CWD"}
	if p == ps.inv.Dir && read&llReadDir != 0 && t != cwd && !slices.ContainsFunc(out, func(r readTemplate) bool { return r.t == cwd }) && ps.instantiatesTo(cwd, p, llReadDir) {
		out = append(out, readTemplate{cwd, llReadDir})
	}
	return out
}

// namedReads returns the reads of r, a rule that also changes a path
// the command line names (t), as reads of every path the next command
// line names ($ARGS), as asTemplate makes of a rule that only reads
// one: the program reads what it is named, wherever the next command
// line puts it and whatever else it names (tidy opens its input O_RDWR,
// then reads it; tidy -config f.cfg in.html reads f.cfg too). The
// change stays on t.
func (ps *params) namedReads(r profiles.PathRule, t profiles.Template) (profiles.PathRule, bool) {
	access, _ := linuxabi.ParseLandlockFS(r.Access)
	if t.Var == "ARGS" || !t.Named() || t.Rel != "" || access&llRead == 0 || access&^llRead == 0 {
		return profiles.PathRule{}, false
	}
	reads := access & llRead
	if reads&llReadFile != 0 {
		reads |= llReadDir // as asTemplate: the next may name a directory
	}
	r.Path = "$ARGS"
	r.Access = linuxabi.LandlockFSNames(reads)
	r.Reason += fmt.Sprintf("; the command line names it (%s), read and changed: reads of every path the next command line names, files or directories", ps.origin(t))
	return r, true
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// instantiatesTo reports whether t, instantiated from the recording's
// own invocation, grants access on p.
func (ps *params) instantiatesTo(t profiles.Template, p string, access uint64) bool {
	prof := &profiles.Profile{Filesystem: &profiles.Filesystem{Rules: []profiles.PathRule{{Path: t.String(), Access: linuxabi.LandlockFSNames(access)}}}}
	got, warnings, err := prof.Instantiate(ps.inv)
	if err != nil || len(warnings) > 0 {
		return false
	}
	for _, r := range got.Filesystem.Rules {
		if m, _ := linuxabi.ParseLandlockFS(r.Access); r.Path == p && m == access {
			return true
		}
	}
	return false
}

// origin says where a template's value came from in the recording.
func (ps *params) origin(t profiles.Template) string {
	switch t.Var {
	case "OPT":
		what := "the path"
		if t.Parent {
			what = "the directory of the path"
		}
		return fmt.Sprintf("%s option %s names (recorded %q)", what, t.Option, ps.inv.Args[t.Arg])
	case "OPERANDS":
		what := "the operands"
		if t.Parent {
			what = "the directories of the operands"
		}
		return fmt.Sprintf("%s that end the command line from argument %d on (recorded %q, the last)", what, t.Arg, ps.inv.Args[t.Arg])
	case "ARG":
		if t.Key != "" {
			what := "a path"
			if t.Parent {
				what = "the directory of a path"
			}
			return fmt.Sprintf("%s on the %s lines of the file argument %d names (recorded %q)", what, t.Key, t.Arg, ps.inv.Args[t.Arg])
		}
		if t.Parent {
			return fmt.Sprintf("the directory of argument %d (recorded %q)", t.Arg, ps.inv.Args[t.Arg])
		}
		return fmt.Sprintf("argument %d (recorded %q)", t.Arg, ps.inv.Args[t.Arg])
	case "WORDS":
		what := "what a command string gives " + t.Option
		if t.Parent {
			what = "the directory of " + what
		}
		return fmt.Sprintf("%s (recorded %q)", what, strings.Join(ps.inv.Args[1:], " "))
	case "ARGS":
		return "a word of an argument of several words, a command for a shell (recorded " + strconv.Quote(strings.Join(ps.inv.Args[1:], " ")) + ")"
	case "TTY":
		return "the terminal the next run is given"
	case "PROGS":
		return "a program a word of the command line names through $PATH"
	case "CWD":
		return fmt.Sprintf("the working directory (recorded %s)", ps.inv.Dir)
	}
	return fmt.Sprintf("$%s (recorded %s)", t.Var, ps.inv.Var(t.Var))
}

// wordOp is a path a command string gives command key as an operand.
type wordOp struct{ key, path string }

// commandOperands are the paths the recording's command strings give
// each command (or output redirection) as operands, those of commands
// the recording also gave a file it only read left out (cp a.txt b.txt:
// $WORDS[cp] would stand for the next one's input as well as its
// output, and write both), and / and the system's trees.
func (ps *params) commandOperands() []wordOp {
	var out []wordOp
	for _, a := range ps.inv.Args[min(1, len(ps.inv.Args)):] {
		fields := strings.Fields(a)
		if len(fields) < 2 {
			continue
		}
		keys := []string{">", ">>"}
		for _, w := range fields {
			if k := path.Base(w); profiles.ValidCommand(k) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		for _, key := range keys {
			var paths []string
			input := false
			for _, w := range profiles.CommandOperands(a, key) {
				q, ok := profiles.ArgPath(w, ps.inv.Dir)
				if !ok {
					continue
				}
				input = input || ps.read[q]
				if q != "/" && !policy.SystemTree(q) {
					paths = append(paths, q)
				}
			}
			if input {
				continue
			}
			for _, q := range paths {
				out = append(out, wordOp{key, q})
			}
		}
	}
	return out
}

// wordTemplates are the $WORDS templates that stand for p in the
// recording's command strings: an operand (or output redirection) p is,
// is the directory of, or is under (commandOperands).
func (ps *params) wordTemplates(p string) []profiles.Template {
	var out []profiles.Template
	for _, o := range ps.wordOps {
		t := profiles.Template{Var: "WORDS", Option: o.key}
		switch q := o.path; {
		case q == p:
		case path.Dir(q) == p && ps.written[q]:
			// The directory of an output, not of an input.
			t.Parent = true
		case strings.HasPrefix(p, q+"/"):
			t.Rel = strings.TrimPrefix(p, q+"/")
		default:
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// wordsToo returns, for rule r (its path the recorded one) on the working
// directory ($CWD), where the target made files, the same rule on the
// directory of a path a command string names that it wrote ($WORDS[cmd]/..):
// seq 10 | tee out.log made out.log in the working directory, and the next
// string may name /var/log/app.log. Both are the person's.
func (ps *params) wordsToo(r profiles.PathRule, t profiles.Template) (profiles.PathRule, bool) {
	access, _ := linuxabi.ParseLandlockFS(r.Access)
	if t.Var != "CWD" || t.Rel != "" || access&llMakeReg == 0 {
		return profiles.PathRule{}, false
	}
	for _, w := range ps.wordTemplates(r.Path) {
		if w.Parent && ps.instantiatesTo(w, r.Path, access) {
			return ps.asTemplate(r, w), true
		}
	}
	return profiles.PathRule{}, false
}

// siblingOperand returns, for rule r (its path the recorded one) on the
// directory of an input that follows an option, is the command line's
// last argument, and that the recording made a file beside
// (madeSibling), the rules on that operand's directory ($OPERANDS[n]/..)
// rather than on the option's value's: whether -k takes a value or is a
// flag before an operand (gzip -k a.txt) the command line does not say,
// an input made into a file beside it is an operand, and the next
// command line may drop the option or put another between (gzip -kf
// d.txt, xz -k -9 f.txt).
func (ps *params) siblingOperand(r profiles.PathRule, t profiles.Template) []profiles.PathRule {
	if t.Var != "OPT" || !t.Parent || !ps.siblings[t.Arg] {
		return nil
	}
	ops := profiles.TrailingOperands(ps.inv.Args, t.Arg)
	if len(ops) == 0 || ops[0] != t.Arg {
		return nil
	}
	o := t
	o.Var, o.Option = "OPERANDS", ""
	access, _ := linuxabi.ParseLandlockFS(r.Access)
	if !ps.instantiatesTo(o, r.Path, access) {
		return nil
	}
	out := []profiles.PathRule{ps.asTemplate(r, o)}
	// In the working directory, the outputs may be the working
	// directory's as well (brotli -k -o other/f3.txt after brotli -k
	// f1.txt): the recording cannot tell, both are the person's.
	if cwd := (profiles.Template{Var: "CWD"}); r.Path == ps.inv.Dir && ps.instantiatesTo(cwd, r.Path, access) {
		out = append(out, ps.asTemplate(r, cwd))
	}
	return out
}

// asTemplate returns r, whose path is a parameter, as template t. A
// read of a path an argument names becomes "$ARGS": the next run may
// read what its command line names, in any position.
func (ps *params) asTemplate(r profiles.PathRule, t profiles.Template) profiles.PathRule {
	access, _ := linuxabi.ParseLandlockFS(r.Access)
	why := "from " + ps.origin(t)
	if t.Var == "ARGS" || (t.Var == "ARG" && t.Key == "" || t.Var == "OPT" || t.Var == "OPERANDS") && !t.Parent && t.Rel == "" && access&^llRead == 0 {
		why = fmt.Sprintf("the command line names it (%s): reads of every path the next command line names", ps.origin(t))
		t = profiles.Template{Var: "ARGS"}
		if access&llReadFile != 0 && access&llReadDir == 0 {
			// The next command line may name a directory where this one
			// named a file (wc -c dir: "Is a directory", not EACCES);
			// reading the files under a named directory is granted
			// already, listing it adds their names.
			r.Access = linuxabi.LandlockFSNames(access | llReadDir)
			why += ", files or directories"
		}
	}
	r.Path = t.String()
	r.Reason += "; " + why
	return r
}

// deviceBaseline are the devices every program may use, like the
// baseline syscalls: a run that never touched one says nothing about
// the next. ioctl_dev on each, since a program asks whether a
// descriptor is a terminal (isatty: TCGETS) whatever it is, and perl
// -pi asks it of /dev/null; refused, the question fails with EACCES
// instead of the answer ENOTTY. What the drivers do with it: the memory
// devices (null, zero, full) have no ioctls (every request is ENOTTY);
// random's are RNDGETENTCNT (the entropy count, also in /proc/sys/kernel/
// random/entropy_avail) and RNDADDTOENTCNT, RNDADDENTROPY, RNDZAPENTCNT,
// RNDCLEARPOOL, RNDRESEEDCRNG, which need CAP_SYS_ADMIN and since Linux
// 5.18 cannot weaken it once it is seeded (input is hashed in, credit
// counts only before, zapping does nothing); a terminal's own requests
// (TCGETS, TIOCGWINSZ, TCSETS) are what a program on a tty needs.
// Which requests pass at all is the seccomp filter's ioctl rule
// (TIOCSTI only if a run made it). Descriptors the target inherits (its
// stdio) were opened before Landlock and are not restricted at all.
var deviceBaseline = []baselineRule{
	{"/dev/null", llReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockIoctlDev, "baseline: the empty input and the sink of every discarded output (no ioctls: isatty is told ENOTTY)"},
	{"/dev/zero", llReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockIoctlDev, "baseline: zeroes (dd, old allocators mapping it; no ioctls: isatty is told ENOTTY)"},
	{"/dev/full", llReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockIoctlDev, "baseline: always full (a write fails with ENOSPC; no ioctls: isatty is told ENOTTY)"},
	{"/dev/random", llReadFile | linuxabi.LandlockIoctlDev, "baseline: the kernel's random numbers (ioctls: the entropy count; the rest need CAP_SYS_ADMIN and cannot weaken a seeded generator)"},
	{"/dev/urandom", llReadFile | linuxabi.LandlockIoctlDev, "baseline: the kernel's random numbers (ioctls: the entropy count; the rest need CAP_SYS_ADMIN and cannot weaken a seeded generator)"},
	{"/dev/tty", llReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockIoctlDev, "baseline: the controlling terminal (passwords, pagers, git), with its terminal ioctls"},
	{"$TTY", llReadFile | linuxabi.LandlockWriteFile | linuxabi.LandlockIoctlDev, "baseline: the terminal the target is given (/dev/pts/N of the run), with its terminal ioctls"},
}

// workDirBaseline is the working directory's listing: a program that
// follows a path into another directory opens "." first to come back to
// it (gnulib's save_cwd, vim resolving a file's full name), which the
// recorded input, in the working directory, did not make it do. It shows
// names, not what the files hold, and like every template it grants
// nothing where the working directory is /, a home or /tmp.
var workDirBaseline = []baselineRule{
	{"$CWD", llReadDir, "baseline: the working directory's listing (programs open . to come back to it after following a path elsewhere: gnulib save_cwd)"},
}

// baselineRule is a Landlock rule every program of a kind may need,
// whatever its run did.
type baselineRule struct {
	path   string
	access uint64
	reason string
}

// addPathBaseline adds base to rules, joining rules on the same path.
func addPathBaseline(rules []profiles.PathRule, base []baselineRule) []profiles.PathRule {
	for _, d := range base {
		i := slices.IndexFunc(rules, func(r profiles.PathRule) bool { return r.Path == d.path })
		if i < 0 {
			rules = append(rules, profiles.PathRule{Path: d.path, Access: linuxabi.LandlockFSNames(d.access), Reason: d.reason})
			continue
		}
		m, _ := linuxabi.ParseLandlockFS(rules[i].Access)
		rules[i].Access = linuxabi.LandlockFSNames(m | d.access)
		rules[i].Reason += "; " + d.reason
	}
	return rules
}
