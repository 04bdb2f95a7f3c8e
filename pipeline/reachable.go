package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/sysrec/sysrec/analyze"
)

// analyzeBinary is analyze.Binary; tests put a slow analysis in its
// place.
var analyzeBinary = analyze.Binary

// Reachable analyses the target's executable (the command, or the
// process) and returns the syscalls it can reach, each with a short
// provenance: the reducer's evidence for the related and reachable
// levels. The programs the command's words name through $PATH (a
// shell's `xz -dc "$1" | tail`: Invocation.Programs) are analysed too:
// one filter confines them all. A cancelled ctx ends it at once with
// the cause (a big binary takes seconds; a stop request must not wait
// for it): the analysis, which only reads files, is left to finish
// unobserved.
func Reachable(ctx context.Context, command []string, pid int) (map[string]string, error) {
	exe, err := TargetExe(command, pid)
	return reachableOf(ctx, command, exe, err)
}

// reachableOf is Reachable of the executable TargetExe resolved (or the
// error it gave) and the programs command names.
func reachableOf(ctx context.Context, command []string, exe string, exeErr error) (map[string]string, error) {
	if exeErr != nil {
		return nil, exeErr
	}
	out := map[string]string{}
	if err := reachableInto(ctx, out, exe); err != nil {
		return nil, err
	}
	for _, prog := range argPrograms(command, os.Environ()) {
		// A program named among the arguments that analysis cannot
		// read adds nothing; the target's own analysis stands.
		if err := reachableInto(ctx, out, prog); err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
	return out, nil
}

// reachableInto adds the syscalls exe can reach to out, keeping the
// provenance of those already there.
func reachableInto(ctx context.Context, out map[string]string, exe string) error {
	type result struct {
		res *analyze.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := analyzeBinary(exe, analyze.Options{})
		done <- result{res, err}
	}()
	var res *analyze.Result
	select {
	case r := <-done:
		if r.err != nil {
			return r.err
		}
		res = r.res
	case <-ctx.Done():
		return fmt.Errorf("analyse %s: %w", exe, context.Cause(ctx))
	}
	for _, s := range res.Syscalls {
		if _, ok := out[s.Name]; !ok {
			out[s.Name] = provenance(s)
		}
	}
	return nil
}

// TargetExe is the executable a target runs: command[0] as exec finds it
// on $PATH, or the running process pid's. It is the one resolution of a
// target's executable: its analysis (Reachable) and its language
// runtime (reducer.DetectRuntime) read the same file.
func TargetExe(command []string, pid int) (string, error) {
	switch {
	case len(command) > 0:
		return exec.LookPath(command[0])
	case pid != 0:
		return fmt.Sprintf("/proc/%d/exe", pid), nil
	}
	return "", errors.New("needs a command or --pid to analyse")
}

// provenance is the start of a reachability chain: at least two frames,
// up to the first outside libc and ld.so ("fdatasync@libc.so.6 ←
// 0xabb10@libsqlite3.so.0"), at most three.
func provenance(s analyze.Syscall) string {
	var frames []string
	for _, f := range s.Path {
		frames = append(frames, f.String())
		lib := strings.HasPrefix(f.Module, "libc.so") || strings.HasPrefix(f.Module, "ld-linux")
		if (!lib && len(frames) >= 2) || len(frames) == 3 {
			break
		}
	}
	if len(frames) == 0 {
		return s.Name
	}
	p := strings.Join(frames, " ← ")
	if s.VDSO {
		p += " (vDSO fallback)"
	}
	return p
}
