package enforce

import (
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/linuxabi"
)

// TestExemptHelper: the prefix allows exactly the helper's write(readyFD)
// and read(wakeFD) with the nonce on the native arch; everything else,
// the same calls without the nonce included, reaches the original
// program (here: return errno 7).
func TestExemptHelper(t *testing.T) {
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	const orig = linuxabi.RetErrno | 7
	nonce := [2]uint64{0x0123456789abcdef, 0xfedcba9876543210}
	prog := exemptHelper([]unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: orig}}, arch, nonce)
	nr := func(name string) int32 {
		n, ok := arch.Number(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return int32(n)
	}
	for _, tc := range []struct {
		name string
		d    linuxabi.SeccompData
		want uint32
	}{
		{"write ready", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{readyFD, 0, 0, nonce[0], nonce[1]}}, linuxabi.RetAllow},
		{"read wake", linuxabi.SeccompData{Nr: nr("read"), Arch: arch.Audit, Args: [6]uint64{wakeFD, 0, 0, nonce[0], nonce[1]}}, linuxabi.RetAllow},
		{"write ready, no nonce", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{readyFD}}, orig},
		{"read wake, no nonce", linuxabi.SeccompData{Nr: nr("read"), Arch: arch.Audit, Args: [6]uint64{wakeFD}}, orig},
		{"nonce words swapped", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{readyFD, 0, 0, nonce[1], nonce[0]}}, orig},
		{"nonce high word wrong", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{readyFD, 0, 0, nonce[0], nonce[1] ^ 1<<40}}, orig},
		{"nonce low word wrong", linuxabi.SeccompData{Nr: nr("read"), Arch: arch.Audit, Args: [6]uint64{wakeFD, 0, 0, nonce[0] ^ 1, nonce[1]}}, orig},
		{"write wake", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{wakeFD, 0, 0, nonce[0], nonce[1]}}, orig},
		{"read ready", linuxabi.SeccompData{Nr: nr("read"), Arch: arch.Audit, Args: [6]uint64{readyFD, 0, 0, nonce[0], nonce[1]}}, orig},
		{"write stdout", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{1, 0, 0, nonce[0], nonce[1]}}, orig},
		{"high word set", linuxabi.SeccompData{Nr: nr("write"), Arch: arch.Audit, Args: [6]uint64{1<<32 | readyFD, 0, 0, nonce[0], nonce[1]}}, orig},
		{"other arch", linuxabi.SeccompData{Nr: nr("write"), Arch: 0x40000003, Args: [6]uint64{readyFD, 0, 0, nonce[0], nonce[1]}}, orig},
		{"close ready", linuxabi.SeccompData{Nr: nr("close"), Arch: arch.Audit, Args: [6]uint64{readyFD, 0, 0, nonce[0], nonce[1]}}, orig},
	} {
		raw := make([]bpf.RawInstruction, len(prog))
		for i, in := range prog {
			raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		got, _, err := cbpf.Exec(raw, tc.d)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.name, got, tc.want)
		}
	}
}
