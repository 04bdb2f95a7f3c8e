package enforce

import (
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
)

// exemptHelper prefixes prog with an allow for the notify helper's own
// two calls after installing the filter, write(readyFD) and read(wakeFD)
// on the native arch, each carrying nonce in its (unused) fourth and
// fifth arguments, and falls through to prog for everything else. Jumps
// in classic BPF are relative, so prog runs unchanged after the prefix.
//
// The descriptor alone would keep the exemption after exec: a target that
// dup2s onto descriptor 1000 would write there unreported. The nonce is
// drawn per run and lived only in the helper's memory, which exec
// replaces (and the supervisor's, which Landlock's ptrace restriction
// keeps from the target). Other syscalls load only the arch and the
// number here, so the kernel's action cache still answers them.
func exemptHelper(prog []unix.SockFilter, arch *linuxabi.Arch, nonce [2]uint64) []unix.SockFilter {
	const (
		ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret   = unix.BPF_RET | unix.BPF_K
	)
	write, _ := arch.Number("write")
	read, _ := arch.Number("read")
	// Each call's block checks its descriptor and the two nonce words,
	// all 64 bits of each, and allows. toProg marks the jumps that leave
	// the prefix, patched once its length is known.
	const toProg = 0xff
	block := func(fd uint64) []unix.SockFilter {
		var out []unix.SockFilter
		for _, c := range []struct {
			arg int
			v   uint64
		}{{0, fd}, {3, nonce[0]}, {4, nonce[1]}} {
			out = append(out,
				unix.SockFilter{Code: ldAbs, K: linuxabi.ArgLow(c.arg)},
				unix.SockFilter{Code: jeq, K: uint32(c.v), Jf: toProg},
				unix.SockFilter{Code: ldAbs, K: linuxabi.ArgHigh(c.arg)},
				unix.SockFilter{Code: jeq, K: uint32(c.v >> 32), Jf: toProg})
		}
		return append(out, unix.SockFilter{Code: ret, K: linuxabi.RetAllow})
	}
	writeBlock, readBlock := block(readyFD), block(wakeFD)
	pre := []unix.SockFilter{
		{Code: ldAbs, K: linuxabi.OffArch},
		{Code: jeq, K: arch.Audit, Jf: toProg},
		{Code: ldAbs, K: linuxabi.OffNr},
		{Code: jeq, K: uint32(write), Jt: 1}, // to writeBlock
		{Code: jeq, K: uint32(read), Jt: uint8(len(writeBlock)), Jf: toProg},
	}
	pre = append(append(pre, writeBlock...), readBlock...)
	for i := range pre {
		if pre[i].Code == jeq && pre[i].Jf == toProg {
			pre[i].Jf = uint8(len(pre) - i - 1)
		}
	}
	return append(pre, prog...)
}
