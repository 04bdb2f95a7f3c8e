package pipeline

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/profiles"
)

// instance is a profile made for one run: its templates instantiated
// from the run's command line and environment.
type instance struct {
	Profile *profiles.Profile
	// Env is the target's environment: sysrec's, with a private TMPDIR
	// when the profile uses $TMPDIR.
	Env []string
	// Warnings name the template rules that grant nothing or less.
	Warnings []string
	cleanup  func()
}

// Close removes the private TMPDIR.
func (in *instance) Close() {
	if in.cleanup != nil {
		in.cleanup()
	}
}

// warn prints the warnings where the target's stderr goes.
func (in *instance) warn(stdio Stdio) {
	if stdio.Err == nil {
		return
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(stdio.Err, "sysrec: %s\n", w)
	}
}

// instantiate makes p's rules for running argv: templates take the
// paths and ports of argv, resolved against the working directory, and
// of the environment, and $TTY the terminal the target is given on
// stdio. A profile that writes to $TMPDIR gets a private one, a fresh
// directory under the caller's TMPDIR (or /tmp) removed by Close: /tmp
// stays whole, and programs that make temporary files there (gcc,
// sort) work.
func instantiate(p *profiles.Profile, argv []string, stdio Stdio) (*instance, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("instantiate templates: %w", err)
	}
	in := &instance{Profile: p, Env: os.Environ()}
	if !p.Templated() {
		return in, nil
	}
	if p.Uses("TMPDIR") {
		if in.Env, in.cleanup, err = privateTmpdir(in.Env); err != nil {
			return nil, err
		}
	}
	inv := profiles.Invocation{Args: argv, Dir: dir, Env: in.Env, TTY: terminal(stdio)}
	// Ports and paths a configuration file the command line names
	// gives ("key" rules, $ARGn[key]) are read from it before the target
	// runs.
	inv.Files, inv.FilePaths = argFiles(argv, dir)
	inv.Links, inv.LinkDirs = argLinks(argv, dir)
	if p.Uses("PROGS") {
		inv.Programs = argPrograms(argv, in.Env)
	}
	if in.Profile, in.Warnings, err = p.Instantiate(inv); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// privateTmpdir returns env with TMPDIR set to a fresh directory under
// env's TMPDIR (or /tmp), and what removes it.
func privateTmpdir(env []string) ([]string, func(), error) {
	parent := profiles.Invocation{Env: env}.Var("TMPDIR")
	d, err := os.MkdirTemp(parent, "sysrec-tmp-")
	if err != nil {
		return nil, nil, fmt.Errorf("make a private TMPDIR: %w", err)
	}
	// exec passes the last of duplicate variables.
	return append(append([]string{}, env...), "TMPDIR="+d), func() { os.RemoveAll(d) }, nil
}

// terminal is the path of the terminal on the target's stdio, or "".
func terminal(stdio Stdio) string {
	for _, s := range []any{stdio.In, stdio.Out, stdio.Err} {
		f, ok := s.(*os.File)
		if !ok || f == nil {
			continue
		}
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
			continue
		}
		if p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd()))); err == nil {
			return p
		}
	}
	return ""
}
