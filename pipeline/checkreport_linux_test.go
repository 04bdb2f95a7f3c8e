package pipeline

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/exitstatus"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestCheckReport: the JSON schema scripts read (check --json), with
// empty lists rather than null when nothing was refused.
func TestCheckReport(t *testing.T) {
	clean := &CheckResult{Exit: enforce.Exit{Status: 3}}
	if !clean.Clean() {
		t.Error("a result with nothing refused is not clean")
	}
	b, err := json.Marshal(clean.Report("app.json", nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"profile":"app.json","violations":[],"calls":0,"files":[],"ports":[],"exit_status":3}`; string(b) != want {
		t.Errorf("clean report:\n%s\nwant\n%s", b, want)
	}
	r := &CheckResult{
		Violations: []profiles.Sample{{Name: "getdents64", Nr: 217, Count: 2}},
		Files:      []profiles.FileAccess{{Path: "/etc/passwd", Access: linuxabi.LandlockReadFile, Count: 1}},
		Ports:      []profiles.PortAccess{{Port: 80, Access: linuxabi.LandlockConnectTCP, Count: 1}},
	}
	if r.Clean() {
		t.Error("a result with violations is clean")
	}
	b, err = json.Marshal(r.Report("app.json", []*CheckLevel{{Allows: true, Why: "reachable"}}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"profile":"app.json","violations":[{"call":"getdents64()","nr":217,"count":2,"reachable":{"allows":true,"why":"reachable"}}],"calls":2,` +
		`"files":[{"path":"/etc/passwd","access":["read_file"],"count":1}],"ports":[{"port":80,"access":["connect_tcp"],"count":1}],"exit_status":0}`
	if string(b) != want {
		t.Errorf("report:\n%s\nwant\n%s", b, want)
	}
}

// TestCheckFindings: the sentences check prints, and its status: the
// target's when clean, 1 with findings.
func TestCheckFindings(t *testing.T) {
	clean := &CheckResult{Exit: enforce.Exit{Status: 3}}
	if got := clean.Findings("app.json", nil); len(got) != 1 || got[0] != "no violations of app.json" || clean.ExitStatus() != 3 {
		t.Errorf("clean: %q, status %d", got, clean.ExitStatus())
	}
	r := &CheckResult{
		Violations: []profiles.Sample{{Name: "getdents64", Count: 2}, {Name: "ptrace", Count: 1}},
		Files:      []profiles.FileAccess{{Path: "/srv/out", Access: linuxabi.LandlockMakeReg}},
		Dropped:    4,
	}
	want := []string{
		"--generalize reachable would allow getdents64() (reachable via x)",
		"--generalize reachable would not allow ptrace(request=0): critical",
		"landlock would refuse make_reg on /srv (for out)",
		"2 distinct violations (7 calls) of app.json", // the dropped calls count
		"1 files and ports with rights the Landlock sections of app.json do not grant",
		"4 calls beyond the first 2 distinct violations were counted but not kept",
	}
	got := r.Findings("app.json", []*CheckLevel{{Allows: true, Why: "reachable via x"}, {Why: "critical"}})
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n%q\nwant\n%q", got, want)
	}
	if r.ExitStatus() != exitstatus.Finding {
		t.Errorf("status %d with findings", r.ExitStatus())
	}
}
