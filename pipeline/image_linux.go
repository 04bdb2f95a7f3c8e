package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/internal/atomicfile"
	"github.com/sysrec/sysrec/internal/waitfile"
	"github.com/sysrec/sysrec/profiles"
)

// DockerRuntime is the name a dockerd configuration gives sysrec
// oci-runtime (daemon.json "runtimes"): dockerd has no OCI hooks, so a
// container is run with this runtime, which adds the oci-hook to its
// config.json and execs runc.
const DockerRuntime = "sysrec"

// ImageOptions say which image to record under which engine.
type ImageOptions struct {
	Engine string // docker (default) or podman
	// Client is the engine's command ("" is Engine, found on PATH).
	Client string
	Image  string
	Args   []string
	// RunFlags go to `docker run` / `podman run` before the image.
	RunFlags []string
	// Output is the profile; the OCI profile goes beside it
	// (OCIOutput). Name names the profile (default: the image's).
	Output string
	Name   string
	// Self is the sysrec executable Podman runs as its hook.
	Self           string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// ImageResult is a recorded image run.
type ImageResult struct {
	Profile *profiles.Profile
	// ExitStatus is the container's (the engine's when it could not
	// run it).
	ExitStatus int
	// OCIOutput is the emitted OCI profile, and RunLine the engine's
	// command line that runs the image under it.
	OCIOutput string
	RunLine   []string
}

// OCIOutput is where RecordImage writes the OCI profile of output:
// web.json gives web.oci.json.
func OCIOutput(output string) string {
	return strings.TrimSuffix(output, ".json") + ".oci.json"
}

// RecordImage runs the image in a new container under the engine with
// sysrec oci-hook, so the container is recorded from its first syscall
// however short it lives (Podman: a hooks.d hook given with
// --hooks-dir; Docker: the sysrec runtime of the daemon's
// configuration), waits for the hook's profile, writes it to o.Output
// and its OCI profile beside it, and returns the command line that runs
// the image under that.
func RecordImage(ctx context.Context, o ImageOptions) (*ImageResult, error) {
	if o.Engine == "" {
		o.Engine = "docker"
	}
	if o.Engine != "docker" && o.Engine != "podman" {
		return nil, fmt.Errorf("engine %q (want docker or podman)", o.Engine)
	}
	if o.Client == "" {
		o.Client = o.Engine
	}
	oci := OCIOutput(o.Output)
	for _, out := range []string{o.Output, oci} {
		if err := CheckOutput(out); err != nil {
			return nil, err
		}
	}
	if o.Output == "-" || o.Output == "" {
		return nil, errors.New("the profile of an image goes to a file (-o FILE): its OCI profile goes beside it")
	}
	tmp, err := os.MkdirTemp("", "sysrec-image")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	var args []string
	var out, hookDir, cid string
	switch o.Engine {
	case "podman":
		hooks := filepath.Join(tmp, "hooks")
		if err := os.Mkdir(hooks, 0o700); err != nil {
			return nil, err
		}
		hook, err := json.Marshal(map[string]any{
			"version": "1.0.0",
			"hook":    map[string]any{"path": o.Self, "args": []string{"sysrec", "oci-hook"}},
			"when":    map[string]any{"annotations": map[string]string{AnnotationProfile: ".+"}},
			"stages":  []string{"prestart"},
		})
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(filepath.Join(hooks, "sysrec.json"), hook, 0o600); err != nil {
			return nil, err
		}
		out = filepath.Join(tmp, "profile.json")
		args = []string{"--hooks-dir", hooks, "run", "--rm", "--annotation", AnnotationProfile + "=" + out}
	case "docker":
		if hookDir, err = dockerHookDir(ctx, o.Client); err != nil {
			return nil, err
		}
		cid = filepath.Join(tmp, "cid")
		args = []string{"run", "--rm", "--runtime", DockerRuntime, "--cidfile", cid}
	}
	args = append(append(append(args, o.RunFlags...), o.Image), o.Args...)
	cmd := exec.CommandContext(ctx, o.Client, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	status := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("run %s: %w", o.Engine, err)
		}
		status = ee.ExitCode()
	}
	path := out
	if cid != "" {
		b, err := os.ReadFile(cid)
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			return nil, fmt.Errorf("docker run exited %d and created no container", status)
		}
		path = filepath.Join(hookDir, strings.TrimSpace(string(b))+".json")
	}
	if _, err := os.Stat(path + ".log"); err != nil {
		// The hook makes its log before anything else.
		return nil, fmt.Errorf("%s run exited %d and the sysrec hook never ran", o.Engine, status)
	}
	// The hook's recorder writes the profile once the container's
	// cgroup has emptied, after the engine returned.
	if err := waitfile.Wait(path, time.Minute); err != nil {
		log, _ := os.ReadFile(path + ".log")
		return nil, fmt.Errorf("no profile from the hook (%s exited %d): %w: %s", o.Engine, status, err, strings.TrimSpace(string(log)))
	}
	defer os.Remove(path + ".log")
	defer os.Remove(path)
	p, err := profiles.Load(path)
	if err != nil {
		return nil, err
	}
	p.Name = o.Name
	if p.Name == "" {
		p.Name = imageName(o.Image)
	}
	if p.Recorded != nil {
		p.Recorded.Command = append(append([]string{o.Engine, "run"}, o.Image), o.Args...)
		p.Recorded.ExitStatus = status
	}
	if err := p.Save(o.Output); err != nil {
		return nil, err
	}
	b, err := emit.OCI(p, emit.Options{})
	if err != nil {
		return nil, fmt.Errorf("emit the OCI profile: %w", err)
	}
	if err := atomicfile.Write(oci, b, 0o644); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(oci)
	if err != nil {
		return nil, err
	}
	line := append([]string{o.Engine, "run", "--rm", "--security-opt", "seccomp=" + abs}, o.RunFlags...)
	line = append(append(line, o.Image), o.Args...)
	return &ImageResult{Profile: p, ExitStatus: status, OCIOutput: oci, RunLine: line}, nil
}

// imageName is the profile name of an image: its last path element
// without tag or digest.
func imageName(image string) string {
	n := image[strings.LastIndex(image, "/")+1:]
	if i := strings.IndexAny(n, ":@"); i > 0 {
		n = n[:i]
	}
	return n
}

// dockerHookDir is the --output-dir of the daemon's sysrec runtime,
// from docker info.
func dockerHookDir(ctx context.Context, client string) (string, error) {
	out, err := exec.CommandContext(ctx, client, "info", "--format", "{{json .Runtimes}}").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("docker info: %w", err)
	}
	var runtimes map[string]struct {
		Path string   `json:"path"`
		Args []string `json:"runtimeArgs"`
	}
	if err := json.Unmarshal(out, &runtimes); err != nil {
		return "", fmt.Errorf("read docker info: %w", err)
	}
	rt, ok := runtimes[DockerRuntime]
	if !ok {
		return "", fmt.Errorf(`dockerd has no %q runtime: dockerd runs no OCI hooks, so add sysrec oci-runtime to /etc/docker/daemon.json and restart it: {"runtimes": {"sysrec": {"path": "/usr/local/bin/sysrec", "runtimeArgs": ["oci-runtime", "--output-dir=/var/lib/sysrec", "--"]}}}`, DockerRuntime)
	}
	for _, a := range rt.Args {
		if d, ok := strings.CutPrefix(a, "--output-dir="); ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("the %q runtime of dockerd has no --output-dir=DIR in its runtimeArgs %q", DockerRuntime, rt.Args)
}
