package enforce

import (
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
)

// exemptHelper prefixes prog with an allow for the notify helper's own
// two calls after installing the filter, write(readyFD) and read(wakeFD)
// on the native arch, and falls through to prog for everything else.
// Jumps in classic BPF are relative, so prog runs unchanged after the
// prefix.
func exemptHelper(prog []unix.SockFilter, arch *linuxabi.Arch) []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	write, _ := arch.Number("write")
	read, _ := arch.Number("read")
	// Jump offsets count from the next instruction; prog starts at 12.
	pre := []unix.SockFilter{
		/* 0 */ {Code: ldAbs, K: linuxabi.OffArch},
		/* 1 */ {Code: jeq, K: arch.Audit, Jt: 0, Jf: 10},
		/* 2 */ {Code: ldAbs, K: linuxabi.ArgHigh(0)},
		/* 3 */ {Code: jeq, K: 0, Jt: 0, Jf: 8},
		/* 4 */ {Code: ldAbs, K: linuxabi.ArgLow(0)},
		/* 5 */ {Code: jeq, K: readyFD, Jt: 1, Jf: 0},
		/* 6 */ {Code: jeq, K: wakeFD, Jt: 2, Jf: 5},
		/* 7 */ {Code: ldAbs, K: linuxabi.OffNr}, // fd is readyFD
		/* 8 */ {Code: jeq, K: uint32(write), Jt: 2, Jf: 3},
		/* 9 */ {Code: ldAbs, K: linuxabi.OffNr}, // fd is wakeFD
		/* 10 */ {Code: jeq, K: uint32(read), Jt: 0, Jf: 1},
		/* 11 */ {Code: ret, K: linuxabi.RetAllow},
	}
	return append(pre, prog...)
}
