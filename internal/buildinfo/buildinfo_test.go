package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestInfo(t *testing.T) {
	v := Info{Version: "(devel)", Commit: "from-ldflags", GoVersion: "go1.x", Platform: "linux/amd64", Kernel: map[string]string{"btf": "yes", "kernel": "6.18"}}
	v.fromBuild(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}})
	want := "sysrec v1.2.3\ncommit: abc (modified)\ngo: go1.x linux/amd64\nkernel: 6.18\nbtf: yes\n"
	if got := v.Text(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := Read("from-ldflags", nil); got.Commit == "" || got.GoVersion == "" {
		t.Errorf("Read = %+v", got)
	}
}
