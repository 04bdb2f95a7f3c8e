package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// Annotations a container may carry for the hook.
const (
	AnnotationProfile = "io.sysrec.profile" // where to write the profile
	AnnotationName    = "io.sysrec.name"    // the profile's name
)

// OCIHookOptions say where the hook's profile goes when the container
// carries no io.sysrec.profile annotation: Output, else OutputDir/ID.json,
// else sysrec-ID.json in the bundle.
type OCIHookOptions struct {
	Output    string
	OutputDir string
	// Self is the sysrec executable the detached recorder runs as
	// (`sysrec oci-hook --background ...`).
	Self string
}

// ociState is the container state an OCI runtime writes to a hook's
// standard input.
type ociState struct {
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations"`
}

// OCIHook is the createRuntime/prestart hook: it reads the container
// state from state, starts a detached recorder of the container's cgroup
// and returns once the recorder is attached.
func OCIHook(state io.Reader, o OCIHookOptions) error {
	var st ociState
	if err := json.NewDecoder(state).Decode(&st); err != nil {
		return fmt.Errorf("read the container state on stdin: %w", err)
	}
	if st.Pid <= 0 || st.ID == "" {
		return fmt.Errorf("container state has no pid or id (id %q, pid %d, status %q): run oci-hook as a createRuntime or prestart hook", st.ID, st.Pid, st.Status)
	}
	out := st.Annotations[AnnotationProfile]
	switch {
	case out != "":
	case o.Output != "":
		out = o.Output
	case o.OutputDir != "":
		out = filepath.Join(o.OutputDir, st.ID+".json")
	default:
		out = filepath.Join(st.Bundle, "sysrec-"+st.ID+".json")
	}
	if err := CheckOutput(out); err != nil {
		return fmt.Errorf("cannot write the profile to %s: %w", out, err)
	}
	name := st.Annotations[AnnotationName]
	if name == "" {
		name = st.ID
	}
	var command []string
	if b, err := os.ReadFile(filepath.Join(st.Bundle, "config.json")); err == nil {
		var cfg struct {
			Process struct{ Args []string }
		}
		if json.Unmarshal(b, &cfg) == nil {
			command = cfg.Process.Args
		}
	}
	cmdJSON, _ := json.Marshal(command)

	logf, err := os.OpenFile(out+".log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	ready, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer ready.Close()
	bg := exec.Command(o.Self, "oci-hook", "--background", "--pid", strconv.Itoa(st.Pid), "--output", out, "--name", name, "--command", string(cmdJSON))
	// Detached: a session of its own, no descriptor of the runtime's
	// (the runtime waits for the hook's output to close), its messages
	// to the log; fd 3 says when it records.
	bg.Stdin, bg.Stdout, bg.Stderr = nil, logf, logf
	bg.ExtraFiles = []*os.File{readyW}
	bg.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := bg.Start(); err != nil {
		readyW.Close()
		return fmt.Errorf("start the recorder: %w", err)
	}
	readyW.Close()
	exited := make(chan error, 1)
	go func() { exited <- bg.Wait() }()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(ready).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) == "recording" {
			bg.Process.Release()
			return nil
		}
		err := <-exited
		b, _ := os.ReadFile(out + ".log")
		return fmt.Errorf("the recorder did not start (%v): %s", err, strings.TrimSpace(string(b)))
	case <-time.After(30 * time.Second):
		bg.Process.Kill()
		return errors.New("the recorder did not start within 30 s")
	}
}

// HookRecorderOptions are what OCIHook hands its detached recorder.
type HookRecorderOptions struct {
	PID     int
	Output  string
	Name    string
	Command []string
	// Ready receives "recording" once the recording is attached.
	Ready *os.File
}

// HookRecorder is the detached recorder: it follows the container's
// cgroup until it empties and writes the profile.
func HookRecorder(ctx context.Context, o HookRecorderOptions) (*RecordResult, error) {
	ready := o.Ready
	opts := RecordOptions{
		Recorder: recorder.Options{
			PID: o.PID,
			// The runtime's init is in the cgroup until it execs the
			// container's process: its calls are its own setup.
			FromExec:         true,
			ProgressInterval: 5 * time.Millisecond,
		},
		Reduce: reducer.Options{
			Runtime:       reducer.RuntimeNone,
			DefaultAction: profiles.ActKillProcess,
			Name:          o.Name,
		},
		Output:  o.Output,
		Command: o.Command,
	}
	// The first progress report comes from the attached recording.
	opts.Recorder.Progress = func(recorder.Progress) {
		if ready != nil {
			fmt.Fprintln(ready, "recording")
			ready.Close()
			ready = nil
		}
	}
	return Record(ctx, opts)
}
