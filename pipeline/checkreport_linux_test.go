package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/sysrec/sysrec/enforce"
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
