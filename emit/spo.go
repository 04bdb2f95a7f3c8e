package emit

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sysrec/sysrec/profiles"
)

// SPO returns p as a Kubernetes security-profiles-operator
// SeccompProfile, with the runtimes' setup calls as for OCI.
func SPO(p *profiles.Profile, opts Options) ([]byte, error) {
	o, err := ociProfile(p, opts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	name := strings.ToLower(nameOr(p))
	b.WriteString("apiVersion: security-profiles-operator.x-k8s.io/v1beta1\n")
	b.WriteString("kind: SeccompProfile\n")
	b.WriteString("metadata:\n")
	fmt.Fprintf(&b, "  name: %s\n", yamlString(name))
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
		names := append([]string(nil), s.Names...)
		sort.Strings(names)
		for _, n := range names {
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
