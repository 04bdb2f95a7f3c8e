package policy

import (
	"math/bits"
	"slices"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
)

// TestFamilyArgNames: a risky argument carries the same name in every
// member of a family that records arguments, so a rule learned on one
// member applies to all.
func TestFamilyArgNames(t *testing.T) {
	for _, f := range Families() {
		var names []string
		for _, m := range f.Members {
			var risky []string
			for _, a := range RecordedArgs(m) {
				if a.Risky {
					risky = append(risky, a.Name)
				}
			}
			if len(risky) == 0 {
				continue
			}
			if names == nil {
				names = risky
			} else if !slices.Equal(names, risky) {
				t.Errorf("family %s: %s has risky arguments %v, another member %v", f.Name, m, risky, names)
			}
		}
	}
}

// TestArgTableReasons: every argument linuxabi records says whether it
// is risky and why, and no safe class contains a value that raises the
// tier.
func TestArgTableReasons(t *testing.T) {
	for _, name := range linuxabi.ArgTableSyscalls() {
		for _, spec := range linuxabi.RecordedArgs(name) {
			if _, ok := LookupArg(name, spec.Index); !ok {
				t.Errorf("%s %s: no judgement", name, spec.Name)
			}
		}
		for _, a := range RecordedArgs(name) {
			if a.Why == "" {
				t.Errorf("%s %s: no reason", name, a.Name)
			}
			if !a.Kind.Constrainable() {
				t.Errorf("%s %s: kind %s is never recorded", name, a.Name, a.Kind)
			}
			if !a.Risky && (len(a.SafeValues) > 0 || a.SafeBits != 0 || a.Combos != 0 || len(a.Implies) > 0 || len(a.Tiers) > 0) {
				t.Errorf("%s %s: harmless but has a class or tiers", name, a.Name)
			}
			for _, v := range a.SafeValues {
				if tier, _ := a.ValueTier(v); tier != Ordinary {
					t.Errorf("%s %s: safe value %#x is %s", name, a.Name, v, tier)
				}
			}
			widened := a.SafeBits
			for _, im := range a.Implies {
				widened |= im.Allow
			}
			for b := range 64 {
				if bit := uint64(1) << b; widened&bit != 0 {
					if tier, _ := a.ValueTier(bit); tier != Ordinary {
						t.Errorf("%s %s: safe bit %#x is %s", name, a.Name, bit, tier)
					}
				}
			}
			if a.Kind == linuxabi.KindFlags && a.Combos == 0 && len(a.SafeValues) > 0 {
				t.Errorf("%s %s: safe values on a flags argument without combos", name, a.Name)
			}
		}
	}
}

func TestValueTier(t *testing.T) {
	for _, tc := range []struct {
		syscall string
		index   int
		v       uint64
		want    Tier
	}{
		{"socket", 0, 17, Sensitive}, // AF_PACKET
		{"socket", 0, 16, Sensitive}, // AF_NETLINK
		{"socket", 0, 10, Ordinary},  // AF_INET6
		{"socket", 1, 3, Sensitive},  // SOCK_RAW
		{"socket", 1, 1, Ordinary},
		{"clone", 0, 0x3d0f00, Ordinary}, // glibc's pthread_create
		{"clone", 0, 0x40000000 | 17, Critical},
		{"unshare", 0, 0x80, Critical}, // CLONE_NEWTIME
		{"unshare", 0, 0x400, Ordinary},
		{"mmap", 2, 7, Sensitive},
		{"mmap", 2, 5, Ordinary},
		{"mprotect", 2, 5, Sensitive},
		{"mprotect", 2, 3, Ordinary},
		{"ioctl", 1, 0x5412, Critical},
		{"ioctl", 1, 0x5401, Ordinary},
		{"ioctl", 1, 0xffffffff00005412, Critical}, // a 32-bit argument: the high word is noise
		{"futex", 1, 12, Sensitive},
		{"futex", 1, 9, Ordinary},
		{"personality", 0, 0x0040000, Critical},
		{"personality", 0, 0xffffffff, Ordinary}, // the query
		{"prctl", 0, 0x59616d61, Sensitive},
		{"prctl", 0, 15, Ordinary},
	} {
		a, ok := LookupArg(tc.syscall, tc.index)
		if !ok {
			t.Fatalf("%s arg %d not in the table", tc.syscall, tc.index)
		}
		if got, why := a.ValueTier(tc.v); got != tc.want || (got != Ordinary && why == "") {
			t.Errorf("%s %s=%#x: %s (%q), want %s", tc.syscall, a.Name, tc.v, got, why, tc.want)
		}
	}
}

func TestAllowedBits(t *testing.T) {
	const (
		wronly, rdwr, creat, excl, trunc, appnd, path, tmpfile = 0x1, 0x2, 0x40, 0x80, 0x200, 0x400, 0x200000, 0x400000
	)
	a, _ := LookupArg("openat", 2)
	for _, tc := range []struct {
		seen, want uint64
	}{
		{0, path | excl},
		{wronly, path | excl | wronly | rdwr | appnd | trunc},
		{wronly | creat | trunc, path | excl | wronly | rdwr | appnd | trunc | creat | tmpfile},
	} {
		if got := a.AllowedBits(tc.seen); got != tc.want {
			t.Errorf("openat flags seen %s: allowed %s, want %s", linuxabi.Symbolize("open", tc.seen, true), linuxabi.Symbolize("open", got, true), linuxabi.Symbolize("open", tc.want, true))
		}
	}
	clone, _ := LookupArg("clone", 0)
	if got := clone.AllowedBits(0); bits.OnesCount64(got) != 64-7 {
		t.Errorf("clone allows %#x, want every bit but the 7 namespace bits", got)
	}
}

func TestCloneNamespaceTier(t *testing.T) {
	clone, _ := LookupArg("clone", 0)
	if tier, _ := clone.ValueTier(0x10000000 | 17); tier != Critical {
		t.Errorf("clone(CLONE_NEWUSER) is %s, want critical", tier)
	}
}

// TestKeys: a keyed argument's key is an argument the table records,
// itself not keyed, the one key of its syscall, and both give reasons;
// safe values per key sit on keyed risky arguments and raise no tier;
// no keyed syscall is in a family.
func TestKeys(t *testing.T) {
	for _, name := range linuxabi.ArgTableSyscalls() {
		key, keyed, ok := KeyOf(name)
		for _, a := range RecordedArgs(name) {
			if a.SafeAt != nil && (a.KeyedBy == nil || !a.Risky) {
				t.Errorf("%s %s: safe values per key, but not a keyed risky argument", name, a.Name)
			}
			for k, vals := range a.SafeAt {
				for _, v := range vals {
					if tier, _ := a.ValueTier(v); tier != Ordinary {
						t.Errorf("%s %s: safe value %#x at key %#x is %s", name, a.Name, v, k, tier)
					}
				}
			}
			if a.KeyedBy == nil {
				continue
			}
			if a.KeyedBy.Why == "" {
				t.Errorf("%s %s: keyed without a reason", name, a.Name)
			}
			if a.KeyedBy.Index != key {
				t.Errorf("%s %s: keyed by argument %d, another by %d", name, a.Name, a.KeyedBy.Index, key)
			}
			k, found := LookupArg(name, a.KeyedBy.Index)
			if !found || k.KeyedBy != nil || a.KeyedBy.Index == a.Index {
				t.Errorf("%s %s: key %d is not a recorded, unkeyed other argument", name, a.Name, a.KeyedBy.Index)
			}
			if k.Risky != a.Risky {
				t.Errorf("%s %s: risky %v, its key %s risky %v: rules above the exact level would pair a constrained argument with a free one", name, a.Name, a.Risky, k.Name, k.Risky)
			}
		}
		if ok != (len(keyed) > 0) {
			t.Errorf("%s: KeyOf says %v with keyed %v", name, ok, keyed)
		}
		if f, inFamily := FamilyOf(name); ok && inFamily {
			// The reducer pools a family's values by argument name,
			// which would pool them across key values.
			t.Errorf("%s: keyed, and in family %s", name, f.Name)
		}
	}
	for _, name := range []string{"setsockopt", "getsockopt", "socket", "socketpair"} {
		if _, _, ok := KeyOf(name); !ok {
			t.Errorf("%s: no keyed argument", name)
		}
	}
}
