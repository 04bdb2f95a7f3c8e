package policy

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
)

func TestDomainsOrdinary(t *testing.T) {
	for _, d := range Domains() {
		if d.Why == "" {
			t.Errorf("domain %s has no reason", d.Name)
		}
		ordinaryKnown(t, "domain "+d.Name, d.Members)
		for _, m := range d.Members {
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

// TestJobsOrdinary: a job adds ordinary syscalls only, and its triggers
// name arguments that are recorded flags.
func TestJobsOrdinary(t *testing.T) {
	for _, j := range Jobs() {
		if j.Why == "" || len(j.When) == 0 || len(j.Also) == 0 {
			t.Errorf("job %s: reason, trigger or members missing", j.Name)
		}
		ordinaryKnown(t, "job "+j.Name, j.Also)
		for _, alt := range j.When {
			for _, c := range alt {
				if !knownAnywhere(c.Name) {
					t.Errorf("job %s: trigger %s is in no syscall table", j.Name, c.Name)
				}
				if c.Arg == "" {
					continue
				}
				found := false
				for _, a := range RecordedArgs(c.Name) {
					found = found || (a.Name == c.Arg && a.Kind == linuxabi.KindFlags && a.Mask()&c.Bits == c.Bits)
				}
				if !found {
					t.Errorf("job %s: %s has no recorded flags argument %s covering %#x", j.Name, c.Name, c.Arg, c.Bits)
				}
			}
		}
	}
}

// ordinaryKnown checks that every member of what (a domain, a job) is
// an ordinary-tier syscall some table names.
func ordinaryKnown(t *testing.T, what string, members []string) {
	t.Helper()
	for _, m := range members {
		if tier, _ := TierOf(m); tier != Ordinary {
			t.Errorf("%s: %s is %s", what, m, tier)
		}
		if !knownAnywhere(m) {
			t.Errorf("%s: %s is in no syscall table", what, m)
		}
	}
}
