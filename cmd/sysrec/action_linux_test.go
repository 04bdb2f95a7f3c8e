package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// actionStep is one `run:` step of action.yml.
type actionStep struct {
	name, script string
}

// actionSteps reads the run steps of the composite action: the file keeps
// to one shape (`- name:` then a `run: |` block), which this reads; a
// step with `uses:` is not run here.
func actionSteps(t *testing.T, path string) []actionStep {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []actionStep
	var cur *actionStep
	indent := -1
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		trimmed := strings.TrimLeft(line, " ")
		depth := len(line) - len(trimmed)
		if indent >= 0 {
			if trimmed == "" || depth > indent {
				if len(line) > indent+2 {
					cur.script += line[indent+2:]
				}
				cur.script += "\n"
				continue
			}
			indent = -1
		}
		switch {
		case strings.HasPrefix(trimmed, "- name: "):
			steps = append(steps, actionStep{name: strings.TrimPrefix(trimmed, "- name: ")})
			cur = &steps[len(steps)-1]
		case trimmed == "run: |" && cur != nil:
			indent = depth
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	var run []actionStep
	for _, st := range steps {
		if st.script != "" {
			run = append(run, st)
		}
	}
	return run
}

// runAction runs the action's steps as GitHub would (inputs substituted
// into the text, bash, RUNNER_TEMP) and returns the name of the first
// step that failed, or "".
func runAction(t *testing.T, inputs map[string]string, runnerTemp string) (failed, log string) {
	t.Helper()
	for _, st := range actionSteps(t, "../../action.yml") {
		script := st.script
		for k, v := range inputs {
			script = strings.ReplaceAll(script, "${{ inputs."+k+" }}", v)
		}
		if strings.Contains(script, "${{") {
			t.Fatalf("step %q: unsubstituted input in\n%s", st.name, script)
		}
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "RUNNER_TEMP="+runnerTemp)
		out, err := cmd.CombinedOutput()
		log += "## " + st.name + "\n" + string(out)
		if err != nil {
			return st.name, log
		}
	}
	return "", log
}

// TestAction runs action.yml's steps on the small module of the CI
// example: against a profile of its tests the gate passes and uploads a
// new profile; after a test adds a syscall, the Diff step fails naming it.
func TestAction(t *testing.T) {
	testenv.RequireRoot(t)
	gobin := testenv.RequireTool(t, "go")
	mod := copyDir(t, "../../testdata/cimod")
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if code, log := sysrec("record", "--progress", "never", "--exe", "*.test", "-o", base, "--",
		"/bin/sh", "-c", "cd "+mod+" && exec "+gobin+" test -count=1 ./..."); code != 0 {
		t.Fatalf("record the base profile: exit %d\n%s", code, log)
	}
	inputs := map[string]string{
		"version": "local",
		"profile": base,
		"exe":     "*.test",
		"output":  filepath.Join(dir, "new.json"),
		"command": `/bin/sh -c "cd ` + mod + ` && exec ` + gobin + ` test -count=1 ./..."`,
	}
	if failed, log := runAction(t, inputs, t.TempDir()); failed != "" {
		t.Fatalf("step %q failed on an unchanged module:\n%s", failed, log)
	}
	if _, err := os.Stat(inputs["output"]); err != nil {
		t.Fatalf("no profile to upload: %v", err)
	}
	extra := "package cimod\n\nimport (\n\t\"syscall\"\n\t\"testing\"\n)\n\nfunc TestPriority(t *testing.T) {\n\tsyscall.Syscall(syscall.SYS_GETPRIORITY, 0, 0, 0)\n}\n"
	if err := os.WriteFile(filepath.Join(mod, "priority_test.go"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	failed, log := runAction(t, inputs, t.TempDir())
	if failed != "Diff" || !strings.Contains(log, "+ getpriority") {
		t.Fatalf("after adding getpriority: failed step %q, want Diff naming it\n%s", failed, log)
	}
}
