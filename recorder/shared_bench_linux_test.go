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

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/internal/testtarget"
)

// TestSharedCost measures what concurrent recordings cost, side by side
// in one run, each round in a random order: a getppid loop outside any
// recording (a bystander) beside 0, 1, 8 and 64 recordings (of cat
// waiting on its stdin, files on), under the floor (two empty programs),
// recorded alone and recorded beside 8 others; the time from Record's
// call to the first recorded call of a target (date, which prints its
// clock) while the programs are attached already, and while they are not
// (the owner starts and loads them); and the kernel memory of the maps
// with 64 recordings. SYSREC_SHARED_BENCH=1 runs it (make bench).
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

	var pool []*stdinRecording
	resize := func(n int) {
		for len(pool) < n {
			pool = append(pool, startStdinRecording(t, []string{"cat"}, true))
		}
		for len(pool) > n {
			pool[len(pool)-1].stop(t)
			pool = pool[:len(pool)-1]
		}
	}
	defer resize(0)
	loop := func() float64 {
		out, err := exec.Command(target, "loop", strconv.Itoa(calls), "-v").CombinedOutput()
		if err != nil {
			t.Fatalf("loop: %v\n%s", err, out)
		}
		return nsPerCall(t, out)
	}
	recordedLoop := func() float64 {
		var out bytes.Buffer
		rec, err := Record(context.Background(), Options{Command: []string{target, "loop", strconv.Itoa(calls), "-v"}, Stdout: &out, Stderr: &out, Files: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := byName(rec, "target")["getppid"]; n != uint64(calls) {
			t.Fatalf("recorded loop: %d getppid, want %d", n, calls)
		}
		return nsPerCall(t, out.Bytes())
	}
	// firstCall is the time from Record's call to the target's first
	// instructions, after its execve (the first recorded call).
	firstCall := func() float64 {
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
		return float64(time.Unix(0, ns).Sub(start)) / float64(time.Millisecond)
	}

	type row struct {
		name  string
		unit  string
		run   func() float64
		value []float64
	}
	rows := []*row{
		{name: "bystander, no recording (bare)", unit: "ns/call", run: func() float64 { resize(0); return loop() }},
		{name: "bystander under the floor (two empty programs)", unit: "ns/call", run: func() float64 {
			resize(0)
			detach, err := Floor()
			if err != nil {
				t.Fatal(err)
			}
			defer detach()
			return loop()
		}},
		{name: "bystander beside 1 recording", unit: "ns/call", run: func() float64 { resize(1); return loop() }},
		{name: "bystander beside 8 recordings", unit: "ns/call", run: func() float64 { resize(8); return loop() }},
		{name: "bystander beside 64 recordings", unit: "ns/call", run: func() float64 { resize(64); return loop() }},
		{name: "recorded, alone", unit: "ns/call", run: func() float64 { resize(0); return recordedLoop() }},
		{name: "recorded, beside 8 recordings", unit: "ns/call", run: func() float64 { resize(8); return recordedLoop() }},
		{name: "start to first recorded call, programs attached (beside 1)", unit: "ms", run: func() float64 { resize(1); return firstCall() }},
		{name: "start to first recorded call, no owner yet (it loads)", unit: "ms", run: func() float64 { resize(0); return firstCall() }},
	}
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	for range rounds {
		for _, i := range rnd.Perm(len(rows)) {
			rows[i].value = append(rows[i].value, rows[i].run())
		}
	}
	resize(64)
	mem := sharedMemory(t)
	resize(0)

	med := func(r *row) float64 {
		v := slices.Clone(r.value)
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| %d rounds, each in a random order | median (min–max) | vs beside 1 | vs floor |\n|---|---:|---:|---:|\n", rounds)
	one, floor := med(rows[2]), med(rows[1])
	for _, r := range rows {
		m := med(r)
		vs1, vsFloor := "", ""
		if r.unit == "ns/call" {
			vs1 = fmt.Sprintf("%+.0f ns", m-one)
			vsFloor = fmt.Sprintf("%+.0f ns", m-floor)
		}
		fmt.Fprintf(&b, "| %s | %.1f %s (%.1f–%.1f) | %s | %s |\n", r.name, m, r.unit, slices.Min(r.value), slices.Max(r.value), vs1, vsFloor)
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
