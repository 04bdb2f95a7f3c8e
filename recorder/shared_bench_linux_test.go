package recorder

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
	"github.com/sysrec/sysrec/profiles"
	"golang.org/x/sys/unix"
)

// TestSharedCost measures what concurrent recordings cost, side by
// side in one run, each round in a random order: a getppid loop
// outside any recording (a bystander) beside 0, 1, 8 and 64 recordings
// (registered cgroups, files on: what a recording costs others does
// not depend on what runs in it), under the floor (two empty
// programs), recorded alone and beside 8 others (phases tracked, as
// record does); by the loop's own clock and by the programs' run-time
// statistics (sys_enter + sys_exit per call, which a busy host
// disturbs far less); the time from Record's call to the first
// recorded call of a target (date, which prints its clock) while the
// programs are attached already, and while they are not (the owner
// starts and loads them); and the kernel memory of the maps with 64
// recordings. SYSREC_SHARED_BENCH=1 runs it (make bench).
func TestSharedCost(t *testing.T) {
	if os.Getenv("SYSREC_SHARED_BENCH") == "" {
		t.Skip("SYSREC_SHARED_BENCH=1 runs the shared recorder benchmark")
	}
	testenv.RequireRoot(t)
	target := testtarget.Path(t)
	calls, rounds := 2000000, 7
	if v, err := strconv.Atoi(os.Getenv("ROUNDS")); err == nil {
		rounds = v
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()

	// Phases tracked, as record does.
	arch, err := hostArch()
	if err != nil {
		t.Fatal(err)
	}
	def := profiles.DefaultTransition()
	phases, err := phaseRule(arch, &def)
	if err != nil {
		t.Fatal(err)
	}
	var pool []*session
	resize := func(n int) {
		for len(pool) < n {
			s, err := startSession(testCgroup(t), sessionOptions{maxKeys: DefaultMaxKeys, files: true, phases: phases})
			if err != nil {
				t.Fatal(err)
			}
			pool = append(pool, s)
		}
		for len(pool) > n {
			if err := pool[len(pool)-1].close(); err != nil {
				t.Fatal(err)
			}
			pool = pool[:len(pool)-1]
		}
	}
	defer resize(0)
	// loop runs the getppid loop (in cg, or outside any recording) and
	// returns its ns/call and the programs' ns per call meanwhile.
	loop := func(cg *cgroup, progs ...*ebpf.Program) (float64, float64) {
		before := make([]*ebpf.ProgramStats, len(progs))
		for i, p := range progs {
			if before[i], err = p.Stats(); err != nil {
				t.Fatal(err)
			}
		}
		argv := []string{target, "loop", strconv.Itoa(calls), "-v"}
		var out []byte
		if cg != nil {
			out, err = runIn(cg, argv...)
		} else {
			out, err = exec.Command(argv[0], argv[1:]...).CombinedOutput()
		}
		if err != nil {
			t.Fatalf("loop: %v\n%s", err, out)
		}
		var ns float64
		var runs uint64
		for i, p := range progs {
			after, err := p.Stats()
			if err != nil {
				t.Fatal(err)
			}
			ns += float64(after.Runtime - before[i].Runtime)
			if i == 0 {
				runs = after.RunCount - before[i].RunCount
			}
		}
		return nsPerCall(t, out), ns / float64(max(runs, 1))
	}
	shared := func() []*ebpf.Program { return []*ebpf.Program{pool[0].prog("sys_enter"), pool[0].prog("sys_exit")} }
	bystander := func(n int) func() (float64, float64) {
		return func() (float64, float64) { resize(n); return loop(nil, shared()...) }
	}
	recorded := func(n int) func() (float64, float64) {
		return func() (float64, float64) {
			resize(n)
			cg := testCgroup(t)
			s, err := startSession(cg, sessionOptions{maxKeys: DefaultMaxKeys, files: true, phases: phases})
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			return loop(cg, s.prog("sys_enter"), s.prog("sys_exit"))
		}
	}
	// firstCall is the time from Record's call to the target's first
	// instructions, after its execve (the first recorded call).
	firstCall := func(n int) func() (float64, float64) {
		return func() (float64, float64) {
			resize(n)
			var out bytes.Buffer
			start := time.Now()
			rec, err := Record(context.Background(), Options{Command: []string{"date", "+%s%N"}, Stdout: &out, Files: true})
			if err != nil {
				t.Fatal(err)
			}
			if byName(rec, "date")["execve"] != 1 {
				t.Fatalf("date's execve not recorded: %v", byName(rec, "date"))
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return float64(time.Unix(0, ns).Sub(start)) / float64(time.Millisecond), 0
		}
	}
	floor := func() (float64, float64) {
		resize(0)
		var progs []*ebpf.Program
		for _, tp := range []string{"sys_enter", "sys_exit"} {
			p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
				Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: p})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			progs = append(progs, p)
		}
		return loop(nil, progs...)
	}

	type row struct {
		name       string
		ms         bool // a time in ms, not ns/call
		run        func() (float64, float64)
		clock, bpf []float64
	}
	rows := []*row{
		{name: "bystander, no recording (bare)", run: func() (float64, float64) { resize(0); return loop(nil) }},
		{name: "bystander under the floor (two empty programs)", run: floor},
		{name: "bystander beside 1 recording", run: bystander(1)},
		{name: "bystander beside 8 recordings", run: bystander(8)},
		{name: "bystander beside 64 recordings", run: bystander(64)},
		{name: "recorded, alone", run: recorded(0)},
		{name: "recorded, beside 8 recordings", run: recorded(8)},
		{name: "start to first recorded call, programs attached (beside 1)", ms: true, run: firstCall(1)},
		{name: "start to first recorded call, no owner yet (it loads)", ms: true, run: firstCall(0)},
	}
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	for range rounds {
		for _, i := range rnd.Perm(len(rows)) {
			c, b := rows[i].run()
			rows[i].clock = append(rows[i].clock, c)
			rows[i].bpf = append(rows[i].bpf, b)
		}
	}
	resize(64)
	mem := sharedMemory(t)
	resize(0)

	med := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| getppid, %d calls, %d rounds in a random order | loop ns/call median (min–max) | vs beside 1 | programs ns/call median (min–max) | vs beside 1 |\n|---|---:|---:|---:|---:|\n", calls, rounds)
	one, oneBPF := med(rows[2].clock), med(rows[2].bpf)
	for _, r := range rows {
		if r.ms {
			fmt.Fprintf(&b, "| %s | %.1f ms (%.1f–%.1f) | | | |\n", r.name, med(r.clock), slices.Min(r.clock), slices.Max(r.clock))
			continue
		}
		bpf, vsBPF := "", ""
		if med(r.bpf) > 0 {
			bpf = fmt.Sprintf("%.1f (%.1f–%.1f)", med(r.bpf), slices.Min(r.bpf), slices.Max(r.bpf))
			vsBPF = fmt.Sprintf("%+.1f", med(r.bpf)-oneBPF)
		}
		fmt.Fprintf(&b, "| %s | %.0f (%.0f–%.0f) | %+.0f | %s | %s |\n", r.name, med(r.clock), slices.Min(r.clock), slices.Max(r.clock), med(r.clock)-one, bpf, vsBPF)
	}
	fmt.Fprintf(&b, "\n%s", mem)
	t.Logf("\n%s", b.String())
}

// nsPerCall reads the target's "N ns/call" line.
func nsPerCall(t *testing.T, out []byte) float64 {
	t.Helper()
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutSuffix(strings.TrimSpace(line), " ns/call"); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	t.Fatalf("no ns/call in %q", out)
	return 0
}

// sharedMemory sums the kernel memory (memlock in fdinfo, which the
// kernel charges to the memory cgroup) of the maps the owner holds and
// of those this process holds (the recordings' own), by map id.
func sharedMemory(t *testing.T) string {
	t.Helper()
	maps := func(pid int) map[string]uint64 {
		out := map[string]uint64{}
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
		for _, f := range fds {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var id string
			var mem uint64
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "map_id:"); ok {
					id = strings.TrimSpace(v)
				}
				if v, ok := strings.CutPrefix(line, "memlock:"); ok {
					mem, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				}
			}
			if id != "" {
				out[id] = mem
			}
		}
		return out
	}
	shared := maps(ownerPid(t))
	own := maps(os.Getpid())
	var sharedSum, ownSum uint64
	for _, v := range shared {
		sharedSum += v
	}
	for id, v := range own {
		if _, ok := shared[id]; !ok {
			ownSum += v
		}
	}
	return fmt.Sprintf("kernel memory of the maps with 64 recordings (files on, default sizes): the shared object's %d maps %.1f MiB; the recordings' own %.1f MiB (%.1f MiB each); total %.1f MiB\n",
		len(shared), float64(sharedSum)/(1<<20), float64(ownSum)/(1<<20), float64(ownSum)/64/(1<<20), float64(sharedSum+ownSum)/(1<<20))
}
