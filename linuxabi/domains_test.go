package linuxabi

import "testing"

func TestDomainsOrdinary(t *testing.T) {
	for _, d := range Domains() {
		if d.Why == "" {
			t.Errorf("domain %s has no reason", d.Name)
		}
		for _, m := range d.Members {
			if tier, _ := TierOf(m); tier != Ordinary {
				t.Errorf("domain %s: %s is %s", d.Name, m, tier)
			}
			if !knownAnywhere(m) {
				t.Errorf("domain %s: %s is in no syscall table", d.Name, m)
			}
			if got, ok := DomainOf(m); !ok || got.Name != d.Name {
				t.Errorf("DomainOf(%s) = %v, %v", m, got.Name, ok)
			}
		}
	}
}

// TestFamiliesInDomains: a family lies inside one domain, or outside all.
func TestFamiliesInDomains(t *testing.T) {
	for _, f := range Families() {
		var in []string
		for _, m := range f.Members {
			d, _ := DomainOf(m)
			in = append(in, d.Name)
		}
		for _, d := range in[1:] {
			if d != in[0] {
				t.Errorf("family %s spans domains %v", f.Name, in)
				break
			}
		}
	}
}
