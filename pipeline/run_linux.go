package pipeline

import (
	"context"
	"fmt"
	"io"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// Stdio is a target's standard streams.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// LandlockOff leaves a profile's filesystem and network sections
// unenforced.
const LandlockOff enforce.LandlockMode = "off"

// ParseLandlockMode reads required, best-effort or off.
func ParseLandlockMode(s string) (enforce.LandlockMode, error) {
	switch m := enforce.LandlockMode(s); m {
	case enforce.LandlockRequired, enforce.LandlockBestEffort, LandlockOff:
		return m, nil
	}
	return "", fmt.Errorf("landlock mode %q (want required, best-effort or off)", s)
}

// Run runs argv under p's filter (and its Landlock ruleset, unless
// landlock is LandlockOff) until it exits. A target that cannot be found
// gives an error wrapping exec.ErrNotFound.
func Run(ctx context.Context, p *profiles.Profile, argv []string, stdio Stdio, landlock enforce.LandlockMode) (enforce.Exit, error) {
	if err := allowsExec(p); err != nil {
		return enforce.Exit{}, err
	}
	filter, err := emit.Raw(p, emit.Options{})
	if err != nil {
		return enforce.Exit{}, err
	}
	cmd, err := enforce.Command(filter, argv)
	if err != nil {
		return enforce.Exit{}, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	if landlock != LandlockOff {
		in, err := instantiate(p, argv, stdio)
		if err != nil {
			return enforce.Exit{}, err
		}
		defer in.Close()
		in.warn(stdio)
		cmd.Env = in.Env
		cmd.Landlock, cmd.LandlockMode = in.Profile.Landlock(), landlock
	}
	return cmd.Run(ctx)
}

// allowsExec checks that the profile lets the helper exec the target: the
// filter is installed before execve.
func allowsExec(p *profiles.Profile) error {
	arch, err := linuxabi.Native()
	if err != nil {
		return err
	}
	nr, _ := arch.Number("execve")
	// The helper execs the target before the target can serve: in init.
	if a := p.Decide(linuxabi.SeccompData{Nr: int32(nr), Arch: arch.Audit}, profiles.PhaseInit); a.Kind != profiles.Allow && a.Kind != profiles.Log {
		return fmt.Errorf("profile does not allow execve (it would get %s), which sysrec needs to start the target after installing the filter: add {\"name\": \"execve\"}", a)
	}
	return nil
}
