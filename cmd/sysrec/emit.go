package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

type emitOptions struct {
	format        string
	output        string
	defaultAction string
	runtimeSetup  string
	phase         string
}

func emitCmd(io stdio) *cobra.Command {
	var o emitOptions
	var list, names []string
	for _, f := range emit.Formats() {
		list = append(list, fmt.Sprintf("  %-11s %s", f.Name, f.Summary))
		names = append(names, f.Name)
	}
	c := &cobra.Command{
		Use:   "emit [flags] PROFILE [-- COMMAND...]",
		Short: "Compile a profile to a seccomp filter or another runtime's format",
		Long: "emit compiles PROFILE to:\n\n" + strings.Join(list, "\n") + `

A container runtime installs the filter in its own init process and then,
under the filter, finishes its setup and execs the container's process.
oci and spo therefore also allow what runc and crun call in that window
(learned from runc 1.1.5 and crun 1.8.1 and kept with a reason per call:
capset, setuid, prctl(PR_CAPBSET_DROP), fcntl(F_SETFD), ...) where the
profile does not already allow it; --runtime-setup none leaves them out.

landrun takes the command it will run after --: a profile whose file and
port rules follow the command line ($ARGS, $ARG2/.., $CWD, a port from
an argument) is instantiated from it, as sysrec run does, and the output
ends with it. systemd takes the unit's command the same way.

systemd writes a drop-in for /etc/systemd/system/UNIT.d/sysrec.conf:
SystemCallFilter= (the syscall names, no groups), SystemCallArchitectures=,
SystemCallErrorNumber=, RestrictAddressFamilies=, RestrictNamespaces=,
ProtectSystem=strict with ReadWritePaths=, SocketBindAllow=. Its header
names what those settings cannot say (other argument rules, which files
may be read or executed, connect ports, scopes) and the alternative that
keeps everything: ExecStart=sysrec run --profile ... -- the original command.

A profile with phases (recorded from a server: calls only its start-up made
are allowed in init only) becomes the union of its phases, the only filter a
runtime that cannot watch the program start serving can install: every
format writes it by default. --phase serving writes, in bpf, c, json or
text, the serving phase's filter instead: what a program installs on itself
once it has initialised (the C header says so). sysrec run enforces the
phases themselves.`,
		Example: help("emit.example"),
		Args: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				if n != 1 || len(args) == 1 {
					return fmt.Errorf("want PROFILE -- COMMAND...")
				}
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmit(io, o, args[0], args[1:])
		},
	}
	c.Flags().StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(names, ", "))
	c.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of stdout")
	c.Flags().StringVar(&o.defaultAction, "default-action", "", "override the profile's default action")
	c.Flags().StringVar(&o.phase, "phase", emit.PhaseUnion, "for a profile with phases: union (every phase's calls, the default) or serving (the filter a program installs on itself once it serves; bpf, c, json and text)")
	c.Flags().StringVar(&o.runtimeSetup, "runtime-setup", emit.ContainerSetupAll, "oci and spo: also allow what these container runtimes call between installing the filter and exec'ing the container: all, none, or a list such as runc,crun (RUNTIME:nnp for containers run with no-new-privileges)")
	return c
}

func runEmit(io stdio, o emitOptions, path string, command []string) error {
	eo := pipeline.EmitOptions{Format: o.format, ContainerSetup: o.runtimeSetup, Phase: o.phase, Command: command,
		Output: o.output, Stdout: io.out, StdoutTerminal: isTerminal(io.out)}
	// What is refused is refused before the profile is read.
	if _, err := eo.Check(); err != nil {
		return err
	}
	p, err := loadWithDefault(path, o.defaultAction)
	if err != nil {
		return err
	}
	return pipeline.Emit(p, eo)
}

// loadWithDefault loads a profile and applies a --default-action override.
func loadWithDefault(path, action string) (*profiles.Profile, error) {
	p, err := profiles.Load(path)
	if err != nil {
		return nil, err
	}
	if action != "" {
		a, err := profiles.ParseAction(action)
		if err != nil {
			return nil, fmt.Errorf("--default-action: %w", err)
		}
		p.DefaultAction = a
	}
	return p, nil
}
