package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sysrec/sysrec/policy"
	"github.com/sysrec/sysrec/profiles"
)

// phaseServers are the servers of the phase corpus (-phases, make
// phases): each recorded once, with the defaults, under its first
// request mix, then held out under phase enforcement on the others:
// other mixes and error paths, nginx (a master and two workers)
// reloaded with SIGHUP and with a worker killed and respawned, redis
// saving in the background and rewriting its append-only file (both in a
// child it forks while serving). nginx and redis are recorded a second
// time with one of those events in the recorded run (a reload; a
// BGSAVE): the first recording never saw the master reload or redis
// fork, so its union fails those inputs too, and only a recording that
// saw them says whether phases add a failure.
func phaseServers(t tools) []job {
	byName := map[string]job{}
	for _, j := range servers(t) {
		byName[j.name] = j
	}
	withInputs := func(j job, more ...input) job {
		j.inputs = append(slices.Clone(j.inputs), more...)
		j.reach = nil
		return j
	}
	errorsInput := func(conf func(string) setup, args func(string) func(*place) []string) input {
		return input{desc: "errors: 404s, a method it does not serve, a path outside the site, a malformed request", setup: steps(site("err"), conf("err")), args: args("err"), mix: httpMixErrors}
	}
	nginx := web("nginx", "/usr/sbin/nginx", "nginx", "", nginxConf(2), nginxArgs)
	goHTTPD := byName["go-httpd"]
	goConf := func(site string) setup { return mkdir(site + ".d/uploads") }
	goArgs := func(site string) func(*place) []string {
		return argv("-addr", "127.0.0.1:{port}", "-root", "@"+site, "-uploads", "@"+site+".d/uploads", "-log", "@"+site+".d/access.log")
	}
	pyArgs := func(site string) func(*place) []string {
		return argv("-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", "@"+site)
	}
	redisIn := func(desc, conf, dir string, mix func(*place) string) input {
		return input{desc: desc, setup: redisConf(conf, dir), args: argv("@"+conf, "--port", "{port}"), mix: mix}
	}
	recorded := func(j job, name string, in input) job {
		j.name = name
		j.inputs = append([]input{in}, j.inputs[1:]...)
		return j
	}
	nginxJob := withInputs(nginx,
		errorsInput(nginxConf(2), nginxArgs),
		input{desc: "mix A, SIGHUP (reload: new workers), mix A", setup: steps(site("reload"), nginxConf(2)("reload")), args: nginxArgs("reload"), mix: nginxReload("reload")},
		input{desc: "mix A, a worker killed (SIGKILL) and respawned, mix A", setup: steps(site("respawn"), nginxConf(2)("respawn")), args: nginxArgs("respawn"), mix: nginxWorkerKilled("respawn")},
	)
	redisJob := withInputs(byName["redis"],
		redisIn("mix A, BGSAVE (a child saves the data)", "bg/redis.conf", "bg/data", redisBackground("BGSAVE", "rdb_bgsave_in_progress", "rdb_last_bgsave_status")),
		redisIn("mix A, BGREWRITEAOF (a child rewrites the append-only file)", "aof/redis.conf", "aof/data", redisBackground("BGREWRITEAOF", "aof_rewrite_in_progress", "aof_last_bgrewrite_status")),
	)
	return []job{
		nginxJob,
		recorded(nginxJob, "nginx+reload", input{desc: "mix A, SIGHUP, mix A", setup: steps(site("site"), nginxConf(2)("site")), args: nginxArgs("site"), mix: nginxReload("site")}),
		redisJob,
		recorded(redisJob, "redis+bgsave", redisIn("mix A, BGSAVE", "conf/redis.conf", "data", redisBackground("BGSAVE", "rdb_bgsave_in_progress", "rdb_last_bgsave_status"))),
		withInputs(byName["memcached"]),
		withInputs(goHTTPD, errorsInput(goConf, goArgs)),
		withInputs(byName["python3-http"], errorsInput(noConf, pyArgs)),
	}
}

// httpMixErrors asks for what is not there or not served.
func httpMixErrors(p *place) string {
	out := httpDo(p, true,
		httpReq{method: "GET", path: "/missing.html"},
		httpReq{method: "GET", path: "/no/such/dir/"},
		httpReq{method: "GET", path: "/data/missing.json"},
		httpReq{method: "DELETE", path: "/index.html"},
		httpReq{method: "GET", path: "/../../etc/passwd"},
	)
	return out + "malformed: " + rawFirstLine(p, "NOT A REQUEST\r\n\r\n") + "\n"
}

// rawFirstLine sends req as it is and returns the first line answered.
func rawFirstLine(p *place, req string) string {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), 10*time.Second)
	if err != nil {
		return "error: " + err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return "error: " + err.Error()
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(line)
}

// nginxReload sends mix A, reloads nginx (SIGHUP: the master reads its
// configuration again and replaces its workers), waits until new workers
// replaced the old, and sends mix A again.
func nginxReload(site string) func(p *place) string {
	return nginxEvent(site, "reloaded",
		func(master int, _ []int) error { return syscall.Kill(master, syscall.SIGHUP) },
		func(old, now []int) bool {
			return len(now) == len(old) && !slices.ContainsFunc(now, func(pid int) bool { return slices.Contains(old, pid) })
		})
}

// nginxWorkerKilled sends mix A, kills a worker with SIGKILL, waits
// until the master has started another, and sends mix A again.
func nginxWorkerKilled(site string) func(p *place) string {
	return nginxEvent(site, "worker respawned",
		func(_ int, workers []int) error { return syscall.Kill(workers[0], syscall.SIGKILL) },
		func(old, now []int) bool { return len(now) == len(old) && !slices.Contains(now, old[0]) })
}

// nginxEvent sends mix A, does something to nginx's master or workers,
// waits until done says the master's children are as that leaves them,
// and sends mix A again; what says it happened.
func nginxEvent(site, what string, do func(master int, workers []int) error, done func(old, now []int) bool) func(p *place) string {
	return func(p *place) string {
		out := httpMixA(p)
		master, old, err := nginxWorkers(p, site)
		if err == nil {
			err = do(master, old)
		}
		if err == nil {
			err = waitChildren(master, func(now []int) bool { return done(old, now) })
		}
		if err != nil {
			return out + "error: " + err.Error()
		}
		return out + what + "\n" + httpMixA(p)
	}
}

// nginxWorkers is the master's pid (from its pid file) and its workers'.
func nginxWorkers(p *place, site string) (int, []int, error) {
	b, err := os.ReadFile(p.at(site + ".d/run/nginx.pid"))
	if err != nil {
		return 0, nil, err
	}
	master, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, nil, fmt.Errorf("nginx.pid: %w", err)
	}
	workers, err := children(master)
	if err == nil && len(workers) == 0 {
		err = errors.New("the master has no workers")
	}
	return master, workers, err
}

// children lists the child processes of pid (of its main thread, which
// forks nginx's workers).
func children(pid int) ([]int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("children of %d: %w", pid, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// waitChildren polls pid's children until ok says they are as wanted, at
// most 30 s (no event says a process forked a child).
func waitChildren(pid int, ok func([]int) bool) error {
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var now []int
	for time.Now().Before(deadline) {
		var err error
		if now, err = children(pid); err != nil {
			return err
		}
		if ok(now) {
			return nil
		}
		<-tick.C
	}
	return fmt.Errorf("children of %d still %v after 30 s", pid, now)
}

// redisBackground sends mix A, then command (which forks a child that
// writes the data out), waits until the INFO persistence field running
// is 0, and writes the field status (ok or err).
func redisBackground(command, running, status string) func(p *place) string {
	return func(p *place) string {
		out := redisMixA(p)
		lc := dialLine(p)
		lc.redis(command)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		deadline := time.Now().Add(60 * time.Second)
		for lc.err == nil {
			info := lc.info("persistence")
			if strings.Contains(info, running+":0") {
				fmt.Fprintf(&lc.out, "%s\n", infoField(info, status))
				break
			}
			if time.Now().After(deadline) {
				lc.err = fmt.Errorf("%s still running after 60 s", command)
				break
			}
			<-tick.C
		}
		return out + lc.result()
	}
}

// info sends INFO section and returns the whole text of its reply.
func (lc *lineClient) info(section string) string {
	if lc.err != nil {
		return ""
	}
	if _, lc.err = fmt.Fprintf(lc.c, "*2\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n", len(section), section); lc.err != nil {
		return ""
	}
	line, err := lc.r.ReadString('\n')
	if err != nil {
		lc.err = err
		return ""
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
	if err != nil || n < 0 {
		lc.err = fmt.Errorf("INFO reply %q", line)
		return ""
	}
	data := make([]byte, n+2)
	if _, lc.err = io.ReadFull(lc.r, data); lc.err != nil {
		return ""
	}
	return string(data[:n])
}

// infoField is the line of an INFO reply naming field.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, field+":") {
			return strings.TrimSpace(line)
		}
	}
	return field + " missing"
}

// phaseResult is one server of the phase corpus: what its profile allows
// in the whole run and once serving, and its held-out runs under phase
// enforcement and under the same profile's union.
type phaseResult struct {
	Name string `json:"name"`
	// Scope is record's --phases: doors (the default) or all.
	Scope      string               `json:"scope"`
	Transition *profiles.Transition `json:"transition,omitempty"`
	// Executables are the profile's phase sets: what each executable's
	// processes called (observed, not generalised).
	Executables []profiles.PhaseSets `json:"executables"`
	// Allowed and AllowedServing count the distinct syscalls the profile
	// allows in any phase and once serving; Sensitive and
	// SensitiveServing list those of tier sensitive or critical.
	Allowed          int      `json:"allowed"`
	AllowedServing   int      `json:"allowed_serving"`
	Sensitive        []string `json:"sensitive"`
	SensitiveServing []string `json:"sensitive_serving"`
	// Refused lists the syscalls allowed in the whole run and not once
	// serving.
	Refused []string `json:"refused_serving"`

	HeldOut int `json:"held_out"`
	// Passed and PassedUnion count the held-out runs passing under the
	// whole profile; PassedSyscalls and PassedUnionSyscalls under its
	// syscall part alone (--landlock off), where only the filter and
	// the phases decide.
	Passed              int        `json:"passed"`
	PassedUnion         int        `json:"passed_union"`
	PassedSyscalls      int        `json:"passed_syscalls"`
	PassedUnionSyscalls int        `json:"passed_union_syscalls"`
	Killed              int        `json:"killed"`
	Runs                []phaseRun `json:"runs"`
}

// phaseRun is a held-out input run under the profile (phases enforced)
// and under its union (`run --phases off`), each whole and as its
// syscall part alone.
type phaseRun struct {
	Input          string  `json:"input"`
	Phased         outcome `json:"phased"`
	Union          outcome `json:"union"`
	PhasedSyscalls outcome `json:"phased_syscalls"`
	UnionSyscalls  outcome `json:"union_syscalls"`
}

// phaseRefusalRE is what run says when a process made an init-only call
// once serving: "pid 1234 (nginx) called socket in its serving phase:
// killed".
var phaseRefusalRE = regexp.MustCompile(`\(([^)]*)\) called (\S+) in its serving phase: (\S+)`)

// measurePhases records j on its first input with the defaults but for
// record's --phases scope, and runs its held-out inputs under the
// profile and under its union.
func (r *runner) measurePhases(ctx context.Context, j job, b *baseline, scope string) (phaseResult, error) {
	pr := phaseResult{Name: j.name, Scope: scope}
	profile, rec, err := r.record(ctx, j, "related", "", "auto", b.inputs[0].status, "--phases", scope)
	if err != nil {
		return pr, err
	}
	defer os.RemoveAll(rec.root)
	p, err := profiles.Load(profile)
	if err != nil {
		return pr, err
	}
	if p.Phases != nil {
		pr.Transition = &p.Phases.Transition
		pr.Executables = p.Phases.Executables
	}
	all, risky := allowedNames(p.Union())
	serving, servingRisky := allowedNames(p.ServingOnly())
	pr.Allowed, pr.Sensitive = len(all), risky
	pr.AllowedServing, pr.SensitiveServing = len(serving), servingRisky
	pr.Refused = slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(serving, n) })
	for i := 1; i < len(j.inputs); i++ {
		run := phaseRun{Input: j.inputs[i].desc}
		for _, w := range []struct {
			o   *outcome
			pre []string
		}{
			{&run.Phased, nil},
			{&run.Union, []string{"--phases", "off"}},
			{&run.PhasedSyscalls, []string{"--landlock", "off"}},
			{&run.UnionSyscalls, []string{"--phases", "off", "--landlock", "off"}},
		} {
			if *w.o, err = r.confined(ctx, j, b, i, append([]string{"run", "--profile", profile}, w.pre...)); err != nil {
				return pr, err
			}
		}
		pr.HeldOut++
		pr.Passed += boolInt(run.Phased.Passed)
		pr.PassedUnion += boolInt(run.Union.Passed)
		pr.PassedSyscalls += boolInt(run.PhasedSyscalls.Passed)
		pr.PassedUnionSyscalls += boolInt(run.UnionSyscalls.Passed)
		pr.Killed += boolInt(len(run.Phased.Phase) > 0 || len(run.PhasedSyscalls.Phase) > 0)
		pr.Runs = append(pr.Runs, run)
	}
	return pr, nil
}

// allowedNames lists the distinct syscalls p allows and those of them
// one of whose entries is of tier sensitive or critical (with what its
// argument rules let through), sorted.
func allowedNames(p *profiles.Profile) (names, risky []string) {
	risky = []string{}
	for _, s := range p.Syscalls {
		if !s.EffectiveAction().Allows() {
			continue
		}
		names = append(names, s.Name)
		if tier, _ := profiles.EntryTier(s); tier >= policy.Sensitive {
			risky = append(risky, s.Name)
		}
	}
	slices.Sort(names)
	slices.Sort(risky)
	return slices.Compact(names), slices.Compact(risky)
}

// printPhases writes the phase corpus's table for one scope (Markdown,
// for docs/phases.md) and why each failing run failed.
func printPhases(w io.Writer, scope string, results []phaseResult) {
	fmt.Fprintf(w, "\n## record --phases %s\n\n", scope)
	fmt.Fprintln(w, "| server | executable | observed: whole run → serving | allowed: whole run → serving | sensitive allowed: whole run → serving | held-out passing, syscalls alone: phases (union) | whole profile: phases (union) | held-out inputs with a phase kill |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, pr := range results {
		exes := pr.Executables
		if len(exes) == 0 {
			exes = []profiles.PhaseSets{{Exe: "(no phases)"}}
		}
		for k, e := range exes {
			whole := len(union(e.Init, e.Serving))
			if k == 0 {
				fmt.Fprintf(w, "| %s | %s | %d → %d | %d → %d | %d → %d | %d/%d (%d/%d) | %d/%d (%d/%d) | %d |\n", pr.Name, filepath.Base(e.Exe), whole, len(e.Serving),
					pr.Allowed, pr.AllowedServing, len(pr.Sensitive), len(pr.SensitiveServing),
					pr.PassedSyscalls, pr.HeldOut, pr.PassedUnionSyscalls, pr.HeldOut, pr.Passed, pr.HeldOut, pr.PassedUnion, pr.HeldOut, pr.Killed)
			} else {
				fmt.Fprintf(w, "| | %s | %d → %d | | | | | |\n", filepath.Base(e.Exe), whole, len(e.Serving))
			}
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, pr := range results {
		for _, e := range pr.Executables {
			fmt.Fprintf(tw, "%s\t%s serving:\t%s\n", pr.Name, filepath.Base(e.Exe), strings.Join(e.Serving, " "))
		}
		fmt.Fprintf(tw, "%s\tsensitive allowed once serving:\t%s (whole run: %s)\n", pr.Name, strings.Join(pr.SensitiveServing, " "), strings.Join(pr.Sensitive, " "))
		fmt.Fprintf(tw, "%s\trefused once serving:\t%s\n", pr.Name, strings.Join(pr.Refused, " "))
		for _, run := range pr.Runs {
			for _, o := range []struct {
				how string
				o   outcome
			}{{"phases", run.Phased}, {"union", run.Union}, {"phases, syscalls", run.PhasedSyscalls}, {"union, syscalls", run.UnionSyscalls}} {
				if !o.o.Passed {
					fmt.Fprintf(tw, "%s\t%q (%s):\t%s\n", pr.Name, run.Input, o.how, o.o.describe())
				}
			}
		}
	}
	tw.Flush()
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
