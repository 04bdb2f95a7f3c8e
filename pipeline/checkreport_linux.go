package pipeline

import (
	"context"
	"fmt"

	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/reducer"
)

// CheckReport is check's report for scripts (check --json): its schema.
type CheckReport struct {
	Profile    string           `json:"profile"`
	Violations []CheckViolation `json:"violations"`
	Calls      uint64           `json:"calls"`
	Dropped    uint64           `json:"dropped,omitempty"`
	// Files and Ports are the rights the target used that the profile's
	// filesystem and network sections do not grant.
	Files []CheckFile `json:"files"`
	Ports []CheckPort `json:"ports"`
	// FilesUnresolved counts file accesses not compared: no path.
	FilesUnresolved uint64 `json:"files_unresolved,omitempty"`
	// Landlock lists what Landlock refused the target (its scopes; from
	// the kernel's audit records, only while audit is enabled).
	Landlock   []string `json:"landlock,omitempty"`
	ExitStatus int      `json:"exit_status"`
}

// CheckViolation is one distinct call the profile does not allow.
type CheckViolation struct {
	Call  string `json:"call"`
	Nr    int    `json:"nr"`
	Count uint64 `json:"count"`
	// Reachable says whether a profile recorded with --generalize
	// reachable would allow the call, and why (or why not).
	Reachable *CheckLevel `json:"reachable,omitempty"`
}

// CheckLevel is what static analysis of the target says of a refused
// call: whether the reachable level would allow it.
type CheckLevel struct {
	Allows bool   `json:"allows"`
	Why    string `json:"why"`
}

// CheckFile is a file with rights the filesystem section does not grant.
type CheckFile struct {
	Path   string   `json:"path"`
	Access []string `json:"access"`
	Count  uint64   `json:"count"`
}

// CheckPort is a port with rights the network section does not grant.
type CheckPort struct {
	Port   uint16   `json:"port"`
	Access []string `json:"access"`
	Count  uint64   `json:"count"`
}

// ReachableLevels says, per violation, whether the reachable level would
// have allowed it, from static analysis of argv's executable (the
// recording the profile came from is not at hand, so the levels below
// cannot be told apart). None when there are no violations; an error
// when the target cannot be analysed.
func ReachableLevels(ctx context.Context, argv []string, violations []profiles.Sample) ([]*CheckLevel, error) {
	out := make([]*CheckLevel, len(violations))
	if len(violations) == 0 {
		return out, nil
	}
	reach, err := Reachable(ctx, argv, 0)
	if err != nil {
		return out, err
	}
	for i, v := range violations {
		ok, why := reducer.ReachableAllows(v, reach)
		out[i] = &CheckLevel{Allows: ok, Why: why}
	}
	return out, nil
}

// Report is r as check's report on the profile named profile, levels
// being ReachableLevels of r.Violations.
func (r *CheckResult) Report(profile string, levels []*CheckLevel) CheckReport {
	rep := CheckReport{Profile: profile, Violations: []CheckViolation{}, Files: []CheckFile{}, Ports: []CheckPort{},
		Calls: r.Calls(), Dropped: r.Dropped, FilesUnresolved: r.FilesUnresolved, ExitStatus: r.Exit.Status}
	for i, v := range r.Violations {
		rep.Violations = append(rep.Violations, CheckViolation{Call: profiles.DescribeSample(v), Nr: v.Nr, Count: v.Count, Reachable: levels[i]})
	}
	for _, f := range r.Files {
		rep.Files = append(rep.Files, CheckFile{Path: f.Path, Access: linuxabi.LandlockFSNames(f.Access), Count: f.Count})
	}
	for _, p := range r.Ports {
		rep.Ports = append(rep.Ports, CheckPort{Port: p.Port, Access: linuxabi.LandlockNetNames(p.Access), Count: p.Count})
	}
	for _, d := range r.Exit.Landlock {
		rep.Landlock = append(rep.Landlock, d.String())
	}
	return rep
}

// Clean reports whether the target did nothing the profile does not
// allow: no violation, no refusal, no file or port beyond its sections.
func (r *CheckResult) Clean() bool {
	return len(r.Violations) == 0 && len(r.Exit.Landlock) == 0 && len(r.Files) == 0 && len(r.Ports) == 0
}

// ExitStatus is check's status: the target's when it did nothing the
// profile does not allow, else exitstatus.Finding.
func (r *CheckResult) ExitStatus() int {
	if r.Clean() {
		return r.Exit.Status
	}
	return exitstatus.Finding
}

// Findings are check's report on the profile named profile as
// sentences, one a line (check without --json): what the reachable
// level would do of each violation (levels, from ReachableLevels), the
// rights the Landlock sections do not grant, what Landlock refused, and
// a count of each kind, or that there was nothing.
func (r *CheckResult) Findings(profile string, levels []*CheckLevel) []string {
	var out []string
	for i, v := range r.Violations {
		if l := levels[i]; l != nil && l.Allows {
			out = append(out, fmt.Sprintf("--generalize reachable would allow %s (%s)", profiles.DescribeSample(v), l.Why))
		} else if l != nil {
			out = append(out, fmt.Sprintf("--generalize reachable would not allow %s: %s", profiles.DescribeSample(v), l.Why))
		}
	}
	for _, f := range r.Files {
		for _, line := range profiles.DescribeFileAccess(f) {
			out = append(out, "landlock would refuse "+line)
		}
	}
	for _, p := range r.Ports {
		for _, right := range linuxabi.LandlockNetNames(p.Access) {
			out = append(out, fmt.Sprintf("landlock would refuse %s on port %d", right, p.Port))
		}
	}
	if r.FilesUnresolved > 0 {
		out = append(out, fmt.Sprintf("%d file accesses could not be resolved to a path and were not compared", r.FilesUnresolved))
	}
	for _, d := range r.Exit.Landlock {
		out = append(out, "landlock refused "+d.String())
	}
	if r.Clean() {
		return append(out, "no violations of "+profile)
	}
	if len(r.Violations) > 0 {
		out = append(out, fmt.Sprintf("%d distinct violations (%d calls) of %s", len(r.Violations), r.Calls(), profile))
	}
	if n := len(r.Files) + len(r.Ports); n > 0 {
		out = append(out, fmt.Sprintf("%d files and ports with rights the Landlock sections of %s do not grant", n, profile))
	}
	if r.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d calls beyond the first %d distinct violations were counted but not kept", r.Dropped, len(r.Violations)))
	}
	return out
}
