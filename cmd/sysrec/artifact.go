package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sysrec/sysrec/artifact"
	"github.com/sysrec/sysrec/emit"
	"github.com/sysrec/sysrec/pipeline"
	"github.com/sysrec/sysrec/profiles"
)

type artifactOptions struct {
	plainHTTP    bool
	runtimeSetup string
	platform     string
	output       string
}

func pushCmd(io stdio) *cobra.Command {
	var o artifactOptions
	c := &cobra.Command{
		Use:   "push [flags] PROFILE oci://REGISTRY/NAME:TAG",
		Short: "Push a profile to a registry as a seccomp profile OCI artifact (CRI-O, SPO)",
		Long: `push writes PROFILE as the OCI runtime-spec seccomp JSON emit --format oci
writes, in the artifact format container runtimes pull (KEP-6061: CRI-O since
v1.30, security-profiles-operator's spoc): artifact and config media type
` + artifact.MediaTypeSeccompProfile + `, one
application/json layer. A profile for several machines (x86_64 and aarch64;
i386 goes with x86_64) becomes an index with one manifest per platform.

It prints the reference pinned by digest, which stays the same when the
same profile is pushed again. Credentials come from the Docker
configuration (docker login).`,
		Example: help("push.example"),
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := profiles.Load(args[0])
			if err != nil {
				return err
			}
			res, err := artifact.Push(cmd.Context(), p, args[1], artifact.Options{PlainHTTP: o.plainHTTP, ContainerSetup: o.runtimeSetup})
			if err != nil {
				return err
			}
			fmt.Fprintf(io.err, "sysrec: pushed %s for linux/%s\n", args[1], strings.Join(res.Platforms, ", linux/"))
			if p.Landlock() != nil {
				fmt.Fprintln(io.err, "sysrec: push: the artifact holds the syscall filter only (runtimes take no Landlock rules); sysrec run enforces the filesystem, network and scope sections")
			}
			fmt.Fprintf(io.out, "oci://%s\n", res.Ref)
			return nil
		},
	}
	c.Flags().BoolVar(&o.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to the registry")
	c.Flags().StringVar(&o.runtimeSetup, "runtime-setup", emit.ContainerSetupAll, "as for emit --format oci: the container runtimes whose setup calls to allow")
	return c
}

func pullCmd(io stdio) *cobra.Command {
	var o artifactOptions
	c := &cobra.Command{
		Use:     "pull [flags] oci://REGISTRY/NAME[:TAG|@DIGEST] -o FILE",
		Short:   "Pull a seccomp profile OCI artifact (the runtime-spec JSON) from a registry",
		Long:    help("pull.long"),
		Example: help("pull.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := pipeline.CheckOutput(o.output); err != nil {
				return err
			}
			b, dgst, err := artifact.Pull(cmd.Context(), args[0], artifact.Options{PlainHTTP: o.plainHTTP, Platform: o.platform})
			if err != nil {
				return err
			}
			if err := pipeline.WriteOutput(io.out, o.output, b); err != nil {
				return err
			}
			fmt.Fprintf(io.err, "sysrec: pulled %s (%s)\n", args[0], dgst)
			return nil
		},
	}
	c.Flags().BoolVar(&o.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to the registry")
	c.Flags().StringVar(&o.platform, "platform", "", "the architecture to take from a multi-platform artifact (amd64, arm64, ...; default: this machine's)")
	c.Flags().StringVarP(&o.output, "output", "o", "", "write the profile to `FILE` (default: stdout)")
	return c
}
