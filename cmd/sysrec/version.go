package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/sysrec/sysrec/pipeline"
)

// commit is set by the Makefile (-ldflags -X main.commit=...) for builds
// without VCS stamping; otherwise the build information has it.
var commit string

// versionInfo is what `sysrec version` reports.
type versionInfo struct {
	Version   string            `json:"version"`
	Commit    string            `json:"commit,omitempty"`
	Modified  bool              `json:"modified,omitempty"`
	GoVersion string            `json:"go_version"`
	Platform  string            `json:"platform"`
	Kernel    map[string]string `json:"kernel,omitempty"`
}

func versionCmd(io stdio) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print sysrec's version and what the running kernel offers it",
		Long: `version prints the module version and commit sysrec was built from, the Go
version, and (on Linux) the kernel features sysrec uses: BTF, the cgroup v2
mount, the Landlock ABI, and the seccomp actions the kernel offers.`,
		Example: "  sysrec version\n  sysrec version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := versionInfo{Version: "(devel)", Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Kernel: pipeline.KernelFeatures()}
			if bi, ok := debug.ReadBuildInfo(); ok {
				if bi.Main.Version != "" {
					v.Version = bi.Main.Version
				}
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						v.Commit = s.Value
					case "vcs.modified":
						v.Modified = s.Value == "true"
					}
				}
			}
			if asJSON {
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(io.out, "%s\n", b)
				return nil
			}
			commit := v.Commit
			if v.Modified {
				commit += " (modified)"
			}
			fmt.Fprintf(io.out, "sysrec %s\ncommit: %s\ngo: %s %s\n", v.Version, commit, v.GoVersion, v.Platform)
			for _, k := range []string{"kernel", "btf", "cgroup2", "landlock", "seccomp_actions"} {
				if val, ok := v.Kernel[k]; ok {
					fmt.Fprintf(io.out, "%s: %s\n", k, val)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}
