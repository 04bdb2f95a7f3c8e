package recorder

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/reducer"
)

// loopProgram is a tight loop of one syscall pattern, timed inside the
// program so process start does not count.
const loopProgram = `package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	n, _ := strconv.Atoi(os.Args[2])
	start := time.Now()
	switch os.Args[1] {
	case "open":
		for i := 0; i < n; i++ {
			fd, err := syscall.Open(os.Args[3], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				panic(err)
			}
			syscall.Close(fd)
		}
	case "getppid":
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
	}
	fmt.Printf("%.1f ns/iter\n", float64(time.Since(start).Nanoseconds())/float64(n))
}
`

// TestFilesOverhead measures what file recording costs: an open+close
// loop on one file (the path is walked on every open) and a getppid loop
// (a call the file code only looks up and skips), bare, under the
// tracepoint floor, recorded without and with files — alternating, so a
// disturbance hits every row alike.
// A measurement: SYSREC_FS_BENCH=1 runs it (R rounds, default 7).
func TestFilesOverhead(t *testing.T) {
	if os.Getenv("SYSREC_FS_BENCH") != "1" {
		t.Skip("a measurement: SYSREC_FS_BENCH=1 runs it")
	}
	testenv.RequireRoot(t)
	rounds := 7
	if r, err := strconv.Atoi(os.Getenv("R")); err == nil && r > 0 {
		rounds = r
	}
	bin := buildLoop(t)
	file := "/etc/hostname"
	loops := []struct {
		name string
		argv []string
	}{
		{"open+close " + file, []string{bin, "open", "200000", file}},
		{"getppid", []string{bin, "getppid", "2000000"}},
	}
	parse := func(out string) float64 {
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutSuffix(line, " ns/iter"); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		t.Fatalf("no timing in %q", out)
		return 0
	}
	record := func(argv []string, files bool) float64 {
		cg := testCgroup(t)
		var out bytes.Buffer
		if _, err := Record(context.Background(), Options{Cgroup: cg.path, Command: argv, Files: files, Stdout: &out, Stderr: &out}); err != nil {
			t.Fatal(err)
		}
		return parse(out.String())
	}
	rows := []struct {
		name string
		run  func(argv []string) float64
	}{
		{"bare", func(argv []string) float64 {
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatal(err)
			}
			return parse(string(out))
		}},
		{"floor: empty sys_enter+sys_exit", func(argv []string) float64 {
			detach, err := Floor()
			if err != nil {
				t.Fatal(err)
			}
			defer detach()
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				t.Fatal(err)
			}
			return parse(string(out))
		}},
		{"record, files off", func(argv []string) float64 { return record(argv, false) }},
		{"record, files on", func(argv []string) float64 { return record(argv, true) }},
	}
	var report strings.Builder
	for _, l := range loops {
		res := make([][]float64, len(rows))
		for range rounds {
			for i, r := range rows {
				res[i] = append(res[i], r.run(l.argv))
			}
		}
		med := func(v []float64) float64 {
			s := slices.Clone(v)
			slices.Sort(s)
			return s[len(s)/2]
		}
		fmt.Fprintf(&report, "\n| %s, %d rounds alternating | ns/iter median (min–max) | × bare | above floor |\n|---|---:|---:|---:|\n", l.name, rounds)
		bare, floor := med(res[0]), med(res[1])
		for i, r := range rows {
			m := med(res[i])
			above := ""
			if i >= 2 {
				above = fmt.Sprintf("%+.0f ns", m-floor)
			}
			fmt.Fprintf(&report, "| %s | %.0f (%.0f–%.0f) | %.2f× | %s |\n", r.name, m, slices.Min(res[i]), slices.Max(res[i]), m/bare, above)
		}
	}
	t.Logf("%s", report.String())
}

func cgroupAttr(fd int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
}

// TestFilesProgramCost measures the sys_exit program with file
// recording on, with the kernel's BPF run-time statistics: its average
// cost on a call that is no file operation (getppid: every syscall of
// every task on the host) and on an open it resolves, for a short and a
// longer path. SYSREC_FS_BENCH=1 runs it.
func TestFilesProgramCost(t *testing.T) {
	bin := runTimeStats(t)
	cg := testCgroup(t)
	fr, err := startFiles(cg, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	fd, err := os.Open(cg.path)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.Close()
	run := func(argv ...string) (runs uint64, ns float64) {
		before, err := fr.s.prog("sys_exit").Stats()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = cgroupAttr(int(fd.Fd()))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", argv, err, out)
		}
		after, err := fr.s.prog("sys_exit").Stats()
		if err != nil {
			t.Fatal(err)
		}
		return after.RunCount - before.RunCount, float64(after.Runtime - before.Runtime)
	}
	const n = 200000
	runs, ns := run(bin, "getppid", strconv.Itoa(10*n))
	skip := ns / float64(runs)
	var report strings.Builder
	fmt.Fprintf(&report, "sys_exit with files on, a call that is no file operation: %.0f ns/run, timing included (%d runs)\n", skip, runs)
	for _, file := range []string{"/etc/hostname", "/usr/share/doc/bash/copyright", "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"} {
		runs, ns := run(bin, "open", strconv.Itoa(n), file)
		// Every other run (the close, other tasks' calls) is a skip.
		perOpen := (ns - float64(runs-n)*skip) / n
		fmt.Fprintf(&report, "an open of %s (%d components): %.0f ns\n", file, strings.Count(file, "/"), perOpen)
	}
	t.Logf("\n%s", report.String())
}

// runTimeStats is the start of a measurement with the kernel's BPF
// run-time statistics: it skips t unless SYSREC_FS_BENCH=1, turns the
// statistics on for the test (they slow every BPF program of the host)
// and returns the loop program.
func runTimeStats(t *testing.T) string {
	t.Helper()
	if os.Getenv("SYSREC_FS_BENCH") != "1" {
		t.Skip("a measurement: SYSREC_FS_BENCH=1 runs it")
	}
	testenv.RequireRoot(t)
	bin := buildLoop(t)
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stats.Close() })
	return bin
}

func buildLoop(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(loopProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module loop\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "loop")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build loop: %v\n%s", err, out)
	}
	return bin
}

// TestFilesCounts reports how many distinct paths a few programs touch
// and how many Landlock rules they reduce to at each level.
// SYSREC_FS_BENCH=1 runs it.
func TestFilesCounts(t *testing.T) {
	if os.Getenv("SYSREC_FS_BENCH") != "1" {
		t.Skip("a measurement: SYSREC_FS_BENCH=1 runs it")
	}
	testenv.RequireRoot(t)
	var report strings.Builder
	fmt.Fprintf(&report, "| program | paths | accesses | unresolved | rules exact | rules dirs |\n|---|---:|---:|---:|---:|---:|\n")
	row := func(name string, rec *Recording) {
		var n uint64
		for _, f := range rec.Files {
			n += f.Count
		}
		rules := map[reducer.FSLevel]int{}
		for _, l := range reducer.FSLevels {
			rules[l] = len(landlockProfile(t, []*Recording{rec}, l).Filesystem.Rules)
		}
		fmt.Fprintf(&report, "| %s | %d | %d | %d | %d | %d |\n", name, len(rec.Files), n, rec.FilesUnresolved, rules[reducer.FSExact], rules[reducer.FSDirs])
	}
	row("cat /etc/hostname", recordFiles(t, fileMaxDepth, "cat", "/etc/hostname"))
	row("ls -R /usr/share/doc", recordFiles(t, fileMaxDepth, "sh", "-c", "ls -R /usr/share/doc > /dev/null"))
	if python, err := exec.LookPath("python3"); err == nil {
		row("python3 -c 'import json'", recordFiles(t, fileMaxDepth, python, "-c", "import json"))
	}
	if nginx, err := exec.LookPath("nginx"); err == nil {
		dir := realPath(t, t.TempDir())
		for _, d := range []string{dir, filepath.Dir(dir)} {
			os.Chmod(d, 0o755)
		}
		port := freePort(t)
		conf := nginxConf(t, dir, port)
		row("nginx serving one request", recordFilesDuring(t, fileMaxDepth, func(cmd *exec.Cmd) {
			httpGet(t, port, "/index.html")
			cmd.Process.Signal(syscall.SIGQUIT)
		}, nginx, "-c", conf))
	}
	t.Logf("\n%s", report.String())
}
