// Command corpus measures how well sysrec's profiles generalise: real
// Debian programs and servers, each recorded once on one input with the
// default recording (files and ports on) and then run on held-out inputs
// of the same job — other data, sizes and states, at other paths, and for
// servers under another request mix on another port — under `sysrec run`,
// at every generalisation level.
//
// A held-out run passes when the program behaves as it does without
// sysrec on the same input: the same exit status (and, on an error path,
// the same error message; for a server, the same answers to its client),
// with nothing killed by seccomp and nothing refused by Landlock. Each is
// run three ways: the whole profile; its syscall part alone (`run
// --landlock off`); and the profile of the same recording made with `--fs
// off`. Reaching runs are the same programs told, by their input and not
// by their command line, to read a secret (a symlink in the input, a
// script, an include, a checksum list): the instantiated Landlock rules
// alone (`--default-action log`) must keep the secret out of everything
// the program wrote or printed. Only reaching runs that leak the secret
// without sysrec are counted.
//
// It prints, per level and program, the syscalls observed and allowed,
// the held-out runs passing, the reaching runs refused, sensitive or
// critical syscalls allowed that no run made, write rules on /, /etc,
// $HOME or /tmp as a whole, and why each failing run failed (the syscall
// seccomp killed, what Landlock refused); -json writes all of it.
//
//	go build -o bin/sysrec ./cmd/sysrec && go run ./testdata/corpus -sysrec bin/sysrec
//
// With -phases it measures phases instead (docs/phases.md, make
// phases): its servers (nginx with two workers, redis, memcached, a Go
// net/http server, python3's http.server) are recorded once with the
// defaults, and each held-out input (other request mixes, errors, an
// nginx reload and a killed worker, redis saving in a child) runs under
// the profile with phases enforced and under its union (`run --phases
// off`), once for each scope of record's --phases (-phase-scopes: doors,
// the default, refuses only the doors start-up opened; all, every call
// only start-up made); it prints what each executable called in the
// whole run and once serving, what the profile allows in each, and every
// process killed.
//
// It needs root (sysrec records with eBPF; audit is turned on for the
// kernel's Landlock refusal records and restored after) and the Debian
// packages the Makefile's corpus target lists. The exit status is 1 when
// a level given with -check misses its targets.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/internal/auditnl"
)

func main() {
	sysrec := flag.String("sysrec", "bin/sysrec", "the sysrec binary")
	levels := flag.String("levels", "exact,families,related,reachable", "generalisation levels to measure, comma-separated (empty: only run every input without sysrec)")
	only := flag.String("programs", "", "programs to run, comma-separated (default: all; - for none, the reruns alone)")
	reruns := flag.Int("reruns", 50, "identical reruns of the threaded python3 job under its own profile (0: none)")
	fsOff := flag.Bool("fs-off", true, "also record with --fs off and run the held-out inputs under that profile (the column for comparison)")
	jobsN := flag.Int("j", 2, "programs measured at once")
	jsonOut := flag.String("json", "", "also write the results as JSON to `FILE`")
	check := flag.String("check", "", "fail unless `LEVEL` meets the targets (see -check-part): held-out ≥ 95%, reaching refused ≥ 95%, mean allowed ≤ 70 and ≤ 2× observed, nothing sensitive unobserved, no broad write rule, rules on -rule-share of allowed and none on a harmless argument, 0 rerun kills")
	checkPart := flag.String("check-part", "whole", "which held-out passing -check holds to 95%: whole (the profile as recorded) or syscalls (its syscall part)")
	ruleShare := flag.Float64("rule-share", 0.25, "the share of allowed syscalls with argument rules -check wants")
	verbose := flag.Bool("v", false, "print every run")
	phases := flag.Bool("phases", false, "measure phases instead (make phases): the phase corpus's servers recorded once with the defaults and held out under phase enforcement and under the profile's union (-levels, -reruns, -fs-off and -check do not apply)")
	scopes := flag.String("phase-scopes", "doors,all", "with -phases, record's --phases scopes to measure, comma-separated")
	flag.Parse()

	if *checkPart != "whole" && *checkPart != "syscalls" {
		fatal(fmt.Errorf("-check-part %q: want whole or syscalls", *checkPart))
	}
	bin, err := filepath.Abs(*sysrec)
	if err != nil {
		fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		fatal(fmt.Errorf("sysrec binary: %w (go build -o bin/sysrec ./cmd/sysrec)", err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Not under /tmp: the data of these jobs is a user's, and rules on
	// the temporary directory (where sort spills, for one) must not
	// decide whether a held-out input is reached.
	work, err := os.MkdirTemp("/var/tmp", "sysrec-corpus-")
	if err != nil {
		fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(work) })
	defer cleanup()
	// nginx workers run as nobody and must reach their document root.
	if err := os.Chmod(work, 0o755); err != nil {
		fatal(err)
	}
	marker, err := randomHex(8)
	if err != nil {
		fatal(err)
	}
	secrets, err := plantSecrets(work, "corpussecret"+marker)
	if err != nil {
		fatal(err)
	}
	r := &runner{sysrec: bin, work: work, verbose: *verbose, marker: "corpussecret" + marker, secrets: secrets, fsOff: *fsOff}
	r.env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home(), "LANG=C.UTF-8", "TERM=xterm"}

	tl := tools{dir: filepath.Join(work, "bin"), gofmt: gofmt()}
	jobs := corpus(tl)
	if *phases {
		jobs = phaseServers(tl)
	}
	if *only == "-" {
		jobs = nil
	} else if *only != "" {
		want := strings.Split(*only, ",")
		jobs = slices.DeleteFunc(jobs, func(j job) bool { return !slices.Contains(want, j.name) })
		if len(jobs) != len(want) {
			fatal(fmt.Errorf("-programs %s: some are not in the corpus", *only))
		}
	}
	if err := checkCorpus(jobs); err != nil {
		fatal(err)
	}
	if err := r.prepare(ctx, jobs); err != nil {
		fatal(err)
	}
	if prev, err := auditnl.SetEnabled(true); err != nil {
		fmt.Fprintf(os.Stderr, "corpus: turn audit on: %v (Landlock refusals will not be named)\n", err)
	} else {
		r.audit = true
		if !prev {
			cleanups = append(cleanups, func() { auditnl.SetEnabled(false) })
		}
	}

	bases := make([]*baseline, len(jobs))
	err = parallel(ctx, *jobsN, len(jobs), func(i int) error {
		b, err := r.baselines(ctx, jobs[i])
		if err != nil {
			return fmt.Errorf("%s without sysrec: %w", jobs[i].name, err)
		}
		bases[i] = b
		return nil
	})
	if err != nil {
		fatal(err)
	}

	if *phases {
		var results []phaseResult
		for _, scope := range strings.Split(*scopes, ",") {
			rs := make([]phaseResult, len(jobs))
			err := parallel(ctx, *jobsN, len(jobs), func(i int) error {
				pr, err := r.measurePhases(ctx, jobs[i], bases[i], scope)
				if err != nil {
					return fmt.Errorf("%s, --phases %s: %w", jobs[i].name, scope, err)
				}
				rs[i] = pr
				return nil
			})
			if err != nil {
				fatal(err)
			}
			printPhases(os.Stdout, scope, rs)
			results = append(results, rs...)
		}
		if *jsonOut != "" {
			writeJSON(*jsonOut, struct {
				Work    string        `json:"work"`
				Servers []phaseResult `json:"servers"`
			}{"$WORK", results})
		}
		return
	}

	var results []levelResult
	var levelNames []string
	if *levels != "" {
		levelNames = strings.Split(*levels, ",")
	}
	for _, level := range levelNames {
		lr := levelResult{Level: level, FsOff: *fsOff, Programs: make([]programResult, len(jobs))}
		err := parallel(ctx, *jobsN, len(jobs), func(i int) error {
			pr, err := r.measure(ctx, jobs[i], bases[i], level)
			if err != nil {
				return fmt.Errorf("%s at %s: %w", jobs[i].name, level, err)
			}
			lr.Programs[i] = pr
			return nil
		})
		if err != nil {
			fatal(err)
		}
		if *reruns > 0 {
			kills, failed, err := r.reruns(ctx, threadedPython(), level, "auto", *reruns)
			if err != nil {
				fatal(fmt.Errorf("python3 reruns at %s: %w", level, err))
			}
			lr.Reruns, lr.RerunKills, lr.RerunFailed = *reruns, kills, failed
		}
		lr.total()
		results = append(results, lr)
		printLevel(os.Stdout, lr)
	}
	if *reruns > 0 && len(levelNames) > 0 {
		// Before: no runtime baseline, at the exact level (sysrec before
		// generalisation) and at the default level.
		for _, level := range []string{"exact", "related"} {
			kills, _, err := r.reruns(ctx, threadedPython(), level, "none", *reruns)
			if err != nil {
				fatal(fmt.Errorf("python3 reruns without the runtime: %w", err))
			}
			fmt.Printf("python3 threads, %s, --runtime none (before): %d of %d reruns killed\n", level, kills, *reruns)
		}
	}
	printTotals(os.Stdout, results, len(jobs))
	for _, lr := range results {
		if len(lr.Programs) == 0 {
			continue
		}
		if misses := lr.misses(*ruleShare, *checkPart); len(misses) > 0 {
			fmt.Printf("%s misses (held-out passing of the %s profile): %s\n", lr.Level, *checkPart, strings.Join(misses, "; "))
		} else {
			fmt.Printf("%s meets every target (held-out passing of the %s profile)\n", lr.Level, *checkPart)
		}
	}
	if *jsonOut != "" {
		writeJSON(*jsonOut, report{Work: "$WORK", Marker: r.marker, Secrets: secrets, Levels: results})
	}
	if *check != "" {
		for _, lr := range results {
			if lr.Level != *check {
				continue
			}
			if misses := lr.misses(*ruleShare, *checkPart); len(misses) > 0 {
				fmt.Fprintf(os.Stderr, "corpus: %s misses its targets:\n  %s\n", lr.Level, strings.Join(misses, "\n  "))
				cleanup()
				os.Exit(1)
			}
			fmt.Printf("corpus: %s meets every target\n", lr.Level)
			return
		}
		fatal(fmt.Errorf("-check %s: level not measured", *check))
	}
}

// writeJSON writes v to path as indented JSON, or ends the corpus.
func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fatal(err)
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		fatal(err)
	}
}

// report is what -json writes.
type report struct {
	// Work is what stands for the corpus's work directory in paths.
	Work    string        `json:"work"`
	Marker  string        `json:"marker"`
	Secrets []secret      `json:"secrets"`
	Levels  []levelResult `json:"levels"`
}

// cleanups undo what the corpus changed on the machine (its work
// directory, the planted secrets, audit); fatal runs them too, since
// os.Exit runs no deferred call.
var (
	cleanups    []func()
	cleanupOnce sync.Once
)

func cleanup() {
	cleanupOnce.Do(func() {
		for _, c := range slices.Backward(cleanups) {
			c()
		}
	})
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "corpus: %v\n", err)
	cleanup()
	os.Exit(2)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// gofmt is the toolchain's gofmt (the one that builds the corpus).
func gofmt() string {
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		return filepath.Join(strings.TrimSpace(string(out)), "bin", "gofmt")
	}
	if p, err := exec.LookPath("gofmt"); err == nil {
		return p
	}
	return "gofmt"
}

func home() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "/root"
}

// secret is a file no job's command line names, which reaching runs try
// to read: one in a system directory (like /etc/shadow), one in the
// user's home (like ~/.ssh/id_rsa), one in another user's home, and one
// beside the job's data (a path the job never uses).
type secret struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// plantSecrets writes the secret files, each holding marker, and
// registers their removal.
func plantSecrets(work, marker string) ([]secret, error) {
	tag, err := randomHex(4)
	if err != nil {
		return nil, err
	}
	content := secretContent(marker)
	other := "/home/sysrec-corpus-" + tag
	own := filepath.Join(home(), ".sysrec-corpus-"+tag)
	secrets := []secret{
		{"etc", "/etc/sysrec-corpus-" + tag + ".secret"},
		{"home", filepath.Join(own, "id_secret")},
		{"other-home", filepath.Join(other, "secret.txt")},
		{"data", filepath.Join(work, "private", "secret.txt")},
	}
	cleanups = append(cleanups, func() {
		os.Remove(secrets[0].Path)
		os.RemoveAll(own)
		os.RemoveAll(other)
	})
	for _, s := range secrets {
		if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
			return nil, err
		}
		// World-readable: nginx's workers run as nobody, and a secret
		// they cannot read without sysrec measures nothing.
		if err := os.WriteFile(s.Path, content, 0o644); err != nil {
			return nil, err
		}
	}
	return secrets, nil
}

// checkCorpus refuses a corpus whose held-out runs repeat the recorded
// command line: held-out inputs must use other paths (or, for a server,
// another port) than the recorded one.
func checkCorpus(jobs []job) error {
	for _, j := range jobs {
		if len(j.inputs) < 2 {
			return fmt.Errorf("%s: no held-out input", j.name)
		}
		rec := j.inputs[0].args(&place{root: "/ROOT", port: 1})
		for k, in := range j.inputs[1:] {
			port := 1
			if j.server {
				port = 2 + k
			}
			if slices.Equal(rec, in.args(&place{root: "/ROOT", port: port})) {
				return fmt.Errorf("%s: held-out %q has the recorded command line", j.name, in.desc)
			}
		}
	}
	return nil
}

// parallel runs f(0..n-1) on at most k goroutines; the first error
// stops handing out work.
func parallel(ctx context.Context, k, n int, f func(int) error) error {
	var (
		mu   sync.Mutex
		next int
		errs []error
		wg   sync.WaitGroup
	)
	for range max(k, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := len(errs) > 0 || ctx.Err() != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 && ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

// prepare checks every program is installed and builds the Go programs
// of the corpus.
func (r *runner) prepare(ctx context.Context, jobs []job) error {
	built := map[string]bool{}
	for _, j := range jobs {
		if j.build != "" && !built[j.build] {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", j.bin, j.build)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("build %s: %w\n%s", j.build, err, out)
			}
			built[j.build] = true
		}
		if _, err := os.Stat(j.bin); err != nil {
			return fmt.Errorf("%s: %w (apt-get install -y %s)", j.name, err, j.pkg)
		}
	}
	return nil
}
