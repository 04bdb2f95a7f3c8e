package recorder

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/sysrec/sysrec/profiles"
)

// TestProgramCost measures what the recorder's programs cost a syscall
// above empty programs, with the kernel's BPF run-time statistics: each
// run is timed around the program itself, so the tracepoint dispatch —
// the same for an empty program, and most of the floor — is left out,
// and so is the noise of timing a whole loop on a VM. getppid calls of
// a recorded task and of a task outside the recording, with file
// recording off and on, phase tracking off, on with the task in init,
// and on with it serving. SYSREC_FS_BENCH=1 runs it.
func TestProgramCost(t *testing.T) {
	bin := runTimeStats(t)
	var err error
	const calls = 2000000
	// perRun runs the loop (in cg, or outside any recording if cg is
	// nil) and returns the average run time of each program meanwhile.
	perRun := func(cg *cgroup, progs ...*ebpf.Program) []float64 {
		before := make([]*ebpf.ProgramStats, len(progs))
		for i, p := range progs {
			if before[i], err = p.Stats(); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(bin, "getppid", strconv.Itoa(calls))
		if cg != nil {
			fd, err := os.Open(cg.path)
			if err != nil {
				t.Fatal(err)
			}
			defer fd.Close()
			cmd.SysProcAttr = cgroupAttr(int(fd.Fd()))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("loop: %v\n%s", err, out)
		}
		out := make([]float64, len(progs))
		for i, p := range progs {
			after, err := p.Stats()
			if err != nil {
				t.Fatal(err)
			}
			out[i] = float64(after.Runtime-before[i].Runtime) / float64(after.RunCount-before[i].RunCount)
		}
		return out
	}

	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: empty})
	if err != nil {
		t.Fatal(err)
	}
	floor := perRun(nil, empty)[0]
	l.Close()

	var report strings.Builder
	fmt.Fprintf(&report, "| getppid, %d calls | sys_enter ns/run | sys_exit ns/run | both above two empty programs |\n|---|---:|---:|---:|\n", calls)
	fmt.Fprintf(&report, "| empty program | %.1f | %.1f | |\n", floor, floor)
	arch, err := hostArch()
	if err != nil {
		t.Fatal(err)
	}
	def := profiles.DefaultTransition()
	for _, c := range []struct {
		files  bool
		phases string
		rule   *profiles.Transition
	}{
		// What record does: phases tracked. The loop never listens, so
		// it stays in init and each call is checked against the rule;
		// serving after getppid, its first call starts serving and the
		// others cost a compare.
		{false, "off", nil},
		{false, "init", &def},
		{false, "serving", &profiles.Transition{After: []string{"getppid"}}},
		{true, "init", &def},
	} {
		rule, err := phaseRule(arch, c.rule)
		if err != nil {
			t.Fatal(err)
		}
		cg := testCgroup(t)
		s, err := startSession(cg, sessionOptions{maxKeys: DefaultMaxKeys, files: c.files, phases: rule})
		if err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{"recorded", "outside"} {
			in := cg
			if where == "outside" {
				in = nil
			}
			ns := perRun(in, s.prog("sys_enter"), s.prog("sys_exit"))
			fmt.Fprintf(&report, "| %s task, files %v, phases %s | %.1f | %.1f | %+.1f ns |\n", where, map[bool]string{false: "off", true: "on"}[c.files], c.phases, ns[0], ns[1], ns[0]+ns[1]-2*floor)
		}
		if err := s.close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("\n%s", report.String())
}
