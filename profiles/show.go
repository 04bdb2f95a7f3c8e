package profiles

import (
	"fmt"
	"io"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/sysrec/sysrec/linuxabi"
)

// allows reports whether an action lets the call run.
func allows(a Action) bool { return a.Allows() }

// FormatCall prints an entry as name(rule, rule).
// An entry of one arch is prefixed by it: "i386:mmap".
func FormatCall(s Syscall) string {
	if len(s.Args) == 0 {
		return s.Key()
	}
	var rules []string
	for _, r := range s.Args {
		rules = append(rules, FormatRule(s.Name, r))
	}
	return s.Key() + "(" + strings.Join(rules, ", ") + ")"
}

// Format prints p as a table for review (sysrec show).
func Format(p *Profile) string { return FormatWidth(p, 0) }

// FormatWidth is Format fitted to a terminal width columns wide: long
// rules and notes are cut with "…" (0: only beyond 512 and 1024 runes,
// since a column is padded to its widest cell on every line and one rule
// with thousands of values would otherwise multiply the output by the
// number of entries).
func FormatWidth(p *Profile, width int) string { return format(p, width, true) }

// FormatRows is Format for a file or a pipe: each row whole and
// unpadded, its cells separated by two spaces, so no line is as wide as
// the widest rule (less, grep and diff read it as it is).
func FormatRows(p *Profile) string { return format(p, 0, false) }

func format(p *Profile, width int, aligned bool) string {
	callMax, noteMax := 512, 1024
	if !aligned {
		callMax, noteMax = math.MaxInt, math.MaxInt // nothing is padded to them
	}
	if width > 0 {
		callMax = max(24, width*2/5)
		noteMax = max(16, width-callMax-44)
	}
	var b strings.Builder
	name := p.Name
	if name == "" {
		name = "profile"
	}
	fmt.Fprintf(&b, "%s: %d entries, arch %s, default %s\n", name, len(p.Syscalls), strings.Join(p.Arch, ","), p.DefaultAction)
	runs := 0
	if r := p.Recorded; r != nil {
		runs = max(r.Recordings, 1)
		more := ""
		if g := gaps(0, r.Compat, r.Left); len(g) > 0 { // lost is always shown
			more = ", " + strings.Join(g, ", ")
		}
		fmt.Fprintf(&b, "recorded: %s (%d ms, %d recording(s), %d lost%s)\n", ShellJoin(r.Command), r.DurationMS, runs, r.Lost, more)
		conf := p.Confidence
		if conf == nil {
			conf = ComputeConfidence(p)
		}
		fmt.Fprintf(&b, "confidence: %s\n", conf.Text())
	}
	phased := p.Phases != nil || p.HasPhases()
	if p.Phases != nil {
		b.WriteString(formatPhases(p.Phases))
	}
	b.WriteString("\n")
	w := table(&b, aligned)
	phaseHead := ""
	if phased {
		phaseHead = "PHASE\t"
	}
	fmt.Fprintf(w, "SYSCALL\tTIER\tCALLS\tRUNS\tERRORS\tACTION\t%sNOTE\n", phaseHead)
	for _, s := range p.Syscalls {
		var errs []string
		for e, n := range s.Errors {
			errs = append(errs, fmt.Sprintf("%s×%d", e, n))
		}
		sort.Strings(errs)
		note := s.Reason
		if s.Note != "" {
			note = strings.TrimSpace(note + " " + s.Note)
		}
		count := "-"
		if s.Count > 0 {
			count = fmt.Sprint(s.Count)
		}
		seenIn := "-"
		if k := EntryRuns(s); k > 0 && runs > 0 {
			seenIn = fmt.Sprintf("%d/%d", k, runs)
		}
		tier := "-" // a deny entry lets nothing through
		if allows(s.EffectiveAction()) {
			t, _ := EntryTier(s)
			tier = t.String()
		}
		phase, pad := "", ""
		if phased {
			phase, pad = phaseName(s.Phase)+"\t", "\t"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s%s\n", cut(FormatCall(s), callMax), tier, count, seenIn, strings.Join(errs, " "), s.EffectiveAction(), phase, cut(note, noteMax))
		for _, k := range slices.Sorted(maps.Keys(s.Seen)) {
			fmt.Fprintf(w, "  %s\t\t%d\t\t\t\t%s\n", cut("seen "+s.Name+"("+k+")", callMax-2), s.Seen[k], pad)
		}
	}
	w.Flush()
	if len(p.NotAllowed) > 0 {
		b.WriteString("\nnot allowed, although reachable:\n")
		w := table(&b, aligned)
		for _, n := range p.NotAllowed {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", n.Name, n.Tier, n.Reason)
		}
		w.Flush()
	}
	b.WriteString(formatLandlock(p))
	return b.String()
}

// phaseName is how show names an entry's phase.
func phaseName(ph Phase) string {
	if ph == PhaseAny {
		return "any"
	}
	return string(ph)
}

// formatPhases prints the transition and, per executable, the calls its
// processes made in each phase: the whole-run and serving sets TSP and
// SysPart compare.
func formatPhases(ph *Phases) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phases: serving starts %s\n", ph.Transition)
	for _, e := range ph.Executables {
		served := map[string]bool{}
		for _, n := range e.Serving {
			served[n] = true
		}
		var initOnly []string
		for _, n := range e.Init {
			if !served[n] {
				initOnly = append(initOnly, n)
			}
		}
		exe := Printable(e.Exe)
		if exe == "" {
			exe = "?"
		}
		if len(e.Serving) == 0 {
			fmt.Fprintf(&b, "  %s: never served; init %d: %s\n", exe, len(e.Init), strings.Join(e.Init, " "))
			continue
		}
		fmt.Fprintf(&b, "  %s: serving %d: %s\n", exe, len(e.Serving), strings.Join(e.Serving, " "))
		fmt.Fprintf(&b, "  %s: init %d, %d of them in init only: %s\n", exe, len(e.Init), len(initOnly), strings.Join(initOnly, " "))
	}
	return b.String()
}

// table writes rows of tab-separated cells: aligned into columns, or
// as they are, the cells two spaces apart.
func table(w io.Writer, aligned bool) interface {
	io.Writer
	Flush() error
} {
	if aligned {
		return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	}
	return rows{w}
}

// rows writes lines of tab-separated cells unpadded.
type rows struct{ w io.Writer }

func (r rows) Write(b []byte) (int, error) {
	line := strings.ReplaceAll(string(b), "\t", "  ")
	line = strings.ReplaceAll(strings.TrimRight(line, " \n")+"\n", " \n", "\n")
	if _, err := io.WriteString(r.w, line); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (rows) Flush() error { return nil }

// SeenKey is the symbolic form of the recorded argument values of a call,
// as Syscall.Seen keys them: "domain=AF_INET, type=SOCK_STREAM".
func SeenKey(syscall string, args [6]uint64) string {
	var parts []string
	for _, a := range linuxabi.RecordedArgs(syscall) {
		parts = append(parts, a.Name+"="+linuxabi.Symbolize(a.Consts, args[a.Index], a.Kind == linuxabi.KindFlags))
	}
	return strings.Join(parts, ", ")
}

// DescribeFileAccess names each right of f, as "RIGHT on PATH"; a right
// Landlock checks on the directory holding the object (make_*,
// remove_*, refer) is named on that directory ("make_reg on /srv (for
// out.txt)").
func DescribeFileAccess(f FileAccess) []string {
	var out []string
	for _, r := range linuxabi.LandlockFSNames(f.Access) {
		if m, _ := linuxabi.ParseLandlockFS([]string{r}); m&linuxabi.LandlockParentRights != 0 {
			out = append(out, fmt.Sprintf("%s on %s (for %s)", r, Printable(path.Dir(f.Path)), Printable(path.Base(f.Path))))
			continue
		}
		out = append(out, r+" on "+Printable(f.Path))
	}
	return out
}

// DescribeSample prints a sample as name(arg=VALUE, ...) with the
// recorded arguments in symbolic form, e.g. "socket(domain=AF_INET6,
// type=SOCK_STREAM, protocol=0)".
// A sample of another arch than its recording's is prefixed by it
// ("i386:dup()").
func DescribeSample(s Sample) string {
	name := s.Name
	if name == "" {
		return fmt.Sprintf("syscall #%d", s.Nr)
	}
	specs := linuxabi.RecordedArgs(s.Name)
	if a, err := linuxabi.LookupArch(s.Arch); s.Arch != "" && err == nil {
		name = a.Name + ":" + name
		specs = a.RecordedArgsOn(s.Name)
	}
	var args []string
	for _, a := range specs {
		args = append(args, a.Name+"="+linuxabi.Symbolize(a.Consts, s.Args[a.Index], a.Kind == linuxabi.KindFlags))
	}
	return name + "(" + strings.Join(args, ", ") + ")"
}

// ShellJoin prints argv as a POSIX shell would read it back: arguments
// with spaces or shell syntax are single-quoted.
func ShellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@=%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cut shortens s to n runes, ending in "…" (n 0: s unchanged).
func cut(s string, n int) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Entry is one profile entry as show --json prints it.
type Entry struct {
	Call   string            `json:"call"` // name(rules) in symbolic form
	Name   string            `json:"name"`
	Arch   string            `json:"arch,omitempty"`
	Tier   string            `json:"tier,omitempty"`
	Action string            `json:"action"`
	Count  uint64            `json:"count,omitempty"`
	Runs   int               `json:"runs,omitempty"`
	Errors map[string]uint64 `json:"errors,omitempty"`
	Reason string            `json:"reason,omitempty"`
	Note   string            `json:"note,omitempty"`
	// Phase is "init" for an entry allowed only before its process
	// serves.
	Phase Phase `json:"phase,omitempty"`
}

// Entries lists p's entries for scripts, in profile order.
func Entries(p *Profile) []Entry {
	out := []Entry{}
	for _, s := range p.Syscalls {
		e := Entry{Call: FormatCall(s), Name: s.Name, Arch: s.Arch, Action: s.EffectiveAction().String(), Count: s.Count,
			Runs: EntryRuns(s), Errors: s.Errors, Reason: s.Reason, Note: s.Note, Phase: s.Phase}
		if allows(s.EffectiveAction()) {
			t, _ := EntryTier(s)
			e.Tier = t.String()
		}
		out = append(out, e)
	}
	return out
}
