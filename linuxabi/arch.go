package linuxabi

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
)

// Arch describes one architecture a profile can target.
type Arch struct {
	Name  string // x86_64, i386, aarch64, arm, riscv64
	Audit uint32 // AUDIT_ARCH_* value found in seccomp_data.arch
	// X32 is set for x86_64, whose x32 ABI shares the audit arch and
	// marks syscall numbers with this bit.
	X32 uint32
	// Compat names the other ABI a process of this arch may call the
	// kernel through (i386's int $0x80 on x86_64, AArch32 on arm64).
	Compat string
	// names is indexed by syscall number.
	names   []string
	numbers map[string]int
}

// From linux/audit.h: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000).
var arches = map[string]*Arch{
	"x86_64":  {Name: "x86_64", Audit: 0xc000003e, X32: 0x40000000, Compat: "i386"},
	"i386":    {Name: "i386", Audit: 0x40000003},
	"aarch64": {Name: "aarch64", Audit: 0xc00000b7, Compat: "arm"},
	"arm":     {Name: "arm", Audit: 0x40000028},
	"riscv64": {Name: "riscv64", Audit: 0xc00000f3},
}

// archAliases accepts the names Go, OCI and libseccomp use.
var archAliases = map[string]string{
	"amd64": "x86_64", "SCMP_ARCH_X86_64": "x86_64",
	"386": "i386", "x86": "i386", "SCMP_ARCH_X86": "i386",
	"arm64": "aarch64", "SCMP_ARCH_AARCH64": "aarch64",
	"SCMP_ARCH_ARM": "arm", "SCMP_ARCH_RISCV64": "riscv64",
}

func init() {
	for name, a := range arches {
		a.names = syscallNames[name]
		a.numbers = make(map[string]int, len(a.names))
		for nr, n := range a.names {
			if n != "" {
				a.numbers[n] = nr
			}
		}
	}
}

// LookupArch returns the architecture called name (or one of its aliases).
func LookupArch(name string) (*Arch, error) {
	if canon, ok := archAliases[name]; ok {
		name = canon
	}
	a, ok := arches[name]
	if !ok {
		return nil, fmt.Errorf("unknown arch %q (want one of %v)", name, ArchNames())
	}
	return a, nil
}

// ArchNames lists the supported architectures, sorted.
func ArchNames() []string {
	return slices.Sorted(maps.Keys(arches))
}

// Number returns the syscall number of name on a.
func (a *Arch) Number(name string) (int, bool) {
	nr, ok := a.numbers[name]
	return nr, ok
}

// SyscallName returns the name of syscall nr on a, or "" if it has none.
func (a *Arch) SyscallName(nr int) string {
	if nr < 0 || nr >= len(a.names) {
		return ""
	}
	return a.names[nr]
}

// Bits is the width of a's registers, and so of every syscall argument
// a call of a's ABI passes: the kernel truncates an i386 call's 64-bit
// registers to 32 bits, whatever seccomp_data shows in the high word.
func (a *Arch) Bits() int {
	if a.Audit&auditArch64 == 0 {
		return 32
	}
	return 64
}

// auditArch64 is __AUDIT_ARCH_64BIT.
const auditArch64 = 0x80000000

// MaxNumber is the largest syscall number in a's table.
func (a *Arch) MaxNumber() int { return len(a.names) - 1 }

// Syscalls lists every syscall name on a, sorted by name.
func (a *Arch) Syscalls() []string {
	return slices.Sorted(maps.Keys(a.numbers))
}

// ArchByAudit returns the architecture whose AUDIT_ARCH_* value is audit
// (seccomp_data.arch, and the arch= field of a seccomp audit record).
func ArchByAudit(audit uint32) (*Arch, bool) {
	for _, a := range arches {
		if a.Audit == audit {
			return a, true
		}
	}
	return nil, false
}

// Native returns the architecture sysrec itself runs on.
func Native() (*Arch, error) { return LookupArch(runtime.GOARCH) }
