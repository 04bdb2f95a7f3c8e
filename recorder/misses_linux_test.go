package recorder

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/internal/testenv"
)

// TestRecursionMissesCounted makes the kernel skip a program because it
// is already running on that CPU, and checks recursionMisses sees it
// with BPF run-time statistics off (/proc/sys/kernel/bpf_stats_enabled
// 0, as on a host nobody tuned): the recorder adds these misses to Lost
// and must not depend on ebpf.EnableStats, which slows every BPF program
// on the host.
//
// The program runs on sys_enter of this test's own getppid calls and
// calls bpf_trace_printk, whose tracepoint runs the same program again,
// nested: that run is a recursion miss.
func TestRecursionMissesCounted(t *testing.T) {
	testenv.RequireRoot(t)
	if b, err := os.ReadFile("/proc/sys/kernel/bpf_stats_enabled"); err != nil || string(b) != "0\n" {
		t.Logf("bpf_stats_enabled: %q %v (the test shows most when it is 0)", b, err)
	}
	insns := asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(os.Getpid()), "out"),
		asm.Mov.Imm(asm.R1, 0x0a78), // "x\n"
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, -8),
		asm.Mov.Imm(asm.R2, 3),
		asm.FnTracePrintk.Call(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.RawTracepoint, Instructions: insns, License: "GPL"})
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	for _, tp := range []string{"bpf_trace_printk", "sys_enter"} {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: prog})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	const calls = 100
	for range calls {
		unix.Getppid()
	}
	n, err := recursionMisses([]attachment{{name: "probe", prog: prog}})
	if err != nil {
		t.Fatal(err)
	}
	if n < calls {
		t.Errorf("%d recursion misses counted, want at least %d (one per getppid)", n, calls)
	}
}
