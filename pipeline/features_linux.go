package pipeline

import (
	"fmt"
	"os"
	"strings"

	"github.com/sysrec/sysrec/enforce"
	"github.com/sysrec/sysrec/recorder"
)

// KernelFeatures says what the running kernel offers sysrec; an absent
// feature is reported with the reason.
func KernelFeatures() map[string]string {
	f := map[string]string{}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		f["kernel"] = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
		f["btf"] = "yes"
	} else {
		f["btf"] = "no (recording needs a kernel with BTF: /sys/kernel/btf/vmlinux)"
	}
	if m, err := recorder.CgroupMount(); err == nil {
		f["cgroup2"] = m
	} else {
		f["cgroup2"] = "no (" + err.Error() + ")"
	}
	if v, err := enforce.LandlockVersion(); err == nil {
		f["landlock"] = fmt.Sprintf("ABI %d", v)
	} else {
		f["landlock"] = "no (" + err.Error() + ")"
	}
	if b, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail"); err == nil {
		f["seccomp_actions"] = strings.TrimSpace(string(b))
	}
	return f
}
