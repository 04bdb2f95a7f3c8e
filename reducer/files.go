package reducer

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// FSLevel says how far Filesystem generalises the files a recording saw.
type FSLevel string

const (
	// FSExact keeps every path as seen. Only what cannot repeat is
	// generalised: per-process /proc entries, the terminal, the names
	// of files and directories the target created, and what the command
	// line and environment named (templates: $ARGn/in/a).
	FSExact FSLevel = "exact"
	// FSDirs also lets reads and directory listings stand for their
	// directory: a directory the command line names ($ARGS), under
	// system trees the package directory
	// (/usr/lib/python3.11, /usr/share/zoneinfo, /etc/ssl), elsewhere
	// the directory holding the file, unless that directory is one
	// whose other files are not the target's business (/, /etc, /home,
	// $HOME, /tmp, /dev, /var, ~/.ssh, ...). Executes and writes stay
	// exact.
	FSDirs FSLevel = "dirs"
)

// FSLevels lists the levels, narrowest first.
var FSLevels = []FSLevel{FSExact, FSDirs}

// DefaultFSLevel is the level held-out runs favoured: a profile learned
// from one run of a job that lets the next run of the same job (other
// inputs) through, without widening writes (see docs/generalisation.md).
const DefaultFSLevel = FSDirs

// FSOptions tune Filesystem. The zero value is the default.
type FSOptions struct {
	Level FSLevel // "" means DefaultFSLevel
	// Home is the target's $HOME: reads are never widened to it as a
	// whole, nor to its secret directories (.ssh, .gnupg, ...).
	Home string
	// Exe keeps only the accesses of executables whose name matches
	// this glob (Options.Exe); "" keeps all.
	Exe string
	// Baseline adds the standard devices every program may use
	// (deviceBaseline), and the files Runtime's runtime reads on its own
	// (runtimeFiles), each with its reason.
	Baseline bool
	// Runtime is Options.Runtime.
	Runtime string
}

// keepExe reports whether an access charged to exe passes the glob.
func keepExe(glob, exe string) bool {
	if glob == "" {
		return true
	}
	ok, _ := path.Match(glob, exe)
	return ok
}

// Landlock rights by name, from linuxabi.
const (
	llMakeChar   = linuxabi.LandlockMakeChar
	llMakeDir    = linuxabi.LandlockMakeDir
	llMakeReg    = linuxabi.LandlockMakeReg
	llMakeSock   = linuxabi.LandlockMakeSock
	llMakeFifo   = linuxabi.LandlockMakeFifo
	llMakeBlock  = linuxabi.LandlockMakeBlock
	llMakeSym    = linuxabi.LandlockMakeSym
	llReadFile   = linuxabi.LandlockReadFile
	llReadDir    = linuxabi.LandlockReadDir
	llRemoveDir  = linuxabi.LandlockRemoveDir
	llRemoveFile = linuxabi.LandlockRemoveFile
	llRefer      = linuxabi.LandlockRefer

	// llMake are the rights that create an object in a directory.
	llMake = llMakeChar | llMakeDir | llMakeReg | llMakeSock | llMakeFifo | llMakeBlock | llMakeSym
	// llParent are the rights Landlock checks on the directory holding
	// an object; the recorder reports them on the object's own path.
	llParent = linuxabi.LandlockParentRights
	// llRead are rights that change nothing.
	llRead = llReadFile | llReadDir
)

// Filesystem reduces the files and ports of recordings to Landlock
// sections. It returns nil sections when a recording was made without
// file recording (nothing is known, so nothing is restricted; a merge
// does the same). With file recording, a network section with no rules
// is returned when no TCP port was seen: no TCP bind or connect.
//
// Rights Landlock checks on a directory (make_*, remove_*, refer) are
// reported on the object created or removed and are put on its parent.
// What the target created may have another name next run, so the rights
// it used on it go to the directory too, and everything inside a
// directory it created goes to the nearest directory that was there
// before. Writes to files that existed stay on those files. A directory
// kept whole (/, /etc, /tmp, $HOME, ...: noWrite) never gets such rights:
// they go to the section's NotAllowed, and an object created there and
// kept gets them itself. The generalisations below only widen reads.
func Filesystem(recs []*profiles.Recording, opts FSOptions) (*profiles.Filesystem, *profiles.Network, error) {
	if opts.Level == "" {
		opts.Level = DefaultFSLevel
	}
	if !slices.Contains(FSLevels, opts.Level) {
		return nil, nil, fmt.Errorf("filesystem level %q (want exact or dirs)", opts.Level)
	}
	for _, r := range recs {
		if !withFiles(r) {
			return nil, nil, nil // recorded without files: unrestricted
		}
	}
	fs := &profiles.Filesystem{Rules: []profiles.PathRule{}}
	net := &profiles.Network{Rules: []profiles.PortRule{}}
	// Templates are recognised per command line: recordings of other
	// command lines are reduced apart and their rules joined.
	for _, g := range byInvocation(recs) {
		inv := g[0].Invocation()
		home := opts.Home
		if home == "" {
			home = inv.Var("HOME")
		}
		seen := map[string]*profiles.FileAccess{}
		for _, r := range g {
			fs.Unresolved += r.FilesUnresolved
			for _, f := range r.Files {
				if !keepExe(opts.Exe, f.Exe) {
					continue
				}
				p := path.Clean(f.Path)
				if !path.IsAbs(p) {
					continue
				}
				if e := seen[p]; e != nil {
					e.Access |= f.Access
					e.Count += f.Count
				} else {
					seen[p] = &profiles.FileAccess{Path: p, Access: f.Access, Count: f.Count}
				}
			}
		}
		b := &fsBuilder{opts: opts, home: home, rules: map[string]*fsRule{}, seen: seen, withheld: map[string]*fsWithheld{}, made: map[string]uint64{}, madeWhy: map[string]string{}, listerPIDs: -1, readsUnder: map[string]bool{}}
		b.params = newParams(inv, seen)
		b.build()
		fs.Rules = append(fs.Rules, b.rules2profile()...)
		fs.NotAllowed = append(fs.NotAllowed, b.withheld2profile()...)
		fs.ThreadNames = fs.ThreadNames || b.threadNames
		fs.Made = append(fs.Made, b.made2profile()...)
		net.Rules = append(net.Rules, portRules(g, inv, opts.Exe)...)
	}
	if opts.Baseline {
		fs.Rules = addPathBaseline(fs.Rules, deviceBaseline)
		fs.Rules = addPathBaseline(fs.Rules, workDirBaseline)
		fs.Rules = addPathBaseline(fs.Rules, runtimeFiles(opts.Runtime))
	}
	(&profiles.Profile{Filesystem: fs, Network: net}).Normalize()
	return fs, net, nil
}

// byInvocation groups recordings by the command line, working
// directory and environment their templates are recognised from, in
// order.
func byInvocation(recs []*profiles.Recording) [][]*profiles.Recording {
	var groups [][]*profiles.Recording
	index := map[string]int{}
	for _, r := range recs {
		inv := r.Invocation()
		key := strings.Join(inv.Args, "\x00") + "\x01" + inv.Dir
		for _, v := range profiles.EnvVars() {
			key += "\x01" + inv.Var(v)
		}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	return groups
}

// portRules reduces the TCP ports of recs (one command line, inv): a
// port a command-line argument names comes from that argument.
func portRules(recs []*profiles.Recording, inv profiles.Invocation, exe string) []profiles.PortRule {
	type pk struct {
		port   uint16
		access uint64
	}
	ports := map[pk]uint64{}
	for _, r := range recs {
		for _, p := range r.Ports {
			if !keepExe(exe, p.Exe) {
				continue
			}
			for _, bit := range []uint64{1, 2} {
				if p.Access&bit != 0 {
					ports[pk{p.Port, bit}] += p.Count
				}
			}
		}
	}
	var out []profiles.PortRule
	for _, k := range slices.SortedFunc(maps.Keys(ports), func(a, b pk) int {
		if a.port != b.port {
			return int(a.port) - int(b.port)
		}
		return int(a.access) - int(b.access)
	}) {
		r := profiles.PortRule{Access: linuxabi.LandlockNetNames(k.access)[0], Port: k.port, Count: ports[k], Reason: "seen"}
		if k.port == 0 && k.access == 1 {
			r.Reason = "seen: bind to port 0 lets the kernel pick a free port"
		}
		if n := portArg(inv, k.port); n > 0 {
			r.From = fmt.Sprintf("$ARG%d", n)
			r.Reason = fmt.Sprintf("seen: the port argument %d names (recorded %q); the next run's argument %d gives the port", n, inv.Args[n], n)
		} else if n, key := configPort(inv, k.port); n > 0 {
			r.From, r.Key = fmt.Sprintf("$ARG%d", n), key
			r.Reason = fmt.Sprintf("seen: the port on the %s line of the file argument %d names (recorded %q); the next run's file gives the port", key, n, inv.Args[n])
		}
		out = append(out, r)
	}
	return out
}

// portArg is the first argument of inv that names port, or 0.
func portArg(inv profiles.Invocation, port uint16) int {
	if port == 0 {
		return 0
	}
	for n := 1; n < len(inv.Args); n++ {
		if p, ok := profiles.ArgPort(inv.Args[n]); ok && p == port {
			return n
		}
	}
	return 0
}

// configPort is the first argument of inv naming a file (read before
// the run) that gives port on a line, and that line's first word; 0
// when none does.
func configPort(inv profiles.Invocation, port uint16) (int, string) {
	if port == 0 {
		return 0, ""
	}
	for _, n := range slices.Sorted(maps.Keys(inv.Files)) {
		if key := profiles.ConfigKey(inv.Files[n], port); key != "" && n < len(inv.Args) {
			return n, key
		}
	}
	return 0, ""
}

type fsRule struct {
	access  uint64
	count   uint64
	folded  uint64         // counts of narrower rules this one made redundant
	reasons map[string]int // reason -> paths it stands for
}

type fsBuilder struct {
	opts  FSOptions
	home  string // $HOME, for the directories kept whole
	seen  map[string]*profiles.FileAccess
	rules map[string]*fsRule
	// withheld are the rights that would have gone on a directory kept
	// whole (noWrite), by directory.
	withheld map[string]*fsWithheld
	// made are the files run's supervisor makes for the target
	// (profiles.MadeFile), by made path, with their counts.
	made    map[string]uint64
	madeWhy map[string]string
	// listerPIDs caches procLister; -1 until computed.
	listerPIDs int
	// params are the command line's and environment's values: rules on
	// them become templates.
	params *params
	// readsUnder are the directories reads of files beneath them were
	// widened to.
	readsUnder map[string]bool
	// threadNames: a thread's comm file was written through
	// /proc/PID/task/TID (Filesystem.ThreadNames).
	threadNames bool
}

type fsWithheld struct {
	access, count uint64
	paths         map[string]bool // what the target created or removed there
	why           string          // "" for those
}

func (b *fsBuilder) add(p string, access, count uint64, reason string) {
	if access == 0 {
		return
	}
	r := b.rules[p]
	if r == nil {
		r = &fsRule{reasons: map[string]int{}}
		b.rules[p] = r
	}
	r.access |= access
	r.count += count
	r.reasons[reason]++
}

// grantDir puts the rights the target used on obj, an object it created
// or removed in directory d, on d; if d is kept whole (noWrite), they go
// to the withheld list instead.
func (b *fsBuilder) grantDir(d, obj string, access, count uint64, reason string) {
	if !b.noWrite(d) {
		b.add(d, access, count, reason)
		return
	}
	if access != 0 {
		b.withhold(d, access, count, obj)
	}
}

// withhold adds rights on d to the withheld list.
func (b *fsBuilder) withhold(d string, access, count uint64, obj string) *fsWithheld {
	w := b.withheld[d]
	if w == nil {
		w = &fsWithheld{paths: map[string]bool{}}
		b.withheld[d] = w
	}
	w.access |= access
	w.count += count
	w.paths[obj] = true
	return w
}

// created grants the rights used on obj, or inside it (at inner), an
// object the target created in directory d, on d (grantDir). When d is
// kept whole and obj was still there at the end, obj gets them itself:
// a rule that holds once obj exists (the next run finds it), while
// creating it again needs what the withheld list names.
//
// Writing what it made includes setting its size (truncate): cp of a
// sparse file and sqlite's -shm file ftruncate what they made, which a
// recording of a dense file or another journal mode never did. It is no
// more than write_file on the directory already grants: every byte of
// the files there may be overwritten.
func (b *fsBuilder) created(d, obj, inner string, access, count uint64, reason string) {
	grant := access
	if access&linuxabi.LandlockWriteFile != 0 && !b.noWrite(d) {
		grant |= linuxabi.LandlockTruncate
	}
	b.grantDir(d, inner, grant, count, reason)
	if f := b.seen[obj]; b.noWrite(d) && f != nil && f.Access&(llRemoveFile|llRemoveDir) == 0 {
		b.add(obj, access, b.seen[inner].Count, fmt.Sprintf("created in %s and kept: %s gets no write right as a whole, so this rule holds once %s exists (filesystem.not_allowed says what creating it needs)", d, d, obj))
	}
}

// procEntry puts the rights used on a per-process /proc entry (m: the
// match of procPID) on the same entry of /proc/self, or of
// /proc/thread-self for /proc/<pid>/task/<tid>/...: the pid differs
// every run, and a rule on /proc as a whole would let the program read
// /proc/kallsyms. Rule paths are resolved when the rules are made, in
// the process sysrec run then execs into the target, so /proc/self is
// the target's own entry (its children's are not covered: their pids do
// not exist yet). Entries of several processes read after listing /proc
// are a process lister's: only its own are granted, the rest withheld.
func (b *fsBuilder) procEntry(m []string, access, count uint64) {
	self := "/proc/self"
	if m[2] != "" {
		self = "/proc/thread-self"
	}
	b.add(self+m[3], access, count, "a per-process /proc entry, resolved to the target's own when the rules are made (the pid differs every run; /proc as a whole would include /proc/kallsyms)")
	if m[2] != "" && m[3] == "/comm" && access&linuxabi.LandlockWriteFile != 0 {
		// A thread named by another (pthread_setname_np): its comm file
		// does not exist when the rules are made.
		b.threadNames = true
	}
	if n := b.procLister(); n > 0 && access&llRead != 0 {
		w := b.withhold("/proc", access&llRead, count, m[0])
		w.why = fmt.Sprintf("entries of %d processes read after listing /proc (a process lister such as ps): Landlock cannot grant other processes' /proc/PID entries without all of /proc, /proc/kallsyms and /proc/kcore included; only the target's own entries (/proc/self) are granted", n)
	}
}

// procLister returns how many processes' /proc entries were used when
// /proc itself was listed too (a process lister), else 0.
func (b *fsBuilder) procLister() int {
	if b.listerPIDs < 0 {
		pids := map[string]bool{}
		for p := range b.seen {
			if m := procPID.FindStringSubmatch(p); m != nil {
				pids[m[1]] = true
			}
		}
		b.listerPIDs = 0
		if l := b.seen["/proc"]; l != nil && l.Access&llReadDir != 0 && len(pids) > 1 {
			b.listerPIDs = len(pids)
		}
	}
	return b.listerPIDs
}

var (
	procPID = regexp.MustCompile(`^/proc/([0-9]+)(/task/[0-9]+)?(/.*)?$`)
	devPTS  = regexp.MustCompile(`^/dev/pts/[0-9]+$`)
	// A package directory: the component after lib, lib64, libexec,
	// share or include (/usr/lib/python3.11, /usr/share/zoneinfo,
	// ~/.pyenv/versions/3.11.7/lib/python3.11).
	pkgDir = regexp.MustCompile(`^(.*?/(lib|lib32|lib64|libexec|share|include)/[^/]+)/`)
)

func (b *fsBuilder) build() {
	// The topmost directory each created object sits in that the target
	// created itself: its contents go to the directory above it.
	createdDir := map[string]bool{}
	for p, f := range b.seen {
		if f.Access&llMakeDir != 0 {
			createdDir[p] = true
		}
	}
	createdTop := func(p string) string {
		top := ""
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			if createdDir[d] {
				top = d
			}
		}
		return top
	}

	beside := map[string][]besideRead{} // reads that may stand for their directory
	for _, p := range slices.Sorted(maps.Keys(b.seen)) {
		f := b.seen[p]
		obj, parent := f.Access&^llParent, f.Access&llParent
		dir := path.Dir(p)

		switch m := procPID.FindStringSubmatch(p); {
		case m != nil:
			b.procEntry(m, obj, f.Count)
			continue
		case p == "/dev/ptmx":
			// openpty opens the other side with ioctl(TIOCGPTPEER),
			// which Landlock checks as an open of /dev/pts/N and the
			// recorder does not see as a path: the rights the master
			// was opened with are the slave's.
			b.add(p, obj, f.Count, "seen")
			b.add("/dev/pts", obj&(llReadFile|linuxabi.LandlockWriteFile|linuxabi.LandlockIoctlDev), f.Count, "pseudo-terminals the target made with /dev/ptmx, their other side opened with TIOCGPTPEER (their numbers differ every run)")
			continue
		case devPTS.MatchString(p) && b.seen["/dev/ptmx"] != nil:
			b.add("/dev/pts", obj, f.Count, "pseudo-terminals the target opened with /dev/ptmx (their numbers differ every run)")
			continue
		case devPTS.MatchString(p):
			// The terminal the target was given: $TTY, the next run's.
			b.add(p, obj, f.Count, "the terminal the target was given")
			continue
		}

		if top := createdTop(p); top != "" {
			// Inside a directory the target made: nothing of it exists
			// before the next run.
			b.created(path.Dir(top), top, p, f.Access|llMakeDir, f.Count, "directories the target created and what it did inside them (their names may differ next run)")
			continue
		}
		if parent != 0 && b.makes(dir, p, f) {
			continue
		}
		if parent != 0 {
			reason := "files removed here"
			if parent&llMake != 0 {
				reason = "files created here"
			}
			if parent&llRefer != 0 {
				reason += ", moved across directories"
			}
			b.grantDir(dir, p, parent, f.Count, reason)
		}
		if f.Access&llMake != 0 {
			// Created by the target: the rights it used on it must hold
			// for whatever name it picks next run.
			b.created(dir, p, p, obj, 0, "files created here (their names may differ next run): rights on them are rights on the directory")
			continue
		}
		if obj == 0 {
			continue
		}
		read, exact := obj&llRead, obj&^llRead
		switch d, n := b.params.namedAbove(p); {
		case read == 0:
		case n > 0 && b.opts.Level == FSDirs:
			// The command line names the directory: reading in it is
			// the job, whatever the next run's holds.
			b.add(d, read, f.Count, fmt.Sprintf("reads under %s, which argument %d names", d, n))
			b.readsUnder[d] = true
		case b.params.named(p) > 0 || b.params.words[p] || (f.Access&linuxabi.LandlockExecute != 0 && pkgDir.FindStringSubmatch(p) == nil):
			// A file the command line names is a parameter, and the
			// program's own file (the loader reads what it maps) says
			// nothing about the files beside it: a program installed in
			// a data directory would get them all.
			exact |= read
		default:
			if to, why := b.widenRead(p, read); why == besideReason {
				beside[to] = append(beside[to], besideRead{read, f.Count})
			} else if to != "" {
				b.add(to, read, f.Count, why)
				b.readsUnder[to] = true
			} else {
				exact |= read
			}
		}
		if exact != 0 {
			b.add(p, exact, f.Count, "seen")
		}
	}
	for d, reads := range b.mergeSiblings(beside) {
		for _, r := range reads {
			why := besideReason
			if len(reads) == 1 && r.access == llReadDir {
				why = "seen"
			}
			b.add(d, r.access, r.count, why)
			b.readsUnder[d] = true
		}
	}
	if b.opts.Level == FSDirs {
		for _, r := range b.rules {
			// The job of linuxabi's copy-tree, for Landlock.
			if r.access&llMakeDir != 0 && r.access&llMakeReg != 0 && r.access&llMakeSym == 0 {
				r.access |= llMakeSym
				r.reasons[treeReason]++
			}
			// And of write-files.
			if r.access&llMakeReg != 0 && r.access&llReadDir == 0 {
				r.access |= llReadDir
				r.reasons[madeListReason]++
			}
			if r.access&llMakeReg != 0 && r.access&linuxabi.LandlockWriteFile != 0 && r.access&llRemoveFile == 0 {
				r.access |= llRemoveFile
				r.reasons[madeRemoveReason]++
			}
		}
	}
}

// listReason is why a directory the job reads files in, when the
// command line or a configuration file it names names it ($ARGn...),
// may be listed too: the next input's files there may be found by listing (a
// web root's directories, a source tree), and a listing shows no more
// than names of files the rule lets it read.
const listReason = "a directory the job reads files in, named by the command line or its configuration: listing it shows only names of what it may read"

// madeRemoveReason is why a directory the target makes and writes files
// in may have files removed: an output that is there already is removed
// first (gzip -f), a partial one after an error (bzip2 on a corrupt
// input), a temporary one once renamed. It adds nothing a compromised
// program could not do with the write and truncate rights there already
// (empty any file beneath), and no directory kept whole gets it.
const madeRemoveReason = "files are made and written here: one there already is removed first (gzip -f), a partial one after an error (bzip2 on a corrupt input)"

// madeListReason is why a directory the target makes files in may be
// listed: programs pick backup and temporary names by looking (patch's
// numbered backups when a hunk fails, gnulib's backupfile), and the
// names they see there are of files they may replace.
const madeListReason = "files are made here: backup and temporary names are picked by listing it (patch when a hunk fails)"

// namedDirReason is why a directory the command line names, where the
// target made files, may get directories too (the job write-files makes
// them where Landlock lets it): the person who starts the program named
// it as the place for the files it makes (cpio -D, tar -C, unzip -d),
// and the next input may hold directories (an archive with some where
// the recorded one had none). It grants nothing outside the directory,
// where files may be made at every depth already; an output's directory
// ($ARGn/..) is not named and gets none.
const namedDirReason = "a directory the command line names for the files the target makes: the next input may put them in directories (an archive that holds some)"

// treeReason is why a directory where the target made directories and
// files may get symlinks: a tree built there (a copy, an extraction)
// holds links when its source does. A link grants the target nothing
// (Landlock checks what it resolves to); what it may do to a program
// that later writes through it is the threat model's.
const treeReason = "a tree built here (directories and files made: a copy, an extraction) holds symlinks when its source does"

// widenRead returns where reads of p may stand for at the builder's
// level, or "" to keep p.
func (b *fsBuilder) widenRead(p string, read uint64) (string, string) {
	if b.opts.Level != FSDirs {
		return "", ""
	}
	switch {
	case p == "/proc" || strings.HasPrefix(p, "/proc/"):
		// Beside /proc/meminfo are /proc/kallsyms and /proc/kcore.
		return "", ""
	case strings.HasPrefix(p, "/etc/"):
		// /etc itself holds secrets; a subdirectory is one package's.
		rest := strings.TrimPrefix(p, "/etc/")
		if i := strings.IndexByte(rest, '/'); i > 0 {
			d := "/etc/" + rest[:i]
			if !b.sensitive(d) {
				return d, "reads under " + d + ": one package's configuration"
			}
		}
		return "", ""
	}
	if m := pkgDir.FindStringSubmatch(p); m != nil && !b.sensitive(m[1]) {
		return m[1], "reads under " + m[1] + ": a package directory (code and data installed together)"
	}
	d := path.Dir(p)
	if read&llReadDir != 0 && read&llReadFile == 0 {
		return p, besideReason // a listing: the directory itself, unless it has listed siblings
	}
	if b.sensitive(d) {
		return "", ""
	}
	return d, besideReason
}

const besideReason = "reads in the directories of files the target read"

type besideRead struct{ access, count uint64 }

// mergeSiblings lets reads in two or more directories of one parent
// stand for the parent (git's object shards, a web root's
// subdirectories), as long as the parent is not sensitive; repeated
// upwards.
func (b *fsBuilder) mergeSiblings(dirs map[string][]besideRead) map[string][]besideRead {
	for {
		children := map[string][]string{}
		for d := range dirs {
			if p := path.Dir(d); p != d && !b.sensitive(p) {
				children[p] = append(children[p], d)
			}
		}
		merged := false
		for _, p := range slices.Sorted(maps.Keys(children)) {
			if len(children[p]) < 2 {
				continue
			}
			for _, d := range children[p] {
				dirs[p] = append(dirs[p], dirs[d]...)
				delete(dirs, d)
			}
			merged = true
		}
		if !merged {
			return dirs
		}
	}
}

func (b *fsBuilder) sensitive(d string) bool { return policy.Shared(d, b.home) }

// noWrite reports whether d is a directory no rule may grant a write
// right on as a whole (policy.KeptWhole). Files in them keep rules of
// their own.
func (b *fsBuilder) noWrite(d string) bool { return policy.KeptWhole(d, b.home) }

// withheld2profile lists the withheld rights, by directory, with why and
// what the target did there.
func (b *fsBuilder) withheld2profile() []profiles.PathWithheld {
	var out []profiles.PathWithheld
	for _, d := range slices.Sorted(maps.Keys(b.withheld)) {
		w := b.withheld[d]
		paths := slices.Sorted(maps.Keys(w.paths))
		if len(paths) > 3 {
			paths = append(paths[:3], fmt.Sprintf("and %d more", len(w.paths)-3))
		}
		hint := ""
		if slices.Contains(policy.Homes(d, b.home), d) {
			hint = ": ~/.ssh/authorized_keys, ~/.bashrc"
		}
		why := w.why
		if why == "" {
			why = fmt.Sprintf("the target created or removed %s here; %s is never given a write right as a whole (it would reach every file in it%s). A file that is there before the run gets a rule of its own (record again once it exists); temporary files can go to a directory of the program's own (TMPDIR)",
				strings.Join(paths, ", "), d, hint)
		}
		out = append(out, profiles.PathWithheld{Path: d, Access: linuxabi.LandlockFSNames(w.access), Count: w.count, Reason: why})
	}
	return out
}

// rules2profile drops rights an ancestor rule already grants (Landlock
// grants a rule's rights on everything beneath it) and returns the rules
// sorted by path.
func (b *fsBuilder) rules2profile() []profiles.PathRule {
	out := []profiles.PathRule{}
	emitted := map[string]bool{}
	// A rule covers the rules beneath it only if both come from the
	// same variable (or neither does): $ARG2/.. and the $ARGS beneath
	// it in this run may be far apart in the next.
	type tmpl struct {
		t    profiles.Template
		base string
		ok   bool
	}
	templates := map[string]tmpl{}
	for p, r := range b.rules {
		t, base, ok := b.params.template(p, r.access)
		templates[p] = tmpl{t, base, ok}
		if ok && (t.Var == "ARG" || t.Var == "OPERANDS") && b.readsUnder[p] && r.access&llReadFile != 0 && r.access&llReadDir == 0 {
			r.access |= llReadDir
			r.reasons[listReason]++
		}
		if ok && b.opts.Level == FSDirs && t.Named() && t.Var != "ARGS" && t.Rel == "" && r.access&llMakeReg != 0 && r.access&llMakeDir == 0 {
			r.access |= llMakeDir
			r.reasons[namedDirReason]++
		}
	}
	// Sorted, a directory comes before what is beneath it.
	for _, p := range slices.Sorted(maps.Keys(b.rules)) {
		r := b.rules[p]
		var inherited uint64
		var fold *fsRule
		for a := p; a != "/"; {
			a = path.Dir(a)
			if ar := b.rules[a]; ar != nil && templates[a].base == templates[p].base {
				inherited |= ar.access
				if fold == nil && emitted[a] && ar.access&r.access == r.access {
					fold = ar
				}
			}
		}
		own := r.access &^ inherited
		if own == 0 {
			if fold != nil {
				fold.folded += r.count
			}
			continue
		}
		emitted[p] = true
		out = append(out, profiles.PathRule{Path: p, Access: linuxabi.LandlockFSNames(own), Reason: reasonText(r.reasons)})
	}
	// Counts include what folded into a rule.
	templated := make([]profiles.PathRule, 0, len(out))
	for _, rule := range out {
		r := b.rules[rule.Path]
		rule.Count = r.count + r.folded
		t := templates[rule.Path]
		if !t.ok {
			templated = append(templated, rule)
			continue
		}
		for _, rt := range b.params.selfReads(rule.Path, rule.Access, b.seen[rule.Path], t.t) {
			reads := rule
			reads.Access = linuxabi.LandlockFSNames(rt.access)
			templated = append(templated, b.params.asTemplate(reads, rt.t))
		}
		if reads, ok := b.params.namedReads(rule, t.t); ok {
			templated = append(templated, reads)
		}
		if ops := b.params.siblingOperand(rule, t.t); len(ops) > 0 {
			templated = append(templated, ops...)
			continue
		}
		if w, ok := b.params.wordsToo(rule, t.t); ok {
			templated = append(templated, w)
		}
		b.namedWrite(rule, t.t)
		templated = append(templated, b.params.asTemplate(rule, t.t))
	}
	return templated
}

func reasonText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 1 {
			parts = append(parts, fmt.Sprintf("%s (%d paths)", k, m[k]))
		} else {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, "; ")
}
