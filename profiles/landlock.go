package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
)

// Filesystem is what the program may do to files, enforced with Landlock
// on the resolved object (no time-of-check/time-of-use race). A profile
// with this section denies every right Landlock handles except those its
// rules grant. Landlock does not restrict stat(2) or access(2).
type Filesystem struct {
	Rules []PathRule `json:"rules"`
	// NotAllowed lists rights the recordings used that the rules do not
	// grant, and why: a write right on a directory such as /, /etc, /tmp
	// or $HOME as a whole, which would reach every file in it. Adding
	// the entry's path and rights to Rules grants them (information
	// for show and diff; enforcement never sees it).
	NotAllowed []PathWithheld `json:"not_allowed,omitempty"`
	// Made are files in directories kept whole that run's supervisor
	// creates, replaces and removes for the program (see MadeFile).
	Made []MadeFile `json:"made,omitempty"`
	// ThreadNames lets the program name its threads through
	// /proc/self/task/TID/comm, which run's supervisor opens for it (see
	// threadnames.go).
	ThreadNames bool `json:"thread_names,omitempty"`
	// Unresolved counts accesses the recorder could not resolve to a
	// path (information only).
	Unresolved uint64 `json:"unresolved,omitempty"`
}

// PathRule grants Access beneath Path: the file itself, or everything
// under a directory.
type PathRule struct {
	// Path is a clean absolute path, or a template ($ARG2/.., $CWD,
	// $HOME/.cache/app: see Template) that Instantiate replaces.
	Path string `json:"path"`
	// Access names Landlock rights: execute, read_file, read_dir,
	// write_file, truncate, remove_file, remove_dir, make_reg, make_dir,
	// make_sym, make_sock, make_fifo, make_char, make_block, refer,
	// ioctl_dev.
	Access []string `json:"access"`
	Count  uint64   `json:"count,omitempty"`
	Reason string   `json:"reason,omitempty"`

	// optional rules come from a template that names paths which may
	// not exist ($ARGS: every argument, options and words too): when
	// missing they grant nothing and nobody needs telling.
	optional bool
}

// PathWithheld is a right on a path that the recordings used and the
// profile does not grant.
type PathWithheld struct {
	Path   string   `json:"path"`
	Access []string `json:"access"`
	Count  uint64   `json:"count,omitempty"`
	Reason string   `json:"reason"`
}

// Grant is the rule that would grant w, as it would appear in
// filesystem.rules.
func (w PathWithheld) Grant() string {
	b, _ := json.Marshal(PathRule{Path: w.Path, Access: w.Access})
	return string(b)
}

// Network is the TCP ports the program may bind and connect to. A
// profile with this section denies every other TCP bind and connect.
type Network struct {
	Rules []PortRule `json:"rules"`
}

// PortRule grants Access (bind_tcp or connect_tcp) on Port.
type PortRule struct {
	Access string `json:"access"`
	// Port is the port granted; with From, the one the recording saw.
	Port uint16 `json:"port"`
	// From ("$ARGn"), when set, takes the port from argument n of the
	// command line when the profile is instantiated (see Instantiate).
	From string `json:"from,omitempty"`
	// Key, with From, takes the port from the file argument n names
	// instead: from its lines whose first word is Key (a configuration
	// file's "listen" or "server.port"; see ConfigPorts).
	Key    string `json:"key,omitempty"`
	Count  uint64 `json:"count,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// portText is the port, or the argument it comes from (with the port
// recorded).
func (r PortRule) portText() string {
	if r.Key != "" {
		return fmt.Sprintf("%s %s (recorded: %d)", r.From, r.Key, r.Port)
	}
	if r.From != "" {
		return fmt.Sprintf("%s (recorded: %d)", r.From, r.Port)
	}
	return strconv.Itoa(int(r.Port))
}

// portKey is what makes two port rules the same rule: the argument a
// port comes from, else the port.
func (r PortRule) portKey() string {
	if r.Key != "" {
		return r.From + " " + r.Key
	}
	if r.From != "" {
		return r.From
	}
	return strconv.Itoa(int(r.Port))
}

// Scope is a Landlock scope: the program may not reach processes
// outside its own tree (the target and what it starts) through this
// kind of IPC.
type Scope string

const (
	// ScopeSignal refuses signals to other processes (EPERM).
	ScopeSignal Scope = "signal"
	// ScopeAbstractUnixSocket refuses connecting or sending to abstract
	// unix sockets other processes created (EPERM).
	ScopeAbstractUnixSocket Scope = "abstract_unix_socket"
)

func (s *Scope) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return &valueError{raw: b, err: errors.New("scope must be a string")}
	}
	if _, err := linuxabi.ParseLandlockScopes([]string{name}); err != nil {
		return &valueError{raw: b, err: err}
	}
	*s = Scope(name)
	return nil
}

// scopeBits returns the Landlock scope bits of names (validated).
func scopeBits(names []Scope) (uint64, error) {
	strs := make([]string, len(names))
	for i, n := range names {
		strs[i] = string(n)
	}
	return linuxabi.ParseLandlockScopes(strs)
}

// scopeNames returns the scopes of m in the kernel's bit order.
func scopeNames(m uint64) []Scope {
	var out []Scope
	for _, n := range linuxabi.LandlockScopeNames(m) {
		out = append(out, Scope(n))
	}
	return out
}

// minVersion is the oldest schema a profile needs: version 1 cannot say
// filesystem, network or scopes, version 2 phases.
func (p *Profile) minVersion() int {
	if p.Phases != nil || p.HasPhases() {
		return 3
	}
	if p.Filesystem != nil || p.Network != nil || len(p.Scopes) > 0 {
		return 2
	}
	return 1
}

func (p *Profile) validateLandlock() error {
	if p.Version < 2 && (p.Filesystem != nil || p.Network != nil || len(p.Scopes) > 0) {
		return fmt.Errorf("field version: filesystem, network and scopes sections need version 2, the profile says %d", p.Version)
	}
	for i, s := range p.Scopes {
		if _, err := scopeBits([]Scope{s}); err != nil {
			return fmt.Errorf("field scopes[%d]: %w", i, err)
		}
	}
	if fs := p.Filesystem; fs != nil {
		for i, r := range fs.Rules {
			if err := validPathRights(fmt.Sprintf("filesystem.rules[%d]", i), r.Path, r.Access, true); err != nil {
				return err
			}
		}
		for i, w := range fs.NotAllowed {
			if err := validPathRights(fmt.Sprintf("filesystem.not_allowed[%d]", i), w.Path, w.Access, false); err != nil {
				return err
			}
		}
		for i, m := range fs.Made {
			if err := validMade(i, m); err != nil {
				return err
			}
		}
	}
	if n := p.Network; n != nil {
		for i, r := range n.Rules {
			if _, err := linuxabi.ParseLandlockNet([]string{r.Access}); err != nil {
				return &fieldError{fmt.Sprintf("network.rules[%d].access", i), err}
			}
			if r.From == "" {
				if r.Key != "" {
					return &fieldError{fmt.Sprintf("network.rules[%d].key", i), errors.New("a key names the line of the file an argument names: it needs from")}
				}
				continue
			}
			if t, err := ParseTemplate(r.From); err != nil || t.Var != "ARG" || t.Parent || t.Rel != "" {
				if err == nil {
					err = fmt.Errorf("%q: a port comes from an argument ($ARGn)", r.From)
				}
				return &fieldError{fmt.Sprintf("network.rules[%d].from", i), err}
			}
			if r.Key != "" && !validKey(r.Key) {
				return &fieldError{fmt.Sprintf("network.rules[%d].key", i), fmt.Errorf("%q is not the first word of a configuration line", r.Key)}
			}
		}
	}
	return nil
}

// validPathRights checks the path (a template, if templates) and rights
// of the entry at field.
func validPathRights(field, p string, access []string, templates bool) error {
	switch {
	case templates && IsTemplate(p):
		if _, err := ParseTemplate(p); err != nil {
			return &fieldError{field + ".path", err}
		}
	case !path.IsAbs(p) || path.Clean(p) != p:
		return &fieldError{field + ".path", fmt.Errorf("%q is not a clean absolute path", p)}
	}
	if len(access) == 0 {
		return &fieldError{field + ".access", errors.New("no right listed")}
	}
	if _, err := linuxabi.ParseLandlockFS(access); err != nil {
		return &fieldError{field + ".access", err}
	}
	return nil
}

// Landlock returns p's Landlock ruleset, or nil when p has no
// filesystem, network or scopes section (nothing to restrict). The
// ruleset handles every right of the newest ABI sysrec knows; enforcement
// narrows it to what the running kernel handles. A profile with scopes
// alone gives a ruleset that handles no right and only scopes.
func (p *Profile) Landlock() *linuxabi.LandlockRuleset {
	if p.Filesystem == nil && p.Network == nil && len(p.Scopes) == 0 {
		return nil
	}
	rs := &linuxabi.LandlockRuleset{}
	rs.Scoped, _ = scopeBits(p.Scopes) // validated
	if p.Filesystem != nil {
		rs.HandledFS = linuxabi.LandlockFSRights(linuxabi.LandlockABI)
		for _, r := range p.Filesystem.Rules {
			m, _ := linuxabi.ParseLandlockFS(r.Access) // validated
			rs.Paths = append(rs.Paths, linuxabi.LandlockPath{Path: r.Path, Access: m, Optional: r.optional})
		}
		rs.Paths = append(rs.Paths, p.madeRules()...)
	}
	if p.Network != nil {
		rs.HandledNet = linuxabi.LandlockNetRights(linuxabi.LandlockABI)
		for _, r := range p.Network.Rules {
			m, _ := linuxabi.ParseLandlockNet([]string{r.Access}) // validated
			rs.Ports = append(rs.Ports, linuxabi.LandlockPort{Port: r.Port, Access: m})
		}
	}
	return rs
}

// normalizeLandlock sorts rules (paths, then ports) and scopes, and
// merges duplicates.
func (p *Profile) normalizeLandlock() {
	if m, err := scopeBits(p.Scopes); err == nil && len(p.Scopes) > 0 {
		p.Scopes = scopeNames(m) // unknown names stay for Validate to name
	}
	if fs := p.Filesystem; fs != nil {
		byPath := map[string]*PathRule{}
		for _, r := range fs.Rules {
			if e := byPath[r.Path]; e != nil {
				e.Access = unionRights(e.Access, r.Access, false)
				e.Count += r.Count
				e.optional = e.optional && r.optional
				if e.Reason == "" {
					e.Reason = r.Reason
				}
				continue
			}
			r.Access = unionRights(nil, r.Access, false)
			byPath[r.Path] = &r
		}
		fs.Rules = fs.Rules[:0]
		for _, k := range slices.Sorted(maps.Keys(byPath)) {
			fs.Rules = append(fs.Rules, *byPath[k])
		}
		if fs.Rules == nil {
			fs.Rules = []PathRule{}
		}
		fs.NotAllowed = normalizeWithheld(fs)
		normalizeMade(fs)
	}
	if n := p.Network; n != nil {
		// A port from the command line is one rule, whichever port each
		// recording saw.
		type key struct {
			access string
			port   uint16
			from   string
			key    string
		}
		by := map[key]*PortRule{}
		for _, r := range n.Rules {
			k := key{r.Access, r.Port, r.From, r.Key}
			if r.From != "" {
				k.port = 0
			}
			if e := by[k]; e != nil {
				e.Count += r.Count
				continue
			}
			by[k] = &r
		}
		n.Rules = n.Rules[:0]
		for _, k := range slices.SortedFunc(maps.Keys(by), func(a, b key) int {
			if a.port != b.port {
				return int(a.port) - int(b.port)
			}
			if a.from != b.from {
				return strings.Compare(a.from, b.from)
			}
			if a.key != b.key {
				return strings.Compare(a.key, b.key)
			}
			return strings.Compare(a.access, b.access)
		}) {
			n.Rules = append(n.Rules, *by[k])
		}
		if n.Rules == nil {
			n.Rules = []PortRule{}
		}
	}
}

// normalizeWithheld merges fs's withheld rights per path, in path order,
// leaving out rights fs's rules grant after all (a merge with a profile
// that grants them).
func normalizeWithheld(fs *Filesystem) []PathWithheld {
	if len(fs.NotAllowed) == 0 {
		return nil
	}
	rs := (&Profile{Filesystem: fs}).Landlock()
	byPath := map[string]*PathWithheld{}
	for _, w := range fs.NotAllowed {
		if e := byPath[w.Path]; e != nil {
			e.Access = unionRights(e.Access, w.Access, false)
			e.Count += w.Count
			continue
		}
		w.Access = unionRights(nil, w.Access, false)
		byPath[w.Path] = &w
	}
	var out []PathWithheld
	for _, k := range slices.Sorted(maps.Keys(byPath)) {
		w := *byPath[k]
		m, _ := linuxabi.ParseLandlockFS(w.Access)
		if m &^= granted(rs, w.Path); m == 0 {
			continue
		}
		w.Access = linuxabi.LandlockFSNames(m)
		out = append(out, w)
	}
	return out
}

// unionRights joins right names, in the kernel's bit order.
func unionRights(a, b []string, net bool) []string {
	parse, names := linuxabi.ParseLandlockFS, linuxabi.LandlockFSNames
	if net {
		parse, names = linuxabi.ParseLandlockNet, linuxabi.LandlockNetNames
	}
	ma, _ := parse(a)
	mb, _ := parse(b)
	return names(ma | mb)
}

// mergeLandlock joins the sections of ps into out: a section missing
// from one input means that input restricted nothing, so the merge
// restricts nothing either; likewise a scope stays only if every input
// has it.
func mergeLandlock(out *Profile, ps []*Profile) {
	fsAll, netAll := true, true
	scoped := ^uint64(0)
	for _, p := range ps {
		fsAll = fsAll && p.Filesystem != nil
		netAll = netAll && p.Network != nil
		m, _ := scopeBits(p.Scopes) // validated
		scoped &= m
	}
	out.Scopes = scopeNames(scoped)
	if fsAll {
		out.Filesystem = &Filesystem{}
		for _, p := range ps {
			out.Filesystem.Rules = append(out.Filesystem.Rules, p.Filesystem.Rules...)
			out.Filesystem.NotAllowed = append(out.Filesystem.NotAllowed, p.Filesystem.NotAllowed...)
			out.Filesystem.Made = append(out.Filesystem.Made, p.Filesystem.Made...)
			out.Filesystem.ThreadNames = out.Filesystem.ThreadNames || p.Filesystem.ThreadNames
			out.Filesystem.Unresolved += p.Filesystem.Unresolved
		}
	}
	if netAll {
		out.Network = &Network{}
		for _, p := range ps {
			out.Network.Rules = append(out.Network.Rules, p.Network.Rules...)
		}
	}
	out.normalizeLandlock()
}

// droppedScopes lists the scopes o has and nw does not: nw lets the
// program signal, or connect to the abstract sockets of, processes o kept
// it away from.
func droppedScopes(o, nw *Profile) []string {
	om, _ := scopeBits(o.Scopes)
	nm, _ := scopeBits(nw.Scopes)
	var out []string
	for _, s := range linuxabi.LandlockScopeNames(om &^ nm) {
		out = append(out, "scope "+s+": no longer restricted")
	}
	return out
}

// diffLandlock lists what nw grants on files and ports that o does not.
func diffLandlock(o, nw *Profile) []string {
	var out []string
	switch {
	case nw.Filesystem == nil && o.Filesystem != nil:
		out = append(out, "filesystem: no longer restricted")
	case nw.Filesystem != nil && o.Filesystem != nil:
		old := o.Landlock()
		for _, r := range nw.Landlock().Paths {
			if extra := r.Access &^ granted(old, r.Path); extra != 0 {
				line := fmt.Sprintf("+ %s %s", Printable(r.Path), strings.Join(linuxabi.LandlockFSNames(extra), ","))
				for _, w := range o.Filesystem.NotAllowed {
					if m, _ := linuxabi.ParseLandlockFS(w.Access); w.Path == r.Path && m&extra != 0 {
						line += " — OLD withheld it: " + w.Reason
					}
				}
				out = append(out, line)
			}
		}
		out = append(out, diffMade(o.Filesystem, nw.Filesystem)...)
		if nw.Filesystem.ThreadNames && !o.Filesystem.ThreadNames {
			out = append(out, "+ thread names (ordinary: sysrec's supervisor opens /proc/self/task/TID/comm of the program's own threads for it)")
		}
	}
	switch {
	case nw.Network == nil && o.Network != nil:
		out = append(out, "network: no longer restricted")
	case nw.Network != nil && o.Network != nil:
		for _, r := range nw.Network.Rules {
			if !slices.ContainsFunc(o.Network.Rules, func(x PortRule) bool { return x.Access == r.Access && x.portKey() == r.portKey() }) {
				out = append(out, fmt.Sprintf("+ %s %s", r.Access, r.portText()))
			}
		}
	}
	return out
}

// granted is the union of the rights rs grants on p: rules on p itself
// and on every directory above it.
func granted(rs *linuxabi.LandlockRuleset, p string) uint64 {
	var m uint64
	for _, r := range rs.Paths {
		if r.Path == p || r.Path == "/" || strings.HasPrefix(p, r.Path+"/") {
			m |= r.Access
		}
	}
	return m
}

// formatLandlock prints the sections for show.
func formatLandlock(p *Profile) string {
	var b strings.Builder
	if len(p.Scopes) > 0 {
		names := make([]string, len(p.Scopes))
		for i, s := range p.Scopes {
			names[i] = string(s)
		}
		fmt.Fprintf(&b, "\nscopes (Landlock): %s (refused outside the program's own process tree)\n", strings.Join(names, ", "))
	}
	if fs := p.Filesystem; fs != nil {
		fmt.Fprintf(&b, "\nfilesystem (Landlock): %d rules", len(fs.Rules))
		if fs.Unresolved > 0 {
			fmt.Fprintf(&b, ", %d accesses not resolved to a path", fs.Unresolved)
		}
		b.WriteString("\n")
		for _, r := range fs.Rules {
			fmt.Fprintf(&b, "  %-40s %s", Printable(r.Path), strings.Join(r.Access, ","))
			if r.Reason != "" {
				fmt.Fprintf(&b, "  (%s)", r.Reason)
			}
			b.WriteString("\n")
		}
		if len(fs.NotAllowed) > 0 {
			b.WriteString("not allowed (filesystem), although the recording used it:\n")
			for _, w := range fs.NotAllowed {
				fmt.Fprintf(&b, "  %-40s %s  (%s)\n", Printable(w.Path), strings.Join(w.Access, ","), Printable(w.Reason))
				fmt.Fprintf(&b, "  %-40s to grant it, add to filesystem.rules: %s\n", "", w.Grant())
			}
		}
		formatMade(&b, fs)
		if fs.ThreadNames {
			fmt.Fprintf(&b, "thread names: /proc/self/task/TID/comm opened by sysrec's supervisor (run)  (%s)\n", ThreadNamesReason)
		}
	}
	if n := p.Network; n != nil {
		fmt.Fprintf(&b, "\nnetwork (Landlock): %d rules\n", len(n.Rules))
		for _, r := range n.Rules {
			fmt.Fprintf(&b, "  %-12s %s\n", r.Access, r.portText())
		}
	}
	return b.String()
}
