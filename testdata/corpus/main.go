// Command corpus measures how well sysrec's profiles generalise: real
// Debian programs, each recorded once on one input and then run on
// held-out inputs of the same job (other data, sizes and states; the
// same binary, no shell wrapper) under `sysrec check`, at every
// generalisation level. It prints, per program and in total: syscalls
// observed, allowed, allowed with argument rules, held-out passes, and
// any sensitive or critical syscall (or argument value) allowed that no
// run made; and how many identical reruns of a threaded python3 its own
// profile kills.
//
//	go build -o bin/sysrec ./cmd/sysrec && go run ./testdata/corpus -sysrec bin/sysrec
//
// It needs root (sysrec records with eBPF) and the Debian packages of
// the programs (coreutils, findutils, grep, gawk, tar, gzip, xz-utils,
// sqlite3, python3, perl, git, openssl, gcc). The exit status is 1 when
// a target of -check is missed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

func main() {
	sysrec := flag.String("sysrec", "bin/sysrec", "the sysrec binary")
	levels := flag.String("levels", "exact,families,related,reachable", "generalisation levels to measure, comma-separated")
	only := flag.String("programs", "", "programs to run, comma-separated (default: all; - for none, the reruns alone)")
	reruns := flag.Int("reruns", 50, "identical reruns of the threaded python3 job under its own profile (0: none)")
	jsonOut := flag.String("json", "", "also write the results as JSON to `FILE`")
	check := flag.String("check", "", "fail unless `LEVEL` meets the targets: held-out ≥ 95%, mean allowed ≤ 2× observed, nothing sensitive unobserved, rules on -rule-share of allowed and none on a harmless argument, 0 rerun kills")
	ruleShare := flag.Float64("rule-share", 0.25, "the share of allowed syscalls with argument rules -check wants")
	verbose := flag.Bool("v", false, "print every run")
	flag.Parse()

	bin, err := filepath.Abs(*sysrec)
	if err != nil {
		fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		fatal(fmt.Errorf("sysrec binary: %w (go build -o bin/sysrec ./cmd/sysrec)", err))
	}
	jobs := corpus()
	if *only == "-" {
		jobs = nil
	} else if *only != "" {
		want := strings.Split(*only, ",")
		jobs = slices.DeleteFunc(jobs, func(j job) bool { return !slices.Contains(want, j.name) })
		if len(jobs) != len(want) {
			fatal(fmt.Errorf("-programs %s: some are not in the corpus", *only))
		}
	}
	for _, j := range jobs {
		if _, err := os.Stat(j.bin); err != nil {
			fatal(fmt.Errorf("%s: %w (apt-get install -y the package)", j.name, err))
		}
	}
	work, err := os.MkdirTemp("", "sysrec-corpus-")
	if err != nil {
		fatal(err)
	}
	workDir = work
	defer os.RemoveAll(work)
	r := &runner{sysrec: bin, work: work, verbose: *verbose}

	var results []levelResult
	for _, level := range strings.Split(*levels, ",") {
		lr := levelResult{Level: level}
		for _, j := range jobs {
			pr, err := r.measure(j, level)
			if err != nil {
				fatal(fmt.Errorf("%s at %s: %w", j.name, level, err))
			}
			lr.Programs = append(lr.Programs, pr)
		}
		if *reruns > 0 {
			kills, err := r.reruns(threadedPython(), level, "auto", *reruns)
			if err != nil {
				fatal(fmt.Errorf("python3 reruns at %s: %w", level, err))
			}
			lr.Reruns, lr.RerunKills = *reruns, kills
		}
		lr.total()
		results = append(results, lr)
		print(os.Stdout, lr)
	}
	if *reruns > 0 {
		// Before: no runtime baseline, at the exact level (sysrec before
		// generalisation) and at the default level.
		for _, level := range []string{"exact", "related"} {
			kills, err := r.reruns(threadedPython(), level, "none", *reruns)
			if err != nil {
				fatal(fmt.Errorf("python3 reruns without the runtime: %w", err))
			}
			fmt.Printf("python3 threads, %s, --runtime none (before): %d of %d reruns killed\n", level, kills, *reruns)
		}
	}
	printTotals(os.Stdout, results)
	for _, lr := range results {
		if len(lr.Programs) == 0 {
			continue
		}
		if misses := lr.misses(*ruleShare); len(misses) > 0 {
			fmt.Printf("%s misses: %s\n", lr.Level, strings.Join(misses, "; "))
		} else {
			fmt.Printf("%s meets every target\n", lr.Level)
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			fatal(err)
		}
		if err := atomicfile.Write(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fatal(err)
		}
	}
	if *check != "" {
		for _, lr := range results {
			if lr.Level != *check {
				continue
			}
			if misses := lr.misses(*ruleShare); len(misses) > 0 {
				fmt.Fprintf(os.Stderr, "corpus: %s misses its targets:\n  %s\n", lr.Level, strings.Join(misses, "\n  "))
				os.Exit(1)
			}
			fmt.Printf("corpus: %s meets every target\n", lr.Level)
			return
		}
		fatal(fmt.Errorf("-check %s: level not measured", *check))
	}
}

// workDir is removed by fatal too: os.Exit runs no deferred call.
var workDir string

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "corpus: %v\n", err)
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(2)
}

// job is one program doing one job on several inputs: inputs[0] is
// recorded, the others are held out. args are the same for every input;
// the input is the state of the working directory.
type job struct {
	name   string
	bin    string
	args   []string
	inputs []input
}

type input struct {
	desc  string
	setup func(dir string) error
}

type programResult struct {
	Name     string `json:"name"`
	Observed int    `json:"observed"`
	Allowed  int    `json:"allowed"`
	// Rules counts allowed syscalls with argument rules; Harmless the
	// rules on arguments whose values do not differ in risk.
	Rules    int `json:"rules"`
	Harmless int `json:"harmless_rules"`
	HeldOut  int `json:"held_out"`
	Passed   int `json:"passed"`
	// Unobserved lists sensitive or critical syscalls or values allowed
	// that the recording did not make.
	Unobserved []string `json:"unobserved"`
	Violations []string `json:"violations"`
}

type levelResult struct {
	Level      string          `json:"level"`
	Programs   []programResult `json:"programs"`
	Reruns     int             `json:"reruns,omitempty"`
	RerunKills int             `json:"rerun_kills"`
	Total      programResult   `json:"total"`
}

func (lr *levelResult) total() {
	if len(lr.Programs) == 0 {
		lr.Total = programResult{Name: "total", Unobserved: []string{}, Violations: []string{}}
		return
	}
	t := programResult{Name: "total"}
	for _, p := range lr.Programs {
		t.Observed += p.Observed
		t.Allowed += p.Allowed
		t.Rules += p.Rules
		t.Harmless += p.Harmless
		t.HeldOut += p.HeldOut
		t.Passed += p.Passed
		for _, u := range p.Unobserved {
			t.Unobserved = append(t.Unobserved, p.Name+":"+u)
		}
	}
	lr.Total = t
}

// misses lists the targets of the issue this level does not meet.
func (lr *levelResult) misses(ruleShare float64) []string {
	t, n := lr.Total, float64(len(lr.Programs))
	var out []string
	if pass := float64(t.Passed) / float64(t.HeldOut); pass < 0.95 {
		out = append(out, fmt.Sprintf("held-out passing %.1f%% < 95%%", 100*pass))
	}
	if float64(t.Allowed)/n > 2*float64(t.Observed)/n {
		out = append(out, fmt.Sprintf("mean allowed %.1f > 2 × mean observed %.1f", float64(t.Allowed)/n, float64(t.Observed)/n))
	}
	if len(t.Unobserved) > 0 {
		out = append(out, "sensitive/critical allowed, never observed: "+strings.Join(t.Unobserved, ", "))
	}
	if share := float64(t.Rules) / float64(t.Allowed); share < ruleShare {
		out = append(out, fmt.Sprintf("argument rules on %.1f%% < %.0f%% of allowed", 100*share, 100*ruleShare))
	}
	if t.Harmless > 0 {
		out = append(out, fmt.Sprintf("%d rules on harmless arguments", t.Harmless))
	}
	if lr.RerunKills > 0 {
		out = append(out, fmt.Sprintf("%d of %d python3 reruns killed", lr.RerunKills, lr.Reruns))
	}
	return out
}

type runner struct {
	sysrec  string
	work    string
	verbose bool
	n       int
}

// dir makes a fresh working directory set up for in.
func (r *runner) dir(in input) (string, error) {
	r.n++
	d := filepath.Join(r.work, fmt.Sprint(r.n))
	if err := os.Mkdir(d, 0o755); err != nil {
		return "", err
	}
	if err := in.setup(d); err != nil {
		return "", fmt.Errorf("set up %q: %w", in.desc, err)
	}
	return d, nil
}

// run runs the sysrec command line in dir and returns its exit status
// and stderr.
func (r *runner) run(dir string, args ...string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.sysrec, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String(), nil
	}
	if err != nil {
		return 0, "", err
	}
	return 0, stderr.String(), nil
}

func (r *runner) record(j job, level, runtime string) (*profiles.Profile, error) {
	d, err := r.dir(j.inputs[0])
	if err != nil {
		return nil, err
	}
	profile := filepath.Join(r.work, fmt.Sprintf("%s-%s-%d.json", j.name, level, r.n))
	// --fs off: the held-out inputs live in other directories, and this
	// corpus measures the syscall profile, not the Landlock section.
	args := append([]string{"record", "--progress", "never", "--fs", "off", "--generalize", level, "--runtime", runtime, "-o", profile, "--", j.bin}, j.args...)
	code, stderr, err := r.run(d, args...)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("record exited %d:\n%s", code, stderr)
	}
	return profiles.Load(profile)
}

func (r *runner) measure(j job, level string) (programResult, error) {
	pr := programResult{Name: j.name, Unobserved: []string{}, Violations: []string{}}
	p, err := r.record(j, level, "auto")
	if err != nil {
		return pr, err
	}
	profile := filepath.Join(r.work, fmt.Sprintf("%s-%s.json", j.name, level))
	if err := p.Save(profile); err != nil {
		return pr, err
	}
	pr.count(p)
	for _, in := range j.inputs[1:] {
		d, err := r.dir(in)
		if err != nil {
			return pr, err
		}
		code, stderr, err := r.run(d, append([]string{"check", "--profile", profile, "--", j.bin}, j.args...)...)
		if err != nil {
			return pr, err
		}
		var violations []string
		for _, line := range strings.Split(stderr, "\n") {
			if rest, ok := strings.CutPrefix(line, "sysrec: check: "); ok {
				if call, _, ok := strings.Cut(rest, " not allowed by "); ok {
					violations = append(violations, call)
				}
			}
		}
		pr.HeldOut++
		switch {
		case len(violations) == 0 && code == 0:
			pr.Passed++
		case len(violations) == 0:
			return pr, fmt.Errorf("held-out %q: the target failed (exit %d) without a violation:\n%s", in.desc, code, stderr)
		default:
			for _, v := range violations {
				pr.Violations = append(pr.Violations, in.desc+": "+v)
			}
		}
		if r.verbose {
			fmt.Fprintf(os.Stderr, "%s %s %q: exit %d, %d violations %v\n", level, j.name, in.desc, code, len(violations), violations)
		}
	}
	return pr, nil
}

// count fills the profile's numbers in.
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
			if spec, ok := linuxabi.LookupArg(s.Name, r.Index); !ok || !spec.Risky {
				pr.Harmless++
			}
		}
		tier, _ := profiles.EntryTier(s)
		if tier == linuxabi.Ordinary {
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

// seenTier is the highest tier of the calls s's recording made, from its
// seen argument tuples; false when they were too many to be listed.
func seenTier(s profiles.Syscall) (linuxabi.Tier, bool) {
	best, _ := linuxabi.TierOf(s.Name)
	if len(linuxabi.RecordedArgs(s.Name)) == 0 {
		return best, true
	}
	if len(s.Seen) == 0 {
		return 0, false
	}
	for key := range s.Seen {
		for _, part := range strings.Split(key, ", ") {
			name, val, _ := strings.Cut(part, "=")
			for _, spec := range linuxabi.RecordedArgs(s.Name) {
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

// rerunRecordings is how many recordings the reruns are spread over:
// whether one recording happened to see a timing-dependent call decides
// every rerun under its profile, so one recording would measure luck.
const rerunRecordings = 10

// reruns records j rerunRecordings times and runs it n times in all, each
// under one of those profiles with the default action (kill_process),
// and counts the runs killed by seccomp.
func (r *runner) reruns(j job, level, runtime string, n int) (int, error) {
	kills := 0
	for rec := range rerunRecordings {
		k, err := r.rerunsOf(j, level, runtime, n/rerunRecordings+boolInt(rec < n%rerunRecordings))
		if err != nil {
			return 0, err
		}
		kills += k
	}
	return kills, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *runner) rerunsOf(j job, level, runtime string, n int) (int, error) {
	p, err := r.record(j, level, runtime)
	if err != nil {
		return 0, err
	}
	profile := filepath.Join(r.work, fmt.Sprintf("%s-%s-%s-reruns-%d.json", j.name, level, runtime, r.n))
	if err := p.Save(profile); err != nil {
		return 0, err
	}
	kills := 0
	for range n {
		d, err := r.dir(j.inputs[0])
		if err != nil {
			return 0, err
		}
		code, stderr, err := r.run(d, append([]string{"run", "--profile", profile, "--", j.bin}, j.args...)...)
		if err != nil {
			return 0, err
		}
		switch {
		case code == 128+31:
			kills++
			if r.verbose {
				fmt.Fprintf(os.Stderr, "rerun killed: %s", stderr)
			}
		case code != 0:
			return 0, fmt.Errorf("rerun exited %d:\n%s", code, stderr)
		}
	}
	return kills, nil
}

func print(w io.Writer, lr levelResult) {
	fmt.Fprintf(w, "\n## level %s\n\n", lr.Level)
	if len(lr.Programs) == 0 {
		fmt.Fprintf(w, "python3 threads: %d of %d identical reruns killed under their own profile\n", lr.RerunKills, lr.Reruns)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "program\tobserved\tallowed\twith rules\tharmless rules\theld-out passed\tsensitive/critical unobserved")
	for _, p := range append(lr.Programs, lr.Total) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d/%d\t%d\n", p.Name, p.Observed, p.Allowed, p.Rules, p.Harmless, p.Passed, p.HeldOut, len(p.Unobserved))
	}
	tw.Flush()
	for _, p := range lr.Programs {
		for _, u := range p.Unobserved {
			fmt.Fprintf(w, "  %s: allowed, never observed: %s\n", p.Name, u)
		}
	}
	count := map[string]int{}
	for _, p := range lr.Programs {
		for _, v := range p.Violations {
			count[p.Name+" "+v]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  violation: %s\n", k)
	}
	if lr.Reruns > 0 {
		fmt.Fprintf(w, "  python3 threads: %d of %d identical reruns killed under their own profile\n", lr.RerunKills, lr.Reruns)
	}
}

func printTotals(w io.Writer, results []levelResult) {
	if len(results) == 0 || len(results[0].Programs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## totals\n\n")
	fmt.Fprintln(w, "| level | held-out passing | mean observed | mean allowed | allowed with argument rules | rules on harmless arguments | sensitive/critical allowed, never observed | python3 reruns killed |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, lr := range results {
		t, n := lr.Total, float64(len(lr.Programs))
		reruns := "-"
		if lr.Reruns > 0 {
			reruns = fmt.Sprintf("%d/%d", lr.RerunKills, lr.Reruns)
		}
		fmt.Fprintf(w, "| %s | %d/%d (%.0f%%) | %.1f | %.1f | %.0f%% | %d | %d | %s |\n", lr.Level, t.Passed, t.HeldOut,
			100*float64(t.Passed)/float64(t.HeldOut), float64(t.Observed)/n, float64(t.Allowed)/n,
			100*float64(t.Rules)/float64(t.Allowed), t.Harmless, len(t.Unobserved), reruns)
	}
}
