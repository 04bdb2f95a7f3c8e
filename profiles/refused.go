package profiles

import (
	"maps"
	"path"
	"slices"

	"github.com/sysrec/sysrec/linuxabi"
)

// RefusedFiles is what Landlock, enforcing rs, would refuse of files:
// per path, the rights rs handles that no rule on the path or on a
// directory above it grants. The rights Landlock checks on the
// directory holding an object (make_*, remove_*, refer), which a
// FileAccess carries on the object, are looked up from that directory.
// One entry per path, in path order, counting the accesses that had a
// refused right; Exe is left empty. A nil rs, or one that handles no
// file right, refuses nothing.
func RefusedFiles(rs *linuxabi.LandlockRuleset, files []FileAccess) []FileAccess {
	if rs == nil || rs.HandledFS == 0 {
		return nil
	}
	byPath := map[string]*FileAccess{}
	for _, f := range files {
		m := refusedFS(rs, f.Path, f.Access)
		if m == 0 {
			continue
		}
		p := path.Clean(f.Path)
		if e := byPath[p]; e != nil {
			e.Access |= m
			e.Count += f.Count
			continue
		}
		byPath[p] = &FileAccess{Path: p, Access: m, Count: f.Count}
	}
	var out []FileAccess
	for _, p := range slices.Sorted(maps.Keys(byPath)) {
		out = append(out, *byPath[p])
	}
	return out
}

// refusedFS is the part of access on p, reported as FileAccess reports
// it, that rs does not grant. A path that is not absolute names no file
// a rule could reach (the reducer drops it too).
func refusedFS(rs *linuxabi.LandlockRuleset, p string, access uint64) uint64 {
	if !path.IsAbs(p) {
		return 0
	}
	p = path.Clean(p)
	access &= rs.HandledFS
	own, parent := access&^linuxabi.LandlockParentRights, access&linuxabi.LandlockParentRights
	return own&^granted(rs, p) | parent&^granted(rs, path.Dir(p))
}

// RefusedPorts is what Landlock, enforcing rs, would refuse of ports:
// per port, the rights rs handles that no rule on it grants, in port
// order. A nil rs, or one that handles no network right, refuses
// nothing.
func RefusedPorts(rs *linuxabi.LandlockRuleset, ports []PortAccess) []PortAccess {
	if rs == nil || rs.HandledNet == 0 {
		return nil
	}
	byPort := map[uint16]*PortAccess{}
	for _, p := range ports {
		m := p.Access & rs.HandledNet
		for _, r := range rs.Ports {
			if r.Port == p.Port {
				m &^= r.Access
			}
		}
		if m == 0 {
			continue
		}
		if e := byPort[p.Port]; e != nil {
			e.Access |= m
			e.Count += p.Count
			continue
		}
		byPort[p.Port] = &PortAccess{Port: p.Port, Access: m, Count: p.Count}
	}
	var out []PortAccess
	for _, p := range slices.Sorted(maps.Keys(byPort)) {
		out = append(out, *byPort[p])
	}
	return out
}

// Needed narrows fs, a section reduced from a run's accesses, to what a
// profile that refused the accesses refused needs of it: the rules, and
// the rights the reducer withheld, that grant a refused right, each with
// only the rights it grants of them, and the made files that make a
// refused name. Merged into that profile, the
// result grants what it refused and nothing the profile did not ask for.
func (fs *Filesystem) Needed(refused []FileAccess) *Filesystem {
	out := &Filesystem{Rules: []PathRule{}}
	for _, r := range fs.Rules {
		if m := servedFS(r.Path, r.Access, refused); m != 0 {
			r.Access = linuxabi.LandlockFSNames(m)
			out.Rules = append(out.Rules, r)
		}
	}
	for _, w := range fs.NotAllowed {
		if m := servedFS(w.Path, w.Access, refused); m != 0 {
			w.Access = linuxabi.LandlockFSNames(m)
			out.NotAllowed = append(out.NotAllowed, w)
		}
	}
	for _, m := range fs.Made {
		if m.serves(refused) {
			out.Made = append(out.Made, m)
		}
	}
	return out
}

// servedFS is the part of the rights a rule on p would grant of refused.
func servedFS(p string, access []string, refused []FileAccess) uint64 {
	m, _ := linuxabi.ParseLandlockFS(access) // validated
	one := &linuxabi.LandlockRuleset{HandledFS: linuxabi.LandlockFSRights(linuxabi.LandlockABI), Paths: []linuxabi.LandlockPath{{Path: p, Access: m}}}
	var served uint64
	for _, f := range refused {
		served |= f.Access &^ refusedFS(one, f.Path, f.Access)
	}
	return served
}

// Needed narrows n, a section reduced from a run's ports, to the rules
// that grant a right of refused.
func (n *Network) Needed(refused []PortAccess) *Network {
	out := &Network{Rules: []PortRule{}}
	for _, r := range n.Rules {
		m, _ := linuxabi.ParseLandlockNet([]string{r.Access}) // validated
		if slices.ContainsFunc(refused, func(p PortAccess) bool { return p.Port == r.Port && p.Access&m != 0 }) {
			out.Rules = append(out.Rules, r)
		}
	}
	return out
}
