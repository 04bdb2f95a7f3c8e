package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sysrec/sysrec/internal/atomicfile"
)

// OCIRuntimeOptions say what sysrec oci-runtime wraps.
type OCIRuntimeOptions struct {
	// Runtime is the OCI runtime it execs ("" is runc).
	Runtime string
	// OutputDir is the hook's --output-dir: DIR/ID.json.
	OutputDir string
	// Self is the sysrec executable the runtime runs as the hook.
	Self string
}

// runcValueFlags are runc's global flags that take a value.
var runcValueFlags = []string{"--root", "--log", "--log-format", "--criu", "--rootless"}

// OCIRuntime is an OCI runtime for engines that run no hooks of their
// own (dockerd): for `create` and `run` it adds sysrec oci-hook as the
// bundle's first createRuntime hook, then it execs the real runtime
// with the same arguments. It returns only on failure.
func OCIRuntime(o OCIRuntimeOptions, args []string) error {
	if o.OutputDir == "" {
		return errors.New("no --output-dir for the hook's profiles")
	}
	rt := o.Runtime
	if rt == "" {
		rt = "runc"
	}
	path, err := exec.LookPath(rt)
	if err != nil {
		return err
	}
	if bundle, ok := bundleOf(args); ok {
		if err := os.MkdirAll(o.OutputDir, 0o700); err != nil {
			return err
		}
		if err := addHook(filepath.Join(bundle, "config.json"), o); err != nil {
			return err
		}
	}
	return syscall.Exec(path, append([]string{rt}, args...), os.Environ())
}

// bundleOf finds the bundle of a runc create or run command line
// (--bundle, -b, or the working directory).
func bundleOf(args []string) (string, bool) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		flag, _, hasValue := strings.Cut(args[i], "=")
		i++
		for _, v := range runcValueFlags {
			if flag == v && !hasValue {
				i++
			}
		}
	}
	if i >= len(args) || (args[i] != "create" && args[i] != "run") {
		return "", false
	}
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case (a == "--bundle" || a == "-b") && j+1 < len(args):
			return args[j+1], true
		case strings.HasPrefix(a, "--bundle="):
			return strings.TrimPrefix(a, "--bundle="), true
		case strings.HasPrefix(a, "-b="):
			return strings.TrimPrefix(a, "-b="), true
		}
	}
	return ".", true
}

// addHook puts sysrec oci-hook first among config's createRuntime hooks.
func addHook(config string, o OCIRuntimeOptions) error {
	b, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", config, err)
	}
	hooks, _ := cfg["hooks"].(map[string]any)
	if hooks == nil {
		hooks = map[string]any{}
	}
	existing, _ := hooks["createRuntime"].([]any)
	hook := map[string]any{"path": o.Self, "args": []string{"sysrec", "oci-hook", "--output-dir", o.OutputDir}}
	hooks["createRuntime"] = append([]any{hook}, existing...)
	cfg["hooks"] = hooks
	out, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return atomicfile.Write(config, out, 0o600)
}
