package cbpf

import (
	"bytes"
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/linuxabi"
)

func TestDecode(t *testing.T) {
	retAllow := []byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}
	jeq := []byte{0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0}
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []bpf.RawInstruction
		wantErr string
	}{
		{"one instruction", retAllow, []bpf.RawInstruction{{Op: 0x06, K: 0x7fff0000}}, ""},
		{"jump offsets and little-endian k", slices.Concat(jeq, retAllow), []bpf.RawInstruction{{Op: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Op: 0x06, K: 0x7fff0000}}, ""},
		{"the kernel's limit", bytes.Repeat(retAllow, linuxabi.MaxFilterInstructions), nil, ""},
		{"nil", nil, nil, "decode filter: no instructions"},
		{"empty", []byte{}, nil, "decode filter: no instructions"},
		{"partial instruction", retAllow[:7], nil, "decode filter: 7 bytes is not a whole number of 8-byte instructions"},
		{"one and a bit", append(slices.Clone(retAllow), 0), nil, "decode filter: 9 bytes is not a whole number of 8-byte instructions"},
		{"over the limit", bytes.Repeat(retAllow, linuxabi.MaxFilterInstructions+1), nil, "decode filter: 4097 instructions exceed the kernel's limit of 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.in)/8 {
				t.Fatalf("%d instructions from %d bytes", len(got), len(tc.in))
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if re := encode(got); !bytes.Equal(re, tc.in) {
				t.Errorf("encode(Decode(b)) != b")
			}
		})
	}
}
