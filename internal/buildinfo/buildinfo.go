// Package buildinfo says which build of sysrec is running: its module
// version, the commit it was built from, the Go version and platform,
// as `sysrec version` reports them. It imports only the standard library.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is what `sysrec version` reports.
type Info struct {
	Version   string            `json:"version"`
	Commit    string            `json:"commit,omitempty"`
	Modified  bool              `json:"modified,omitempty"`
	GoVersion string            `json:"go_version"`
	Platform  string            `json:"platform"`
	Kernel    map[string]string `json:"kernel,omitempty"`
}

// Read is the running binary's Info. commit is what the linker set for a
// build without VCS stamping; the build information's own commit wins.
// kernel is what the host offers (pipeline.KernelFeatures).
func Read(commit string, kernel map[string]string) Info {
	v := Info{Version: "(devel)", Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Kernel: kernel}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v.fromBuild(bi)
	}
	return v
}

func (v *Info) fromBuild(bi *debug.BuildInfo) {
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

// Text is v as `sysrec version` prints it.
func (v Info) Text() string {
	var b strings.Builder
	commit := v.Commit
	if v.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(&b, "sysrec %s\ncommit: %s\ngo: %s %s\n", v.Version, commit, v.GoVersion, v.Platform)
	for _, k := range []string{"kernel", "btf", "cgroup2", "landlock", "seccomp_actions"} {
		if val, ok := v.Kernel[k]; ok {
			fmt.Fprintf(&b, "%s: %s\n", k, val)
		}
	}
	return b.String()
}
