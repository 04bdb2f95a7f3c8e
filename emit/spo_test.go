package emit

import (
	"strings"
	"testing"
)

// TestSPOArgs: a comparison SPO's int64 schema cannot hold becomes
// equalities that match exactly the values it matched; what cannot be
// expanded is refused.
func TestSPOArgs(t *testing.T) {
	matches := func(a ociArg, v uint64) bool {
		switch a.Op {
		case "SCMP_CMP_EQ":
			return v == a.Value
		case "SCMP_CMP_MASKED_EQ":
			return v&a.Value == a.ValueTwo
		}
		t.Fatalf("op %s", a.Op)
		return false
	}
	for _, tc := range []struct {
		name    string
		arg     ociArg
		entries int
		wantErr string
	}{
		{"fits", ociArg{Index: 3, Value: 0xff, ValueTwo: 0x22, Op: "SCMP_CMP_MASKED_EQ"}, 1, ""},
		{"one open bit", ociArg{Index: 3, Value: ^uint64(0x10), ValueTwo: 0x22, Op: "SCMP_CMP_MASKED_EQ"}, 2, ""},
		{"four open bits", ociArg{Index: 0, Value: ^uint64(0x0f), ValueTwo: 0x40, Op: "SCMP_CMP_MASKED_EQ"}, 16, ""},
		{"five open bits", ociArg{Index: 0, Value: ^uint64(0x1f), ValueTwo: 0x40, Op: "SCMP_CMP_MASKED_EQ"}, 0, "argument 0 value 0xffffffffffffffe0 is above the int64"},
		{"equality above int64", ociArg{Index: 1, Value: ^uint64(99), Op: "SCMP_CMP_EQ"}, 0, "argument 1 value 0xffffffffffffff9c is above the int64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ociSyscall{Names: []string{"mmap"}, Action: "SCMP_ACT_ALLOW", Args: []ociArg{{Index: 2, Value: 3, Op: "SCMP_CMP_EQ"}, tc.arg}}
			got, err := spoArgs(s)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.entries {
				t.Fatalf("%d entries, want %d: %+v", len(got), tc.entries, got)
			}
			for v := uint64(0); v < 0x100; v++ {
				for _, hi := range []uint64{0, 1 << 40, 1 << 63} {
					in := v | hi
					any := false
					for _, e := range got {
						if e.Args[0] != s.Args[0] {
							t.Fatalf("entry %+v lost the other argument", e)
						}
						if e.Args[1].Value > 1<<63-1 || e.Args[1].ValueTwo > 1<<63-1 {
							t.Fatalf("entry %+v still above int64", e)
						}
						any = any || matches(e.Args[1], in)
					}
					if want := matches(tc.arg, in); any != want {
						t.Errorf("value %#x: spo entries match %v, the oci comparison %v", in, any, want)
					}
				}
			}
		})
	}
}
