package recorder

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// DefaultMaxFileKeys sizes the in-kernel maps of distinct (path, rights)
// pairs and of paths. `cat` uses ~10, python3 -c 'import json' ~100,
// ls -R /usr/share/doc a few thousand; a full map is counted in
// Recording.FilesUnresolved, never silent. Path strings are allocated as
// they are seen (4 KiB each), not up front.
const DefaultMaxFileKeys = 16384

// fileMaxDepth is how many path components the kernel walks before it
// gives up on a path (counted as unresolved).
const fileMaxDepth = 64

// fileOps says which syscalls the files program resolves. Names missing
// from an arch (arm64 has no open, mkdir, ...) are skipped.
var fileOps = map[string]bpfprog.FileOp{
	"open":              bpfprog.OpOpen,
	"openat":            bpfprog.OpOpenat,
	"openat2":           bpfprog.OpOpenat2,
	"creat":             bpfprog.OpCreat,
	"open_by_handle_at": bpfprog.OpOpenByHandleAt,
	"mkdir":             bpfprog.OpMkdir,
	"mkdirat":           bpfprog.OpMkdirat,
	"mknod":             bpfprog.OpMknod,
	"mknodat":           bpfprog.OpMknodat,
	"unlink":            bpfprog.OpUnlink,
	"unlinkat":          bpfprog.OpUnlinkat,
	"rmdir":             bpfprog.OpRmdir,
	"rename":            bpfprog.OpRename,
	"renameat":          bpfprog.OpRenameat,
	"renameat2":         bpfprog.OpRenameat2,
	"link":              bpfprog.OpLink,
	"linkat":            bpfprog.OpLinkat,
	"symlink":           bpfprog.OpSymlink,
	"symlinkat":         bpfprog.OpSymlinkat,
	"truncate":          bpfprog.OpTruncate,
	"ftruncate":         bpfprog.OpFtruncate,
	"ioctl":             bpfprog.OpIoctl,
	"bind":              bpfprog.OpBind,
	"connect":           bpfprog.OpConnect,
	"sendto":            bpfprog.OpSendto,
	"sendmsg":           bpfprog.OpSendmsg,
	"sendmmsg":          bpfprog.OpSendmmsg,
	"kill":              bpfprog.OpKill,
	"tkill":             bpfprog.OpTkill,
	"tgkill":            bpfprog.OpTgkill,
	"rt_sigqueueinfo":   bpfprog.OpRtSigqueueinfo,
	"rt_tgsigqueueinfo": bpfprog.OpRtTgsigqueueinfo,
	"pidfd_send_signal": bpfprog.OpPidfdSendSignal,
}

// fileRecorder reads the files and TCP ports the tasks of one cgroup
// subtree touch, as Landlock rights (bpfprog/files.bpf.c, part of the
// recorder's program when loaded with files on).
//
// Paths are what the task sees: resolved by the kernel from the object
// an fd refers to (symlinks and bind mounts already followed), up to
// the task's root. Calls that take a path and return no fd (mkdirat,
// unlinkat, renameat2, linkat, symlinkat, mknodat, truncate, bind of a
// unix socket) are recorded as their directory plus the path string
// they were given, read from the caller's memory at the call's entry
// and again at its exit (the kernel's copy is gone by then): learned
// only when both agree and the string names what that call changed in
// its role (namesChanged; FilesRaced counts the others); the directory
// part of such a string, and of an exec'd script's, is resolved here
// (symlinks) when the task shares sysrec's file tree, unless the target
// may have changed a link on the way since (resolveDir). TCP ports:
// entry and exit must agree.
//
// Each FileAccess names the object; the rights Landlock checks on the
// directory holding it (make_*, remove_*, refer) are recorded on the
// object too, and belong on its parent: make_reg on /tmp/x means x was
// created in /tmp.
type fileRecorder struct {
	s     *session
	owned bool      // started alone (startFiles): closed here
	start time.Time // registered: what changed since, the target may have changed
}

// startFiles registers cg with file recording on, for tests and
// benchmarks of file recording alone (Record registers once for both).
// maxKeys ≤ 0 means DefaultMaxFileKeys.
func startFiles(cg *cgroup, maxKeys int) (*fileRecorder, error) {
	return startFilesDepth(cg, maxKeys, fileMaxDepth)
}

func startFilesDepth(cg *cgroup, maxKeys, depth int) (*fileRecorder, error) {
	s, err := startSession(cg, sessionOptions{maxKeys: DefaultMaxKeys, files: true, fileKeys: maxKeys, depth: depth})
	if err != nil {
		return nil, err
	}
	return &fileRecorder{s: s, owned: true, start: time.Now()}, nil
}

// Close ends what startFiles started. A nil recorder is fine.
func (r *fileRecorder) Close() error {
	if r == nil || !r.owned {
		return nil
	}
	return r.s.close()
}

// read stops the recording and adds what it saw to rec: Files, Ports
// and FilesUnresolved. A nil recorder (file recording off) adds nothing.
func (r *fileRecorder) read(rec *Recording) error {
	if r == nil {
		return nil
	}
	if err := r.s.stop(); err != nil {
		return fmt.Errorf("end recording: %w", err)
	}
	changed := map[bpfprog.FileKey]bpfprog.Changed{}
	var ck bpfprog.FileKey
	var ch bpfprog.Changed
	chit := r.s.maps["path_changed"].Iterate()
	for chit.Next(&ck, &ch) {
		changed[ck] = ch
	}
	if err := chit.Err(); err != nil {
		return fmt.Errorf("read changed inodes: %w", err)
	}
	var h uint64
	paths := map[uint64]recordedPath{}
	var pb bpfprog.PathBuf
	it := r.s.maps["paths"].Iterate()
	for it.Next(&h, &pb) {
		paths[h] = pathString(&pb, r.start)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read paths: %w", err)
	}
	// One entry per (exe, path), the rights of every call OR'd.
	type fileOf struct{ exe, path string }
	files := map[fileOf]*profiles.FileAccess{}
	var k bpfprog.FileKey
	var n uint64
	cit := r.s.maps["file_counts"].Iterate()
	for cit.Next(&k, &n) {
		rp, ok := paths[k.Hash]
		if !ok {
			rec.FilesUnresolved += n // cannot happen: a path is stored before its count
			continue
		}
		// A string the call's memory gave that does not name what the
		// call changed in its role: the memory was changed while the
		// call ran. A string through a link the target may have
		// changed since: it may name another place now.
		raced := rp.changedSince
		if rp.flags&bpfprog.PathFlagVerify != 0 && !raced {
			c, ok := changed[k]
			raced = !ok || !namesChanged(rp.path, k.Access, &c, rp.flags&bpfprog.PathFlagOtherRoot == 0)
		}
		if raced {
			rec.FilesUnresolved += n
			rec.FilesRaced += n
			continue
		}
		p := rp.path
		key := fileOf{bpfprog.CString(k.Exe), p}
		fa := files[key]
		if fa == nil {
			fa = &profiles.FileAccess{Path: p, Exe: key.exe}
			files[key] = fa
		}
		fa.Access |= uint64(k.Access)
		fa.Count += n
	}
	if err := cit.Err(); err != nil {
		return fmt.Errorf("read file counts: %w", err)
	}
	for _, key := range slices.SortedFunc(maps.Keys(files), func(a, b fileOf) int {
		return cmp.Or(strings.Compare(a.path, b.path), strings.Compare(a.exe, b.exe))
	}) {
		rec.Files = append(rec.Files, *files[key])
	}

	var pk bpfprog.PortKey
	type portOf struct {
		port   uint16
		access uint64
		exe    string
	}
	ports := map[portOf]uint64{}
	pit := r.s.maps["ports"].Iterate()
	for pit.Next(&pk, &n) {
		ports[portOf{pk.Port, uint64(pk.Access), bpfprog.CString(pk.Exe)}] += n
	}
	if err := pit.Err(); err != nil {
		return fmt.Errorf("read ports: %w", err)
	}
	for _, key := range slices.SortedFunc(maps.Keys(ports), func(a, b portOf) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.access, b.access), strings.Compare(a.exe, b.exe))
	}) {
		rec.Ports = append(rec.Ports, profiles.PortAccess{Port: key.port, Access: key.access, Count: ports[key], Exe: key.exe})
	}

	if err := r.readScopes(rec); err != nil {
		return err
	}
	stats, err := r.stats()
	if err != nil {
		return err
	}
	for _, v := range stats {
		rec.FilesUnresolved += v
	}
	rec.FilesRaced += stats[bpfprog.FilesStatRaced]
	// A run the kernel skipped may have been a file access, a changed
	// inode that would have verified one, a unix socket reached or a
	// signal sent (a sys_enter skipped is counted at the call's exit).
	// The programs are shared: another recording's skipped runs count
	// here too.
	misses, err := r.s.missesSince(append([]string{"sys_exit", "sched_process_exec"}, names(fileAttachments(&bpfprog.Objects{}))...)...)
	if err != nil {
		return err
	}
	rec.FilesUnresolved += misses
	return nil
}

// readScopes adds to rec what the Landlock scopes restrict: the unix
// sockets reached and the signals sent outside the target.
func (r *fileRecorder) readScopes(rec *Recording) error {
	type unixOf struct {
		name     string
		abstract bool
		exe      string
	}
	socks := map[unixOf]uint64{}
	var uk bpfprog.UnixKey
	var n uint64
	uit := r.s.maps["unix_counts"].Iterate()
	for uit.Next(&uk, &n) {
		name, abstract := uk.UnixName()
		socks[unixOf{name, abstract, bpfprog.CString(uk.Exe)}] += n
	}
	if err := uit.Err(); err != nil {
		return fmt.Errorf("read unix sockets: %w", err)
	}
	for _, key := range slices.SortedFunc(maps.Keys(socks), func(a, b unixOf) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.exe, b.exe))
	}) {
		rec.Unix = append(rec.Unix, profiles.UnixAccess{Name: key.name, Abstract: key.abstract, Count: socks[key], Exe: key.exe})
	}
	var name bpfprog.ExeName
	var sent []profiles.ExeCount
	sit := r.s.maps["signals_outside"].Iterate()
	for sit.Next(&name, &n) {
		sent = append(sent, profiles.ExeCount{Exe: bpfprog.CString(name.Name), Count: n})
	}
	if err := sit.Err(); err != nil {
		return fmt.Errorf("read signals: %w", err)
	}
	rec.SignalsOutside = profiles.AddExeCounts(rec.SignalsOutside, sent)
	return nil
}

// stats returns the kernel's loss counters, summed over CPUs, by index.
func (r *fileRecorder) stats() ([]uint64, error) {
	out := make([]uint64, bpfprog.FilesStatCount)
	for i := range out {
		var perCPU []uint64
		if err := r.s.fstats.Lookup(r.s.id*bpfprog.FilesStatCount+uint32(i), &perCPU); err != nil {
			return nil, fmt.Errorf("read files stats: %w", err)
		}
		for _, v := range perCPU {
			out[i] += v
		}
	}
	return out, nil
}

// recordedPath is one path of the paths map, made readable.
type recordedPath struct {
	path  string
	flags uint32 // bpfprog.PathFlag*
	// changedSince: its string passes a symlink the target may have
	// changed since the call (resolveDir), or, a string nothing the call
	// changed vouches for (an exec'd script's), names what is gone: the
	// path may not be what the call named.
	changedSince bool
}

// pathString turns the kernel's leaf-first strings into a clean
// absolute path. A string the caller passed was not resolved by the
// kernel: its directory part is resolved here (symlinks, ..) as links
// are now (since: when the recording started), when the task shares
// our file tree. The object itself may be gone (unlink).
func pathString(pb *bpfprog.PathBuf, since time.Time) recordedPath {
	rp := recordedPath{flags: pb.Flags}
	parts := pb.Strings()
	var str string
	if pb.Flags&bpfprog.PathFlagString != 0 && len(parts) > 0 {
		str, parts = parts[0], parts[1:]
	}
	slices.Reverse(parts)
	p := "/" + strings.Join(parts, "/")
	if str != "" {
		if strings.HasPrefix(str, "/") {
			p = str
		} else {
			p = p + "/" + str
		}
		p = path.Clean(p)
		if pb.Flags&bpfprog.PathFlagOtherRoot == 0 {
			dir, base := path.Split(p)
			real, err := resolveDir(dir, since)
			switch {
			case errors.Is(err, errLinkChanged):
				rp.changedSince = true
			case errors.Is(err, errGone) && pb.Flags&bpfprog.PathFlagVerify == 0:
				rp.changedSince = true
			case (err == nil || errors.Is(err, errGone)) && base != "":
				p = path.Join(real, base)
			}
		}
	}
	rp.path = path.Clean(p)
	return rp
}

var (
	// errLinkChanged: a symlink on the way may have been changed by the
	// target since the call that passed the string.
	errLinkChanged = errors.New("symlink changed during the recording")
	// errGone: a component does not exist any more.
	errGone = errors.New("path gone")
)

// ctimeSlack: file systems stamp ctime from a clock that may lag the
// one time.Now reads by a tick.
const ctimeSlack = time.Second

// resolveDir resolves the symlinks of dir, an absolute path, as they are
// now, walking it a component at a time. The call that passed the
// string resolved them when it ran; the target may have changed them
// since. Making or repointing a link makes a new inode, and rename and
// link change the ctime of what they move: a link whose ctime is at or
// after since, or one reached through a component whose ctime is (a
// directory moved in front of an old link), may not be the one the call
// followed: errLinkChanged. Links older than the recording in
// directories unchanged since (/lib -> usr/lib, /var/run -> /run)
// resolve. A component that does not exist (any more) ends the walk:
// the path is returned with the rest as written, and errGone.
func resolveDir(dir string, since time.Time) (string, error) {
	const maxLinks = 40 // the kernel's MAXSYMLINKS
	since = since.Add(-ctimeSlack)
	rest := strings.Split(dir, "/")
	cur := "/"
	changed := false // a component walked so far changed since
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		var st unix.Stat_t
		if err := unix.Lstat(next, &st); err != nil {
			return path.Join(append([]string{next}, rest...)...), errGone
		}
		changed = changed || !time.Unix(st.Ctim.Unix()).Before(since)
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			cur = next
			continue
		}
		if changed {
			return "", errLinkChanged
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("resolve %s: %w", dir, unix.ELOOP)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", dir, err)
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, nil
}

// namesChanged reports whether p, a path taken from the caller's memory
// (its directory part resolved as the task would), names the inode the
// call changed in the role of the rights it asked for: the object
// itself for a truncate; its directory for a make, a remove or refer
// (the source of a rename or link is checked against its own directory,
// the destination against its own, never against the object moved). The
// kernel named each changed inode by its path at the call's exit, as the
// task sees it; with ours (p is in our file tree), one on a mount the
// kernel's walk could not take is compared by inode with what p names
// now (a directory removed since is then not found, and the access is
// not kept).
func namesChanged(p string, access uint32, c *bpfprog.Changed, ours bool) bool {
	n := min(c.N, uint32(len(c.Id)))
	name := path.Dir(p)
	if access == uint32(linuxabi.LandlockTruncate) {
		name = p
	}
	if slices.Contains(c.Path[:n], pathHash(name)) {
		return true
	}
	var st unix.Stat_t
	if !ours || unix.Lstat(name, &st) != nil {
		return false
	}
	for _, id := range c.Id[:n] {
		// The kernel's dev_t is major<<20 | minor.
		if id.Ino == st.Ino && unix.Mkdev(id.Dev>>20, id.Dev&0xfffff) == st.Dev {
			return true
		}
	}
	return false
}

// pathHash is the kernel's name for a clean absolute path (struct
// changed): FNV-1a 64 of its components, leaf first, each followed by a
// NUL.
func pathHash(p string) uint64 {
	h := fnv.New64a()
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] != "" {
			h.Write([]byte(parts[i]))
			h.Write([]byte{0})
		}
	}
	return h.Sum64()
}
