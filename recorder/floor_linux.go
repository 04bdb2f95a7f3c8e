package recorder

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Floor attaches empty programs (return 0) to the raw tracepoints
// sys_enter and sys_exit, the ones a recording uses, and returns a
// function that detaches them. While attached, every syscall on the host
// takes the tracepoint slow path and runs two empty programs: the least
// any recorder on these tracepoints can cost, which benchmarks compare
// recordings with in the same run.
func Floor() (detach func(), err error) {
	var closers []func() error
	detach = func() {
		for i := len(closers) - 1; i >= 0; i-- { // links before programs
			closers[i]()
		}
	}
	for _, tp := range []string{"sys_enter", "sys_exit"} {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name:         "sysrec_floor",
			Type:         ebpf.RawTracepoint,
			License:      "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		})
		if err != nil {
			detach()
			return nil, fmt.Errorf("load floor program: %w", permHint(err))
		}
		closers = append(closers, prog.Close)
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: prog})
		if err != nil {
			detach()
			return nil, fmt.Errorf("attach %s: %w", tp, permHint(err))
		}
		closers = append(closers, l.Close)
	}
	return detach, nil
}
