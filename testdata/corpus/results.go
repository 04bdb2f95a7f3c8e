package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// heldOutResult is one held-out input run three ways.
type heldOutResult struct {
	Input string `json:"input"`
	// Argv is the command line, $ROOT for the run's directory.
	Argv []string `json:"argv"`
	// Whole is the profile as recorded (files and ports on, the
	// default); Syscalls its syscall part alone (run --landlock off);
	// FsOff the profile of the same recording made with --fs off.
	Whole    outcome  `json:"whole"`
	Syscalls outcome  `json:"syscalls"`
	FsOff    *outcome `json:"fs_off,omitempty"`
}

// reachResult is one reaching run: the program's input told it to read
// a secret its command line does not name.
type reachResult struct {
	Input    string   `json:"input"`
	Secret   string   `json:"secret"`
	Refused  bool     `json:"refused"`
	Landlock []string `json:"landlock,omitempty"`
}

type programResult struct {
	Name     string `json:"name"`
	Observed int    `json:"observed"`
	Allowed  int    `json:"allowed"`
	// Rules counts allowed syscalls with argument rules; Harmless the
	// rules on arguments whose values do not differ in risk.
	Rules    int `json:"rules"`
	Harmless int `json:"harmless_rules"`
	// FileRules and PortRules count the Landlock rules.
	FileRules int `json:"file_rules"`
	PortRules int `json:"port_rules"`
	// Unobserved lists sensitive or critical syscalls or values allowed
	// that the recording did not make.
	Unobserved []string `json:"unobserved"`
	// BroadWrites lists rules granting a write right on /, /etc, $HOME
	// or /tmp as a whole.
	BroadWrites []string `json:"broad_writes"`

	// Again is the recorded input run once more under the profile, at
	// the same paths and port.
	Again       outcome `json:"recorded_again"`
	AgainPassed int     `json:"recorded_again_passed"`

	HeldOut        int `json:"held_out"`
	PassedWhole    int `json:"passed_whole"`
	PassedSyscalls int `json:"passed_syscalls"`
	PassedFsOff    int `json:"passed_fs_off"`
	Reaching       int `json:"reaching"`
	Refused        int `json:"refused"`
	// Unreachable counts reaching runs left out: the program did not
	// get the secret even without sysrec.
	Unreachable int `json:"unreachable"`

	Runs  []heldOutResult `json:"runs"`
	Reach []reachResult   `json:"reach"`
}

func (pr *programResult) add(h heldOutResult) {
	pr.HeldOut++
	pr.PassedWhole += boolInt(h.Whole.Passed)
	pr.PassedSyscalls += boolInt(h.Syscalls.Passed)
	if h.FsOff != nil {
		pr.PassedFsOff += boolInt(h.FsOff.Passed)
	}
	pr.Runs = append(pr.Runs, h)
}

func (pr *programResult) addReach(rr reachResult) {
	pr.Reaching++
	pr.Refused += boolInt(rr.Refused)
	pr.Reach = append(pr.Reach, rr)
}

// count fills the profile's syscall numbers in.
func (pr *programResult) count(p *profiles.Profile) {
	observed, allowed, rules := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range p.Syscalls {
		if s.Count > 0 {
			observed[s.Name] = true
		}
		if !s.EffectiveAction().Allows() {
			continue
		}
		allowed[s.Name] = true
		if len(s.Args) > 0 {
			rules[s.Name] = true
		}
		for _, r := range s.Args {
			if spec, ok := policy.LookupArg(s.Name, r.Index); !ok || !spec.Risky {
				pr.Harmless++
			}
		}
		tier, _ := profiles.EntryTier(s)
		if tier == policy.Ordinary {
			continue
		}
		if s.Count == 0 {
			pr.Unobserved = append(pr.Unobserved, fmt.Sprintf("%s (%s)", profiles.FormatCall(s), tier))
		} else if seen, ok := seenTier(s); ok && seen < tier {
			pr.Unobserved = append(pr.Unobserved, fmt.Sprintf("%s (%s; the run made only %s values)", profiles.FormatCall(s), tier, seen))
		}
	}
	pr.Observed, pr.Allowed, pr.Rules = len(observed), len(allowed), len(rules)
}

// writeRights are the Landlock rights that change what is beneath a
// rule's path.
var writeRights = []string{"write_file", "truncate", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer"}

// countLandlock counts the profile's Landlock rules and lists the broad
// write rules. It reads the JSON as data, not through the profiles
// package, so that a rule's path stays what the file says (a template
// such as $HOME counts as $HOME).
func (pr *programResult) countLandlock(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var p struct {
		Filesystem struct {
			Rules []struct {
				Path   string   `json:"path"`
				Access []string `json:"access"`
			} `json:"rules"`
		} `json:"filesystem"`
		Network struct {
			Rules []json.RawMessage `json:"rules"`
		} `json:"network"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	pr.FileRules, pr.PortRules = len(p.Filesystem.Rules), len(p.Network.Rules)
	broad := []string{"/", "/etc", "/tmp", "/var/tmp", home(), "$HOME", "${HOME}", "$TMPDIR", "${TMPDIR}"}
	for _, r := range p.Filesystem.Rules {
		path := strings.TrimSuffix(r.Path, "/")
		if path == "" {
			path = "/"
		}
		if !slices.Contains(broad, path) {
			continue
		}
		var w []string
		for _, a := range r.Access {
			if slices.Contains(writeRights, a) {
				w = append(w, a)
			}
		}
		if len(w) > 0 {
			pr.BroadWrites = append(pr.BroadWrites, fmt.Sprintf("%s on %s", strings.Join(w, ","), r.Path))
		}
	}
	return nil
}

// seenTier is the highest tier of the calls s's recording made, from its
// seen argument tuples; false when they were too many to be listed.
func seenTier(s profiles.Syscall) (policy.Tier, bool) {
	best, _ := policy.TierOf(s.Name)
	if len(policy.RecordedArgs(s.Name)) == 0 {
		return best, true
	}
	if len(s.Seen) == 0 {
		return 0, false
	}
	for key := range s.Seen {
		for _, part := range strings.Split(key, ", ") {
			name, val, _ := strings.Cut(part, "=")
			for _, spec := range policy.RecordedArgs(s.Name) {
				if spec.Name != name {
					continue
				}
				v, ok := linuxabi.ParseSymbol(spec.Consts, val, spec.Kind == linuxabi.KindFlags)
				if !ok {
					return 0, false
				}
				t, _ := spec.ValueTier(v)
				best = max(best, t)
			}
		}
	}
	return best, true
}

type levelResult struct {
	Level string `json:"level"`
	// FsOff says whether the --fs off column was measured.
	FsOff       bool            `json:"fs_off"`
	Programs    []programResult `json:"programs"`
	Reruns      int             `json:"reruns,omitempty"`
	RerunKills  int             `json:"rerun_kills"`
	RerunFailed int             `json:"rerun_failed"`
	Total       programResult   `json:"total"`
}

func (lr *levelResult) total() {
	t := programResult{Name: "total", Unobserved: []string{}, BroadWrites: []string{}}
	for _, p := range lr.Programs {
		t.Observed += p.Observed
		t.Allowed += p.Allowed
		t.Rules += p.Rules
		t.Harmless += p.Harmless
		t.FileRules += p.FileRules
		t.PortRules += p.PortRules
		t.AgainPassed += boolInt(p.Again.Passed)
		t.HeldOut += p.HeldOut
		t.PassedWhole += p.PassedWhole
		t.PassedSyscalls += p.PassedSyscalls
		t.PassedFsOff += p.PassedFsOff
		t.Reaching += p.Reaching
		t.Refused += p.Refused
		t.Unreachable += p.Unreachable
		for _, u := range p.Unobserved {
			t.Unobserved = append(t.Unobserved, p.Name+": "+u)
		}
		for _, w := range p.BroadWrites {
			t.BroadWrites = append(t.BroadWrites, p.Name+": "+w)
		}
	}
	lr.Total = t
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// misses lists the targets of the issue this level does not meet; part
// says which held-out passing is held to 95%.
func (lr *levelResult) misses(ruleShare float64, part string) []string {
	t, n := lr.Total, float64(len(lr.Programs))
	var out []string
	passed := t.PassedWhole
	if part == "syscalls" {
		passed = t.PassedSyscalls
	}
	if pass := ratio(passed, t.HeldOut); pass < 0.95 {
		out = append(out, fmt.Sprintf("held-out passing (%s) %.1f%% < 95%%", part, 100*pass))
	}
	if refused := ratio(t.Refused, t.Reaching); refused < 0.95 {
		out = append(out, fmt.Sprintf("reaching runs refused %.1f%% < 95%%", 100*refused))
	}
	if mean := float64(t.Allowed) / n; mean > 70 {
		out = append(out, fmt.Sprintf("mean allowed %.1f > 70", mean))
	}
	if float64(t.Allowed)/n > 2*float64(t.Observed)/n {
		out = append(out, fmt.Sprintf("mean allowed %.1f > 2 × mean observed %.1f", float64(t.Allowed)/n, float64(t.Observed)/n))
	}
	if len(t.Unobserved) > 0 {
		out = append(out, "sensitive/critical allowed, never observed: "+strings.Join(t.Unobserved, ", "))
	}
	if len(t.BroadWrites) > 0 {
		out = append(out, "write rules on a whole system, home or temporary directory: "+strings.Join(t.BroadWrites, ", "))
	}
	if share := ratio(t.Rules, t.Allowed); share < ruleShare {
		out = append(out, fmt.Sprintf("argument rules on %.1f%% < %.0f%% of allowed", 100*share, 100*ruleShare))
	}
	if t.Harmless > 0 {
		out = append(out, fmt.Sprintf("%d rules on harmless arguments", t.Harmless))
	}
	if lr.RerunKills > 0 || lr.RerunFailed > 0 {
		out = append(out, fmt.Sprintf("%d of %d python3 reruns killed, %d failed otherwise", lr.RerunKills, lr.Reruns, lr.RerunFailed))
	}
	return out
}

// describe is one line on why a run failed.
func (o outcome) describe() string {
	var why []string
	if o.Killed != "" {
		s := "killed: " + o.Killed
		if extra := slices.DeleteFunc(slices.Clone(o.Missing), func(m string) bool { return callName(m) == o.Killed }); len(extra) > 0 {
			s += " (also missing: " + strings.Join(extra, ", ") + ")"
		}
		why = append(why, s)
	}
	if len(o.Phase) > 0 {
		why = append(why, "init-only call once serving: "+listed(o.Phase))
	}
	if len(o.Landlock) > 0 {
		why = append(why, "landlock refused "+listed(o.Landlock))
	}
	if len(o.Behind) > 0 {
		why = append(why, "landlock refused (seen with seccomp logging) "+listed(o.Behind))
	}
	if o.Why != "" {
		why = append(why, o.Why)
	}
	return strings.Join(why, "; ")
}

// listed joins the first few of refusals (a program refused a file per
// thread makes hundreds; the JSON report keeps them all).
func listed(refusals []string) string {
	const most = 4
	if len(refusals) <= most {
		return strings.Join(refusals, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(refusals[:most], ", "), len(refusals)-most)
}

// callName is the syscall of a check violation "openat(flags=...)".
func callName(s string) string {
	name, _, _ := strings.Cut(s, "(")
	return name
}

func printLevel(w io.Writer, lr levelResult) {
	fmt.Fprintf(w, "\n## level %s\n\n", lr.Level)
	if len(lr.Programs) == 0 {
		fmt.Fprintf(w, "python3 threads: %d of %d identical reruns killed under their own profile\n", lr.RerunKills, lr.Reruns)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "program\tobserved\tallowed\twith rules\tfile/port rules\trecorded again\theld-out whole\tsyscalls\t--fs off\treaching refused\tsens/crit unobserved\tbroad writes")
	for _, p := range append(slices.Clone(lr.Programs), lr.Total) {
		fsOff := "-"
		if lr.FsOff {
			fsOff = fmt.Sprintf("%d/%d", p.PassedFsOff, p.HeldOut)
		}
		again := "fails"
		if p.Again.Passed {
			again = "passes"
		}
		if p.Name == "total" {
			again = fmt.Sprintf("%d/%d", p.AgainPassed, len(lr.Programs))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d\t%s\t%d/%d\t%d/%d\t%s\t%d/%d\t%d\t%d\n", p.Name, p.Observed, p.Allowed, p.Rules, p.FileRules, p.PortRules, again,
			p.PassedWhole, p.HeldOut, p.PassedSyscalls, p.HeldOut, fsOff, p.Refused, p.Reaching, len(p.Unobserved), len(p.BroadWrites))
	}
	tw.Flush()
	for _, p := range lr.Programs {
		for _, u := range p.Unobserved {
			fmt.Fprintf(w, "  %s: allowed, never observed: %s\n", p.Name, u)
		}
		for _, b := range p.BroadWrites {
			fmt.Fprintf(w, "  %s: broad write rule: %s\n", p.Name, b)
		}
		if !p.Again.Passed {
			fmt.Fprintf(w, "  %s, the recorded input again: %s\n", p.Name, p.Again.describe())
		}
		for _, h := range p.Runs {
			if !h.Whole.Passed {
				fmt.Fprintf(w, "  %s %q: whole: %s\n", p.Name, h.Input, h.Whole.describe())
			}
			if !h.Syscalls.Passed {
				fmt.Fprintf(w, "  %s %q: syscalls: %s\n", p.Name, h.Input, h.Syscalls.describe())
			}
		}
		for _, rr := range p.Reach {
			if !rr.Refused {
				fmt.Fprintf(w, "  %s %q: the %s secret was read\n", p.Name, rr.Input, rr.Secret)
			}
		}
	}
	if lr.Reruns > 0 {
		fmt.Fprintf(w, "  python3 threads: %d of %d identical reruns killed under their own profile, %d failed otherwise\n", lr.RerunKills, lr.Reruns, lr.RerunFailed)
	}
}

func printTotals(w io.Writer, results []levelResult, programs int) {
	if len(results) == 0 || programs == 0 {
		return
	}
	fmt.Fprintf(w, "\n## totals (%d programs)\n\n", programs)
	fmt.Fprintln(w, "| level | recorded input again | held-out passing | syscall part | --fs off | reaching refused | mean observed | mean allowed | allowed with argument rules | sensitive/critical allowed, never observed | broad write rules | python3 reruns killed |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, lr := range results {
		t, n := lr.Total, float64(len(lr.Programs))
		reruns := "-"
		if lr.Reruns > 0 {
			reruns = fmt.Sprintf("%d/%d", lr.RerunKills, lr.Reruns)
		}
		fsOff := "-"
		if lr.FsOff {
			fsOff = frac(t.PassedFsOff, t.HeldOut)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.0f%% | %d | %d | %s |\n", lr.Level, frac(t.AgainPassed, len(lr.Programs)),
			frac(t.PassedWhole, t.HeldOut), frac(t.PassedSyscalls, t.HeldOut), fsOff, frac(t.Refused, t.Reaching),
			float64(t.Observed)/n, float64(t.Allowed)/n, 100*ratio(t.Rules, t.Allowed), len(t.Unobserved), len(t.BroadWrites), reruns)
	}
	for _, lr := range results {
		printClasses(w, lr)
	}
}

func frac(a, b int) string {
	return fmt.Sprintf("%d/%d (%.0f%%)", a, b, 100*ratio(a, b))
}

// printClasses counts the failures of a level by what caused them: each
// syscall seccomp killed for, each Landlock right refused, each other
// difference.
func printClasses(w io.Writer, lr levelResult) {
	count := map[string]int{}
	for _, p := range lr.Programs {
		for _, h := range p.Runs {
			if h.Whole.Passed {
				continue
			}
			o := h.Whole
			switch {
			case o.Killed != "" && len(o.Behind) > 0:
				count["syscall "+o.Killed+" after a Landlock refusal"]++
			case o.Killed != "" && h.Syscalls.Passed:
				// Killed on the path a refused file or port sent it
				// down (an error message, a fallback), or by a call
				// whose timing varies.
				count["syscall "+o.Killed+" (the syscall part alone passed)"]++
			case o.Killed != "":
				count["syscall "+o.Killed]++
			}
			rights := map[string]bool{}
			for _, l := range append(slices.Clone(o.Landlock), o.Behind...) {
				right, _, _ := strings.Cut(l, " on ")
				rights["landlock "+right] = true
			}
			for r := range rights {
				count[r]++
			}
			if o.Killed == "" && len(o.Landlock) == 0 {
				count["other (status, message or client answers)"]++
			}
		}
	}
	printCount(w, lr.Level+", failing held-out runs (whole profile) by cause", count)
	count = map[string]int{}
	for _, p := range lr.Programs {
		for _, h := range p.Runs {
			o := h.Syscalls
			if o.Passed {
				continue
			}
			calls := map[string]bool{}
			for _, m := range o.Missing {
				calls[callName(m)] = true
			}
			if o.Killed != "" {
				calls[o.Killed] = true
			}
			for c := range calls {
				count["syscall "+c]++
			}
			if len(calls) == 0 {
				count["other (status, message or client answers)"]++
			}
		}
	}
	printCount(w, lr.Level+", failing held-out runs (syscall part) by missing syscall", count)
}

// printCount prints count, the largest first.
func printCount(w io.Writer, title string, count map[string]int) {
	if len(count) == 0 {
		return
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if count[keys[a]] != count[keys[b]] {
			return count[keys[a]] > count[keys[b]]
		}
		return keys[a] < keys[b]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, count[k]))
	}
	fmt.Fprintf(w, "%s: %s\n", title, strings.Join(parts, ", "))
}
