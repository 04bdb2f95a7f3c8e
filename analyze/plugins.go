package analyze

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/internal/regularfile"
)

// nssDB describes one NSS database: the libc functions that consult it
// and the prefixes of the functions libc calls in an NSS module for it
// (_nss_SERVICE_PREFIX...).
type nssDB struct {
	name     string
	triggers []string
	funcs    []string
}

var nssDBs = []nssDB{
	{"passwd", []string{"getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r", "getpwent", "getpwent_r", "setpwent", "getlogin", "getlogin_r", "cuserid"},
		[]string{"getpw", "setpwent", "endpwent"}},
	{"group", []string{"getgrnam", "getgrnam_r", "getgrgid", "getgrgid_r", "getgrent", "getgrent_r", "setgrent", "initgroups", "getgrouplist"},
		[]string{"getgr", "setgrent", "endgrent", "initgroups_dyn"}},
	{"shadow", []string{"getspnam", "getspnam_r", "getspent", "getspent_r"}, []string{"getsp", "setspent", "endspent"}},
	{"gshadow", []string{"getsgnam", "getsgnam_r", "getsgent", "getsgent_r"}, []string{"getsg", "setsgent", "endsgent"}},
	{"hosts", []string{"gethostbyname", "gethostbyname_r", "gethostbyname2", "gethostbyname2_r", "gethostbyaddr", "gethostbyaddr_r", "getaddrinfo", "getnameinfo", "gethostent", "gethostent_r"},
		[]string{"gethost", "getcanonname", "sethostent", "endhostent"}},
	{"networks", []string{"getnetbyname", "getnetbyname_r", "getnetbyaddr", "getnetbyaddr_r", "getnetent", "getnetent_r"},
		[]string{"getnetby", "getnetent", "setnetent", "endnetent"}},
	{"services", []string{"getservbyname", "getservbyname_r", "getservbyport", "getservbyport_r", "getservent", "getservent_r", "getaddrinfo", "getnameinfo"},
		[]string{"getserv", "setservent", "endservent"}},
	{"protocols", []string{"getprotobyname", "getprotobyname_r", "getprotobynumber", "getprotobynumber_r", "getprotoent", "getprotoent_r"},
		[]string{"getproto", "setprotoent", "endprotoent"}},
	{"rpc", []string{"getrpcbyname", "getrpcbyname_r", "getrpcbynumber", "getrpcbynumber_r", "getrpcent", "getrpcent_r"},
		[]string{"getrpc", "setrpcent", "endrpcent"}},
	{"ethers", []string{"ether_ntohost", "ether_hostton"}, []string{"getntohost", "gethostton", "getetherent", "setetherent", "endetherent"}},
	{"netgroup", []string{"setnetgrent", "getnetgrent", "getnetgrent_r", "innetgr"}, []string{"setnetgrent", "getnetgrent", "endnetgrent"}},
	{"aliases", []string{"getaliasbyname", "getaliasbyname_r", "getaliasent", "getaliasent_r"}, []string{"getalias", "setaliasent", "endaliasent"}},
}

// nssBuiltin are services glibc (2.34 and later) implements itself: they
// load nothing.
var nssBuiltin = map[string]bool{"files": true, "dns": true}

// parseNSSwitch reads nsswitch.conf: database → services, in order.
func parseNSSwitch(b []byte) map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		db, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var svcs []string
		for _, f := range strings.Fields(rest) {
			if strings.HasPrefix(f, "[") || strings.HasSuffix(f, "]") || strings.Contains(f, "=") {
				continue // [NOTFOUND=return] and friends
			}
			svcs = append(svcs, f)
		}
		out[strings.TrimSpace(db)] = svcs
	}
	return out
}

// plugins adds the libraries libc would dlopen for what the walk reached:
// NSS modules for the databases reached functions consult, gconv modules
// when iconv_open is reached, and libgcc_s when thread cancellation or
// backtrace is. It reports whether it added anything.
func (l *linker) plugins(w *walk) bool {
	reachedFn := func(name string) (int32, bool) {
		for _, m := range l.mods {
			if n, ok := m.nodeNamed(name); ok && w.reached(m.base+n) {
				return m.base + n, true
			}
		}
		return 0, false
	}
	added := false
	conf := l.opts.NSSwitch
	if conf == "" {
		conf = "/etc/nsswitch.conf"
	}
	var nss map[string][]string
	for _, db := range nssDBs {
		var trig []int32
		for _, t := range db.triggers {
			if g, ok := reachedFn(t); ok && !slices.Contains(trig, g) {
				trig = append(trig, g)
			}
		}
		if len(trig) == 0 {
			continue
		}
		if nss == nil {
			b, err := regularfile.Read(conf, maxConfigSize)
			if err != nil && !os.IsNotExist(err) {
				l.warnings = append(l.warnings, err.Error())
			}
			nss = parseNSSwitch(b)
		}
		svcs := nss[db.name]
		if db.name == "group" {
			svcs = append(slices.Clone(svcs), nss["initgroups"]...)
		}
		for _, svc := range svcs {
			if nssBuiltin[svc] {
				continue
			}
			why := fmt.Sprintf("NSS module for %s (%s)", db.name, filepath.Base(conf))
			m := l.loadPlugin("libnss_"+svc+".so.2", why)
			if m == nil {
				continue
			}
			prefix := "_nss_" + svc + "_"
			for _, e := range m.sum.Exports {
				if e.Node < 0 || !strings.HasPrefix(e.Name, prefix) || !hasAnyPrefix(strings.TrimPrefix(e.Name, prefix), db.funcs) {
					continue
				}
				added = l.addExtra(trig, m.base+e.Node, why) || added
			}
		}
	}
	if g, ok := reachedFn("iconv_open"); ok {
		dir := filepath.Join(l.libcDir(), "gconv")
		files, err := filepath.Glob(filepath.Join(dir, "*.so"))
		if err != nil {
			l.warnings = append(l.warnings, fmt.Sprintf("gconv modules: %v", err))
		}
		why := "gconv module for iconv_open"
		for _, f := range files {
			m := l.loadPlugin(f, why)
			if m == nil {
				continue
			}
			for _, name := range []string{"gconv", "gconv_init", "gconv_end"} {
				if n, ok := m.nodeNamed(name); ok {
					added = l.addExtra([]int32{g}, m.base+n, why) || added
				}
			}
		}
	}
	var unwind []int32
	for _, t := range []string{"pthread_cancel", "pthread_exit", "backtrace"} {
		if g, ok := reachedFn(t); ok {
			unwind = append(unwind, g)
		}
	}
	if len(unwind) > 0 {
		why := "unwinder libc loads for cancellation and backtrace"
		if m := l.loadPlugin("libgcc_s.so.1", why); m != nil {
			for _, e := range m.sum.Exports {
				if e.Node >= 0 && (strings.HasPrefix(e.Name, "_Unwind_") || e.Name == "__gcc_personality_v0") {
					added = l.addExtra(unwind, m.base+e.Node, why) || added
				}
			}
		}
	}
	return added
}

// loadPlugin loads a library libc opens with dlopen, and what it needs.
func (l *linker) loadPlugin(name, why string) *module {
	if l.pluginDone[name] {
		for _, m := range l.mods {
			if m.path == name || filepath.Base(m.path) == name || m.sum.Soname == name {
				return m
			}
		}
		return nil
	}
	l.pluginDone[name] = true
	var libc *module
	for _, m := range l.mods {
		if strings.HasPrefix(m.name, "libc.so") {
			libc = m
		}
	}
	p, _, err := l.search.Find(name, libc.requester(), l.exe.requester())
	if err != nil {
		l.missing = append(l.missing, fmt.Sprintf("%s (%s)", name, why))
		return nil
	}
	n := len(l.mods)
	m, err := l.load(p, why, false)
	if err != nil {
		l.missing = append(l.missing, fmt.Sprintf("%s (%s): %v", name, why, err))
		return nil
	}
	if len(l.mods) > n {
		l.loadNeeded(n, " for "+m.name)
		for _, o := range l.mods[n:] {
			l.addInits(o)
		}
	}
	return m
}

func (l *linker) addExtra(from []int32, to int32, why string) bool {
	added := false
	for _, f := range from {
		dup := false
		for _, e := range l.extra[f] {
			if e.to == to {
				dup = true
				break
			}
		}
		if !dup {
			l.extra[f] = append(l.extra[f], extraEdge{to: to, why: why})
			added = true
		}
	}
	return added
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
