package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
	"github.com/sysrec/sysrec/recorder"
	"github.com/sysrec/sysrec/reducer"
)

// Annotations a container may carry for the hook.
const (
	annotationProfile = "io.sysrec.profile" // where to write the profile
	annotationName    = "io.sysrec.name"    // the profile's name
)

type ociHookOptions struct {
	output    string
	outputDir string
	// The detached recorder's own options (hidden flags).
	background bool
	pid        int
	exclude    string
	name       string
	command    string
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

func ociHookCmd(io stdio) *cobra.Command {
	var o ociHookOptions
	c := &cobra.Command{
		Use:   "oci-hook [--output FILE | --output-dir DIR]",
		Short: "OCI createRuntime/prestart hook: record a container from its first syscall",
		Long: `oci-hook is run by the container runtime (runc, crun: the createRuntime or
prestart hook of config.json; Podman: a hooks.d file) with the container's
state on standard input. It starts a recording of the container's cgroup
v2 before the container's process runs, waits until the recording is
attached, detaches it and returns; the detached recorder writes the
profile when the container's cgroup empties.

The profile goes to the annotation io.sysrec.profile when the container
has it, else to --output, else to DIR/ID.json for --output-dir, else to
sysrec-ID.json in the bundle. io.sysrec.name names it (default: the
container ID); recorded.command is the container's process.args.

Left out deliberately: what the runtime's init does before it execs the
container's process (joining namespaces, dropping capabilities, the calls
it makes under the filter), counted under the init's name and dropped.
emit --format oci adds back what the runtime needs under the filter.
The recorder's messages go to the profile's path with .log appended.`,
		Example: `  "hooks": {"createRuntime": [{"path": "/usr/local/bin/sysrec", "args": ["sysrec", "oci-hook", "--output-dir", "/var/lib/sysrec"]}]}`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.background {
				return runHookRecorder(cmd.Context(), io, o)
			}
			return runOCIHook(cmd.Context(), io, o)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write the profile to `FILE`")
	f.StringVar(&o.outputDir, "output-dir", "", "write the profile to `DIR`/ID.json")
	f.BoolVar(&o.background, "background", false, "")
	f.IntVar(&o.pid, "pid", 0, "")
	f.StringVar(&o.exclude, "exclude-exe", "", "")
	f.StringVar(&o.name, "name", "", "")
	f.StringVar(&o.command, "command", "", "")
	for _, h := range []string{"background", "pid", "exclude-exe", "name", "command"} {
		f.MarkHidden(h)
	}
	return c
}

// runOCIHook reads the state, starts the detached recorder and returns
// once it records.
func runOCIHook(ctx context.Context, io stdio, o ociHookOptions) error {
	var st ociState
	if err := json.NewDecoder(io.in).Decode(&st); err != nil {
		return fmt.Errorf("read the container state on stdin: %w", err)
	}
	if st.Pid <= 0 || st.ID == "" {
		return fmt.Errorf("container state has no pid or id (id %q, pid %d, status %q): run oci-hook as a createRuntime or prestart hook", st.ID, st.Pid, st.Status)
	}
	out := st.Annotations[annotationProfile]
	switch {
	case out != "":
	case o.output != "":
		out = o.output
	case o.outputDir != "":
		out = filepath.Join(o.outputDir, st.ID+".json")
	default:
		out = filepath.Join(st.Bundle, "sysrec-"+st.ID+".json")
	}
	if err := pipeline.CheckOutput(out); err != nil {
		return fmt.Errorf("cannot write the profile to %s: %w", out, err)
	}
	name := st.Annotations[annotationName]
	if name == "" {
		name = st.ID
	}
	// What the runtime's init is called now is what its calls are
	// charged to until it execs the container's process.
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", st.Pid))
	if err != nil {
		return fmt.Errorf("container process %d: %w", st.Pid, err)
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

	self, err := os.Executable()
	if err != nil {
		return err
	}
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
	bg := exec.Command(self, "oci-hook", "--background", "--pid", strconv.Itoa(st.Pid), "--output", out,
		"--exclude-exe", strings.TrimSpace(string(comm)), "--name", name, "--command", string(cmdJSON))
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

// runHookRecorder is the detached recorder: it follows the container's
// cgroup until it empties and writes the profile.
func runHookRecorder(ctx context.Context, io stdio, o ociHookOptions) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var command []string
	json.Unmarshal([]byte(o.command), &command)
	ready := os.NewFile(3, "ready")
	opts := pipeline.RecordOptions{
		Recorder: recorder.Options{
			PID:              o.pid,
			ProgressInterval: 5 * time.Millisecond,
		},
		Reduce: reducer.Options{
			Runtime:       reducer.RuntimeNone,
			DefaultAction: profiles.ActKillProcess,
			Name:          o.name,
		},
		Output:     o.output,
		Stdout:     io.out,
		Command:    command,
		ExcludeExe: append([]string{o.exclude}, pipeline.RuntimeInits...),
	}
	// The first progress report comes from the attached recording.
	opts.Recorder.Progress = func(recorder.Progress) {
		if ready != nil {
			fmt.Fprintln(ready, "recording")
			ready.Close()
			ready = nil
		}
	}
	res, err := pipeline.Record(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.err, "sysrec: oci-hook: %d syscalls, %d calls in %s, profile written to %s\n",
		len(res.Profile.Syscalls), res.Recording.Total(), res.Recording.Duration.Round(time.Millisecond), o.output)
	return nil
}
