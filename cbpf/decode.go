package cbpf

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

// Decode reads little-endian struct sock_filter bytes (what Encode
// writes and seccomp(2) takes) and refuses what the kernel would refuse
// for its size: no instructions, a partial instruction, more than
// linuxabi.MaxFilterInstructions. It does not check the instructions
// themselves.
func Decode(b []byte) ([]bpf.RawInstruction, error) {
	if len(b) == 0 {
		return nil, errors.New("decode filter: no instructions")
	}
	if len(b)%sockFilterSize != 0 {
		return nil, fmt.Errorf("decode filter: %d bytes is not a whole number of %d-byte instructions", len(b), sockFilterSize)
	}
	n := len(b) / sockFilterSize
	if n > linuxabi.MaxFilterInstructions {
		return nil, fmt.Errorf("decode filter: %d instructions exceed the kernel's limit of %d", n, linuxabi.MaxFilterInstructions)
	}
	prog := make([]bpf.RawInstruction, n)
	for i := range prog {
		w := b[sockFilterSize*i:]
		prog[i] = bpf.RawInstruction{
			Op: binary.LittleEndian.Uint16(w[0:]),
			Jt: w[2],
			Jf: w[3],
			K:  binary.LittleEndian.Uint32(w[4:]),
		}
	}
	return prog, nil
}
