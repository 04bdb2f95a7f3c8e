package policy

import (
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
)

// knownAnywhere reports whether some arch's table has the syscall name.
func knownAnywhere(name string) bool {
	for _, an := range linuxabi.ArchNames() {
		a, _ := linuxabi.LookupArch(an)
		if _, ok := a.Number(name); ok {
			return true
		}
	}
	return false
}

func TestTierNamesKnown(t *testing.T) {
	for _, n := range TieredSyscalls() {
		if !knownAnywhere(n) {
			t.Errorf("tier lists %q, which no syscall table has", n)
		}
		if tier, why := TierOf(n); tier == Ordinary || why == "" {
			t.Errorf("%s: tier %s, reason %q", n, tier, why)
		}
	}
	if tier, why := TierOf("read"); tier != Ordinary || why != "" {
		t.Errorf("read: %s %q, want ordinary", tier, why)
	}
}

// TestDockerCapabilityGated: every syscall Docker's default profile
// (moby profiles/seccomp/default.json) allows only with a capability, or
// never, is sensitive or critical here. clone and clone3, which Docker
// allows with argument checks, are checked through clone's value tiers
// (TestValueTier).
func TestDockerCapabilityGated(t *testing.T) {
	gated := []string{
		// CAP_SYS_ADMIN
		"bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie", "mount", "mount_setattr",
		"move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
		"setns", "syslog", "umount", "umount2", "unshare",
		// CAP_SYS_BOOT, CAP_SYS_CHROOT, CAP_SYS_MODULE, CAP_SYS_PACCT
		"reboot", "chroot", "delete_module", "init_module", "finit_module", "acct",
		// CAP_SYS_PTRACE
		"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
		// CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYS_TTY_CONFIG, CAP_SYS_NICE, CAP_DAC_READ_SEARCH
		"iopl", "ioperm", "settimeofday", "stime", "clock_settime", "clock_settime64", "vhangup",
		"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", "open_by_handle_at",
		// never allowed
		"kexec_load", "kexec_file_load", "keyctl", "add_key", "request_key", "userfaultfd", "swapon", "swapoff",
		"_sysctl", "uselib", "create_module", "get_kernel_syms", "query_module", "nfsservctl", "sysfs", "ustat",
		"vm86", "vm86old", "move_pages", "migrate_pages", "pivot_root", "bdflush",
	}
	for _, n := range gated {
		if tier, _ := TierOf(n); tier < Sensitive {
			t.Errorf("%s is %s; Docker gates it", n, tier)
		}
	}
}

func TestFamiliesOrdinary(t *testing.T) {
	for _, f := range Families() {
		known := 0
		for _, m := range f.Members {
			if tier, _ := TierOf(m); tier != Ordinary {
				t.Errorf("family %s: %s is %s", f.Name, m, tier)
			}
			if knownAnywhere(m) {
				known++
			} else {
				t.Errorf("family %s: %s is in no syscall table", f.Name, m)
			}
			if got, ok := FamilyOf(m); !ok || got.Name != f.Name {
				t.Errorf("FamilyOf(%s) = %v, %v", m, got.Name, ok)
			}
		}
		if known < 2 || f.Why == "" {
			t.Errorf("family %s: %d known members, reason %q", f.Name, known, f.Why)
		}
	}
}

func TestParseTier(t *testing.T) {
	for _, tier := range []Tier{Ordinary, Sensitive, Critical} {
		got, err := ParseTier(tier.String())
		if err != nil || got != tier {
			t.Errorf("ParseTier(%q) = %v, %v", tier, got, err)
		}
	}
	if _, err := ParseTier("high"); err == nil {
		t.Error("ParseTier(high) accepted")
	}
}
