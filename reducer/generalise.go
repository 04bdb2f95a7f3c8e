package reducer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// argValues are the values seen of one argument, by argument name, so
// that family members (open's flags are openat's) share them.
type argValues struct {
	values map[uint64]bool
	flags  uint64 // union of the values seen
}

func ownValues(g *group) map[string]*argValues {
	out := map[string]*argValues{}
	addValues(out, g)
	return out
}

func addValues(out map[string]*argValues, g *group) {
	for _, spec := range policy.RecordedArgs(g.name) {
		vals := g.values[spec.Index]
		if len(vals) == 0 {
			continue
		}
		av := out[spec.Name]
		if av == nil {
			av = &argValues{values: map[uint64]bool{}}
			out[spec.Name] = av
		}
		for v := range vals {
			av.values[v] = true
		}
		av.flags |= g.flagSet[spec.Index]
	}
}

// familyValues pools the argument values seen of every family member
// that was seen, per family.
func familyValues(groups map[string]*group) map[string]map[string]*argValues {
	out := map[string]map[string]*argValues{}
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		f, ok := policy.FamilyOf(n)
		if !ok {
			continue
		}
		if out[f.Name] == nil {
			out[f.Name] = map[string]*argValues{}
		}
		addValues(out[f.Name], groups[n])
	}
	return out
}

// famPool gives a family's pooled values (by argument name) for an
// entry of phase: an entry for every phase pools only the values its
// family's calls were made with outside init-only tuples
// (phaser.servingGroups), so a value only init made (fchmod's
// set-user-ID mode) is not allowed in serving through a sibling.
type famPool func(family string, phase profiles.Phase) map[string]*argValues

// riskRules constrains the risk-bearing arguments of syscall to the
// values seen (vals, by argument name; nil when none was seen) widened
// by their safe classes; harmless arguments stay free. ok is false when
// a risky argument has neither values seen nor a safe class: the
// syscall cannot be allowed without a guess.
func riskRules(syscall string, vals map[string]*argValues, maxValues int) (rules []profiles.ArgRule, note string, ok bool) {
	var notes []string
	ok = true
	for _, spec := range policy.RecordedArgs(syscall) {
		if !spec.Risky {
			continue
		}
		av := vals[spec.Name]
		switch {
		case spec.Combos != 0:
			set := map[uint64]bool{}
			for _, v := range spec.SafeValues {
				set[v] = true
			}
			if av != nil {
				for v := range av.values {
					set[v&spec.Combos] = true
				}
			}
			rules = append(rules, profiles.ArgRule{Index: spec.Index, Op: profiles.OpIn, Mask: spec.Combos, Values: slices.Sorted(maps.Keys(set))})
		case spec.Kind == linuxabi.KindFlags:
			seen := uint64(0)
			if av != nil {
				seen = av.flags
			} else if spec.SafeBits == 0 {
				ok = false
				continue
			}
			// Bits the recorder masks out (O_CLOEXEC...) stay free.
			mask := spec.AllowedBits(seen) | ^spec.Mask()
			mask &= linuxabi.WidthMask(spec.Width)
			// A rule that forbids no bit is none (and would keep the
			// call out of the kernel's action cache).
			if r := (profiles.ArgRule{Index: spec.Index, Op: profiles.OpSubset, Mask: mask}); r.Forbidden(spec.Width) != 0 {
				rules = append(rules, r)
			}
		default:
			set := map[uint64]bool{}
			for _, v := range spec.SafeValues {
				set[v] = true
			}
			beyond := 0
			if av != nil {
				for v := range av.values {
					if !set[v] {
						beyond++
					}
					set[v] = true
				}
			}
			if len(set) == 0 {
				ok = false
				continue
			}
			if beyond > max(maxValues, riskyMaxValues) {
				notes = append(notes, fmt.Sprintf("%s not constrained: %d distinct values (more than %d)", spec.Name, beyond, max(maxValues, riskyMaxValues)))
				continue
			}
			r := profiles.ArgRule{Index: spec.Index, Op: profiles.OpIn, Values: slices.Sorted(maps.Keys(set))}
			if spec.RecordMask != 0 {
				r.Mask = spec.Mask()
			}
			rules = append(rules, r)
		}
	}
	return rules, strings.Join(notes, "; "), ok
}

// relaxRule rewrites an exact-level rule (a runtime's) in the form the
// relaxed levels use: nil for a harmless argument, widened by the safe
// class for a risky one.
func relaxRule(syscall string, r profiles.ArgRule) (profiles.ArgRule, bool) {
	spec, ok := policy.LookupArg(syscall, r.Index)
	if !ok || !spec.Risky {
		return r, false
	}
	switch {
	case spec.Combos != 0:
		set := map[uint64]bool{}
		for _, v := range spec.SafeValues {
			set[v] = true
		}
		switch r.Op {
		case profiles.OpIn:
			for _, v := range r.Values {
				set[v&spec.Combos] = true
			}
		case profiles.OpSubset:
			sub := r.Mask & spec.Combos
			for x := sub; ; x = (x - 1) & sub {
				set[x] = true
				if x == 0 {
					break
				}
			}
		}
		return profiles.ArgRule{Index: r.Index, Op: profiles.OpIn, Mask: spec.Combos, Values: slices.Sorted(maps.Keys(set))}, true
	case r.Op == profiles.OpSubset:
		r.Mask = spec.AllowedBits(r.Mask)
		return r, true
	case r.Op == profiles.OpIn:
		r.Values = slices.Clone(r.Values)
		for _, v := range spec.SafeValues {
			if !slices.Contains(r.Values, v) {
				r.Values = append(r.Values, v)
			}
		}
		slices.Sort(r.Values)
		return r, true
	}
	return r, true
}

// relaxEntries rewrites runtime entries for the relaxed levels.
func relaxEntries(ss []profiles.Syscall) []profiles.Syscall {
	out := make([]profiles.Syscall, 0, len(ss))
	for _, s := range ss {
		var args []profiles.ArgRule
		for _, r := range s.Args {
			if rr, keep := relaxRule(s.Name, r); keep {
				args = append(args, rr)
			}
		}
		s.Args = args
		out = append(out, s)
	}
	return out
}

// knownOn reports whether some arch of the profile names the syscall.
func knownOn(arches []string, name string) bool {
	for _, an := range arches {
		if a, err := linuxabi.LookupArch(an); err == nil {
			if _, ok := a.Number(name); ok {
				return true
			}
		}
	}
	return false
}

// familyMembers returns the unseen ordinary-tier members of the families
// of the syscalls seen, with the risky-argument rules the family's seen
// values give them.
func familyMembers(arches []string, groups map[string]*group, ph phaser, famValues famPool, opts Options) []profiles.Syscall {
	var out []profiles.Syscall
	rt := ph.rt
	for _, f := range policy.Families() {
		seen, who := madeBy(f.Members, groups, rt)
		if len(seen) == 0 {
			continue
		}
		for _, m := range f.Members {
			if groups[m] != nil || rt[m] || !knownOn(arches, m) {
				continue
			}
			if tier, _ := policy.TierOf(m); tier != policy.Ordinary {
				continue // never: families hold ordinary syscalls only (policy tests it)
			}
			s := profiles.Syscall{Name: m, Reason: fmt.Sprintf("family %s: a variant of %s, which %s", f.Name, strings.Join(seen, ", "), who),
				Phase: ph.of(m, seen...)}
			if opts.Level == LevelRelated {
				via, ok := opts.Reachable[m]
				if !ok {
					continue // the binary cannot make it
				}
				s.Reason += "; reachable via " + via
			}
			if opts.Args == ArgsTable {
				var ok bool
				if s.Args, s.Note, ok = riskRules(m, famValues(f.Name, s.Phase), opts.MaxValues); !ok {
					continue
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// domainMembers returns the ordinary syscalls of the domains of the
// syscalls seen, and of the jobs the runs showed, that the binary can
// reach and p does not have yet, with the rules the classes (and family
// values) of their risky arguments give; a syscall whose risky argument
// has no class is left out.
func domainMembers(p *profiles.Profile, groups map[string]*group, ph phaser, famValues famPool, opts Options) []profiles.Syscall {
	rt := ph.rt
	have := map[string]bool{}
	for _, s := range p.Syscalls {
		have[s.Name] = true
	}
	var out []profiles.Syscall
	add := func(m, why string, by []string) {
		via, ok := opts.Reachable[m]
		if !ok || have[m] || rt[m] || !knownOn(p.Arch, m) {
			return
		}
		if tier, _ := policy.TierOf(m); tier != policy.Ordinary {
			return // never: domains and jobs hold ordinary syscalls only (policy tests it)
		}
		s := profiles.Syscall{Name: m, Reason: why + "; reachable via " + via, Phase: ph.of(m, by...)}
		if opts.Args == ArgsTable {
			var vals map[string]*argValues
			if f, ok := policy.FamilyOf(m); ok {
				vals = famValues(f.Name, s.Phase)
			}
			var ok bool
			if s.Args, s.Note, ok = riskRules(m, vals, opts.MaxValues); !ok {
				return
			}
		} else if risky(m) {
			return
		}
		have[m] = true
		out = append(out, s)
	}
	for _, d := range policy.Domains() {
		seen, who := madeBy(d.Members, groups, rt)
		if len(seen) == 0 {
			continue
		}
		for _, m := range d.Members {
			add(m, fmt.Sprintf("domain %s: related to %s, which %s", d.Name, strings.Join(seen, ", "), who), seen)
		}
	}
	for _, j := range policy.Jobs() {
		shown, by, ok := jobShown(j, groups)
		if !ok {
			continue
		}
		for _, m := range j.Also {
			add(m, fmt.Sprintf("job %s: a run made %s", j.Name, strings.Join(shown, ", ")), by)
		}
	}
	return out
}

// jobReads are the files the libraries doing a job read on their own,
// by job: what a run that showed the job may read the next time its
// input calls for it.
var jobReads = map[string][]baselineRule{
	"keep-attributes": {{"/etc/xattr.conf", llReadFile, "job keep-attributes: libattr's attr_copy_file reads the attributes not to copy from /etc/xattr.conf when a file has any (cp -a, install, sed -i through gnulib)"}},
}

// jobFiles returns the jobReads of the jobs the runs showed.
func jobFiles(groups map[string]*group) []baselineRule {
	var out []baselineRule
	for _, j := range policy.Jobs() {
		if _, _, ok := jobShown(j, groups); ok {
			out = append(out, jobReads[j.Name]...)
		}
	}
	return out
}

// listing are the calls that list a directory.
var listing = []string{"getdents64", "getdents"}

// addListing allows listing directories (at LevelRelated and above,
// where the binary can reach it) when p's filesystem section lets the
// program list a directory its command line or configuration names
// (a template rule with read_dir, see listReason): a file server
// recorded serving files lists a directory when asked for one, a tool
// given a directory walks it. Listing is no job of its own otherwise:
// every program's loader opens and stats what it names.
func addListing(p *profiles.Profile, opts Options) {
	if p.Filesystem == nil {
		return
	}
	named := ""
	for _, r := range p.Filesystem.Rules {
		if t, err := profiles.ParseTemplate(r.Path); err == nil && profiles.IsTemplate(r.Path) && (t.Var == "ARG" || t.Var == "OPERANDS" || t.Var == "ARGS") && slices.Contains(r.Access, "read_dir") {
			named = r.Path
			break
		}
	}
	if named == "" {
		return
	}
	for _, m := range listing {
		via, ok := opts.Reachable[m]
		if !ok || !knownOn(p.Arch, m) || slices.ContainsFunc(p.Syscalls, func(s profiles.Syscall) bool { return s.Name == m }) {
			continue
		}
		p.Syscalls = append(p.Syscalls, profiles.Syscall{Name: m, Reason: fmt.Sprintf("job list-named: the program may list %s, a directory its command line names; reachable via %s", named, via)})
	}
}

// jobShown reports whether the runs showed job j, and the calls that
// showed it (one per element of j.When, the first seen), as shown (with
// the argument that showed it) and by name.
func jobShown(j policy.Job, groups map[string]*group) (shown, names []string, ok bool) {
	for _, alt := range j.When {
		found := ""
		for _, c := range alt {
			if g := groups[c.Name]; g != nil && (c.Arg == "" || argFlags(g, c.Arg)&c.Bits != 0) {
				found = c.Name
				names = append(names, c.Name)
				if c.Arg != "" {
					found = fmt.Sprintf("%s(%s & %#x)", c.Name, c.Arg, c.Bits)
				}
				break
			}
		}
		if found == "" {
			return nil, nil, false
		}
		shown = append(shown, found)
	}
	return shown, names, true
}

// argFlags is the union of the values g's calls passed in the argument
// called name.
func argFlags(g *group, name string) uint64 {
	for _, spec := range policy.RecordedArgs(g.name) {
		if spec.Name == name {
			return g.flagSet[spec.Index]
		}
	}
	return 0
}

// addReachable allows, at LevelReachable, the ordinary-tier syscalls the
// target can reach that p does not allow yet, constrained to the safe
// classes of their risky arguments, and lists the others in
// p.NotAllowed; at LevelRelated it only lists the sensitive and critical
// ones.
func addReachable(p *profiles.Profile, opts Options) {
	allowed := map[string]bool{}
	for _, s := range p.Syscalls {
		allowed[s.Name] = true // a deny entry (clone3 → ENOSYS) was decided on purpose
	}
	for _, n := range slices.Sorted(maps.Keys(opts.Reachable)) {
		if allowed[n] || !knownOn(p.Arch, n) {
			continue
		}
		via := "reachable via " + opts.Reachable[n]
		if tier, why := policy.TierOf(n); tier != policy.Ordinary {
			p.NotAllowed = append(p.NotAllowed, profiles.Withheld{Name: n, Tier: tier.String(),
				Reason: fmt.Sprintf("%s; %s (%s) and no run made it", via, tier, why)})
			continue
		}
		if opts.Level != LevelReachable {
			continue
		}
		s := profiles.Syscall{Name: n, Reason: via}
		if opts.Args == ArgsTable {
			args, note, ok := riskRules(n, nil, opts.MaxValues)
			if !ok {
				p.NotAllowed = append(p.NotAllowed, profiles.Withheld{Name: n, Tier: policy.Ordinary.String(),
					Reason: via + "; " + noClass(n) + ", and no run made it"})
				continue
			}
			s.Args, s.Note = args, note
		} else if risky(n) {
			// Without argument rules a risky argument would be open to
			// every value, the tiered ones too.
			p.NotAllowed = append(p.NotAllowed, profiles.Withheld{Name: n, Tier: policy.Ordinary.String(),
				Reason: via + "; its risky arguments cannot be constrained with --args none, and no run made it"})
			continue
		}
		p.Syscalls = append(p.Syscalls, s)
	}
}

// unconstrainNetworkArgs drops the rules on arguments whose risk is a
// way past a network section (linuxabi's OnlyWithNetwork) from p, which
// has none: every TCP connect is allowed anyway.
func unconstrainNetworkArgs(p *profiles.Profile) {
	for i := range p.Syscalls {
		s := &p.Syscalls[i]
		n := len(s.Args)
		s.Args = slices.DeleteFunc(s.Args, func(r profiles.ArgRule) bool {
			spec, ok := policy.LookupArg(s.Name, r.Index)
			return ok && spec.OnlyWithNetwork
		})
		if len(s.Args) < n {
			s.Note = joinNotes(s.Note, "flags not constrained: MSG_FASTOPEN matters only beside a network section, and this profile has none")
		}
	}
}

func risky(syscall string) bool {
	for _, a := range policy.RecordedArgs(syscall) {
		if a.Risky {
			return true
		}
	}
	return false
}

// noClass names the risky arguments of syscall without a safe class.
func noClass(syscall string) string {
	var names []string
	for _, a := range policy.RecordedArgs(syscall) {
		if a.Risky && a.Combos == 0 && len(a.SafeValues) == 0 && a.SafeBits == 0 {
			names = append(names, a.Name)
		}
	}
	return "no safe class for its " + strings.Join(names, ", ")
}

// harmlessNote says, for an entry whose argument tuples are too many to
// list, how many values of each harmless argument were seen and why they
// are not constrained.
func harmlessNote(g *group) string {
	var notes []string
	for _, spec := range policy.RecordedArgs(g.name) {
		if n := len(g.values[spec.Index]); n > 0 && !spec.Risky {
			notes = append(notes, fmt.Sprintf("%s: %d distinct values seen, not constrained (%s)", spec.Name, n, spec.Why))
		}
	}
	return strings.Join(notes, "; ")
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// madeBy returns the members a run made or the target's runtime makes
// (rt: the runtime set, in every profile of that runtime whatever one
// run's timing), and who made them. Counting the runtime's calls keeps a
// profile from depending on whether a timing-dependent call happened to
// come in this run.
func madeBy(members []string, groups map[string]*group, rt map[string]bool) (seen []string, who string) {
	recorded := false
	for _, m := range members {
		if groups[m] != nil || rt[m] {
			seen = append(seen, m)
			recorded = recorded || groups[m] != nil
		}
	}
	if recorded {
		return seen, "a run made"
	}
	return seen, "the target's runtime makes"
}

// ReachableAllows reports whether LevelReachable, given the syscalls the
// target can reach (Options.Reachable), would allow call s, a call a
// profile refused: s is reachable, ordinary-tier, and its recorded risky
// arguments are in their safe classes. why says which of these holds or
// fails. A call outside the classes (open for writing, a set-ID mode) is
// allowed at no level until a run makes it.
func ReachableAllows(s profiles.Sample, reachable map[string]string) (ok bool, why string) {
	via, found := reachable[s.Name]
	if !found {
		return false, "the target's binary cannot reach it (static analysis)"
	}
	if tier, reason := policy.TierOf(s.Name); tier != policy.Ordinary {
		return false, fmt.Sprintf("%s (%s), allowed only once a run makes it", tier, reason)
	}
	rules, _, ok := riskRules(s.Name, nil, 0)
	if !ok {
		return false, noClass(s.Name) + ", allowed only once a run makes it"
	}
	for _, r := range rules {
		spec, _ := policy.LookupArg(s.Name, r.Index)
		if !s.Recorded[r.Index] || !r.Match(s.Args[r.Index], spec.Width) {
			return false, fmt.Sprintf("its %s is outside the safe class, allowed only once a run makes it", spec.Name)
		}
	}
	return true, "reachable via " + via
}
