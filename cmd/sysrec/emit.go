package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

type emitOptions struct {
	format        string
	output        string
	defaultAction string
}

var formats = []string{"bpf", "json", "oci", "spo", "text", "c"}

func emitCmd(io stdio) *cobra.Command {
	var o emitOptions
	c := &cobra.Command{
		Use:   "emit [flags] PROFILE",
		Short: "Compile a profile to a seccomp filter or another runtime's format",
		Long: `emit compiles PROFILE to:

  bpf   raw little-endian struct sock_filter array (bwrap --seccomp FD, sysrec run)
  json  the sysrec profile, canonical form
  oci   runc/crun/Docker/Podman seccomp JSON (linux.seccomp)
  spo   Kubernetes security-profiles-operator SeccompProfile YAML
  text  annotated disassembly of the filter, for review
  c     a struct sock_filter array for embedding in C`,
		Example: `  sysrec emit --format bpf -o app.bpf app.json
  sysrec emit --format oci app.json > seccomp.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmit(io, o, args[0])
		},
	}
	c.Flags().StringVarP(&o.format, "format", "f", "text", fmt.Sprintf("output format: %v", formats))
	c.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of stdout")
	c.Flags().StringVar(&o.defaultAction, "default-action", "", "override the profile's default action")
	return c
}

func runEmit(io stdio, o emitOptions, path string) error {
	p, err := loadWithDefault(path, o.defaultAction)
	if err != nil {
		return err
	}
	var out []byte
	switch o.format {
	case "bpf":
		if o.output == "" && isTerminal(io.out) {
			return fmt.Errorf("refusing to write binary BPF to a terminal: use -o FILE or redirect")
		}
		out, err = emit.Raw(p, emit.Options{})
	case "json":
		out, err = p.Marshal()
	case "oci":
		out, err = emit.OCI(p)
	case "spo":
		out, err = emit.SPO(p)
	case "text":
		var s string
		s, err = emit.Text(p, emit.Options{})
		out = []byte(s)
	case "c":
		var s string
		s, err = emit.C(p, emit.Options{})
		out = []byte(s)
	default:
		return fmt.Errorf("unknown format %q (want one of %v)", o.format, formats)
	}
	if err != nil {
		return err
	}
	if err := pipeline.WriteOutput(io.out, o.output, out); err != nil {
		return err
	}
	return nil
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
