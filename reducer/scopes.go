package reducer

import (
	"slices"

	"github.com/sysrec/sysrec/profiles"
)

// Scopes returns the Landlock scopes the recordings allow the profile
// to take: signal when no kept executable signalled a process outside
// the recorded subtree, abstract_unix_socket when none reached an
// abstract unix socket. Both are facts the recorder gathers with the
// files; a recording made without them (file recording off) says
// nothing, and then no scope is taken: a scope the program needs would
// refuse it with EPERM.
func Scopes(recs []*profiles.Recording, exe string) []profiles.Scope {
	signal, abstract := true, true
	for _, r := range recs {
		if !withFiles(r) {
			return nil
		}
		if slices.ContainsFunc(r.SignalsOutside, func(c profiles.ExeCount) bool { return keepExe(exe, c.Exe) }) {
			signal = false
		}
		if slices.ContainsFunc(r.Unix, func(u profiles.UnixAccess) bool { return u.Abstract && keepExe(exe, u.Exe) }) {
			abstract = false
		}
	}
	var out []profiles.Scope
	if abstract {
		out = append(out, profiles.ScopeAbstractUnixSocket)
	}
	if signal {
		out = append(out, profiles.ScopeSignal)
	}
	return out
}

// withFiles reports whether r was recorded with file recording on.
func withFiles(r *profiles.Recording) bool {
	return len(r.Files) > 0 || len(r.Ports) > 0 || r.FilesUnresolved > 0
}
