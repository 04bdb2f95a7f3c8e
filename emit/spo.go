package emit

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/profiles"
)

// security-profiles-operator's API group and the versions emit writes.
const (
	SPOGroup = "security-profiles-operator.x-k8s.io"
	// SPOVersion is the current API (SPO ≥ 0.9): SeccompProfile is
	// cluster-scoped.
	SPOVersion = "v1"
	// SPOVersionV1Beta1 is the API of older SPO releases, where a
	// SeccompProfile lives in a namespace (kubectl apply -n NS).
	SPOVersionV1Beta1 = "v1beta1"
)

// SPOSpec is the spec of an SPO SeccompProfile as far as sysrec fills it
// (the OCI seccomp fields SPO's CRD has; it has no defaultErrnoRet).
type SPOSpec struct {
	DefaultAction string       `json:"defaultAction"`
	Architectures []string     `json:"architectures"`
	Syscalls      []SPOSyscall `json:"syscalls"`
}

// SPOSyscall is one entry of SPOSpec.Syscalls, as in OCI.
type SPOSyscall = ociSyscall

// SPOSpecOf returns p as an SPO SeccompProfile spec, with the runtimes'
// setup calls as for OCI.
//
// SPO's CRD takes argument values as int64 of at least 0 (its Go type is
// uint64, but the API server's JSON keeps only int64 exactly). A masked
// comparison whose mask has the top bit set, as OCI's blocks of values
// differing in a few bits have (runc's mmap flags 0x22 or 0x32: mask
// ^0x10), becomes one entry per value instead; any other value above
// int64 is refused with its syscall.
func SPOSpecOf(p *profiles.Profile, opts Options) (SPOSpec, error) {
	o, err := ociProfile(p, opts)
	if err != nil {
		return SPOSpec{}, err
	}
	spec := SPOSpec{DefaultAction: o.DefaultAction, Architectures: o.Architectures, Syscalls: []SPOSyscall{}}
	for _, s := range o.Syscalls {
		s.Names = append([]string(nil), s.Names...)
		sort.Strings(s.Names)
		expanded, err := spoArgs(s)
		if err != nil {
			return SPOSpec{}, fmt.Errorf("convert %s rules to spo: %w", strings.Join(s.Names, ","), err)
		}
		spec.Syscalls = append(spec.Syscalls, expanded...)
	}
	return spec, nil
}

// maxSPOExpand bounds the values one masked comparison becomes (2^4).
const maxSPOExpand = 4

// spoArgs returns s with every comparison SPO cannot hold rewritten as
// equalities, one entry per combination of values.
func spoArgs(s ociSyscall) ([]ociSyscall, error) {
	out := []ociSyscall{s}
	for i, a := range s.Args {
		if a.Value <= math.MaxInt64 && a.ValueTwo <= math.MaxInt64 {
			continue
		}
		free := ^a.Value // bits the masked comparison leaves open
		if a.Op != "SCMP_CMP_MASKED_EQ" || a.ValueTwo > math.MaxInt64 || bits.OnesCount64(free) > maxSPOExpand || free>>63 != 0 {
			return nil, fmt.Errorf("argument %d value %#x is above the int64 SPO's schema takes", a.Index, max(a.Value, a.ValueTwo))
		}
		var values []uint64
		for sub := free; ; sub = (sub - 1) & free { // every subset of the open bits
			values = append(values, a.ValueTwo|sub)
			if sub == 0 {
				break
			}
		}
		slices.Sort(values)
		var next []ociSyscall
		for _, e := range out {
			for _, v := range values {
				c := e
				c.Args = slices.Clone(e.Args)
				c.Args[i] = ociArg{Index: a.Index, Value: v, Op: "SCMP_CMP_EQ"}
				next = append(next, c)
			}
		}
		out = next
	}
	return out, nil
}

// SPO returns p as a security-profiles-operator SeccompProfile of the v1
// API (cluster-scoped), with the runtimes' setup calls as for OCI.
func SPO(p *profiles.Profile, opts Options) ([]byte, error) {
	return spoYAML(p, opts, SPOVersion)
}

// SPOV1Beta1 is SPO for older SPO releases: the v1beta1 API, whose
// SeccompProfile is namespaced.
func SPOV1Beta1(p *profiles.Profile, opts Options) ([]byte, error) {
	return spoYAML(p, opts, SPOVersionV1Beta1)
}

func spoYAML(p *profiles.Profile, opts Options, version string) ([]byte, error) {
	o, err := SPOSpecOf(p, opts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s/%s\n", SPOGroup, version)
	b.WriteString("kind: SeccompProfile\n")
	b.WriteString("metadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", yamlString(strings.ToLower(nameOr(p))))
	b.WriteString("spec:\n")
	fmt.Fprintf(&b, "  defaultAction: %s\n", o.DefaultAction)
	b.WriteString("  architectures:\n")
	for _, a := range o.Architectures {
		fmt.Fprintf(&b, "    - %s\n", a)
	}
	b.WriteString("  syscalls:\n")
	for _, s := range o.Syscalls {
		fmt.Fprintf(&b, "    - action: %s\n", s.Action)
		if s.ErrnoRet != nil {
			fmt.Fprintf(&b, "      errnoRet: %d\n", *s.ErrnoRet)
		}
		b.WriteString("      names:\n")
		for _, n := range s.Names {
			fmt.Fprintf(&b, "        - %s\n", n)
		}
		if len(s.Args) > 0 {
			b.WriteString("      args:\n")
			for _, a := range s.Args {
				fmt.Fprintf(&b, "        - index: %d\n          value: %d\n", a.Index, a.Value)
				if a.ValueTwo != 0 {
					fmt.Fprintf(&b, "          valueTwo: %d\n", a.ValueTwo)
				}
				fmt.Fprintf(&b, "          op: %s\n", a.Op)
			}
		}
	}
	return []byte(b.String()), nil
}

func yamlString(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			b, _ := json.Marshal(s)
			return string(b)
		}
	}
	return s
}
