package linuxabi

// SeccompData is the part of the kernel's struct seccomp_data a filter
// can see (the instruction pointer is never used by sysrec filters).
type SeccompData struct {
	Nr   int32
	Arch uint32
	Args [6]uint64
}

// Offsets into struct seccomp_data {int nr; u32 arch; u64
// instruction_pointer; u64 args[6];}, as BPF_LD|BPF_W|BPF_ABS reads it.
const (
	OffNr   = 0
	OffArch = 4
	OffIP   = 8
	OffArgs = 16
	// SeccompDataSize is sizeof(struct seccomp_data).
	SeccompDataSize = 64
)

// ArgLow and ArgHigh are the offsets of the low and high 32-bit words of
// argument i. sysrec supports little-endian arches only (x86_64, i386,
// aarch64, arm, riscv64), where the low word comes first.
func ArgLow(i int) uint32  { return uint32(OffArgs + 8*i) }
func ArgHigh(i int) uint32 { return uint32(OffArgs + 8*i + 4) }

// SECCOMP_RET_* action values (include/uapi/linux/seccomp.h). The low 16
// bits (SECCOMP_RET_DATA) carry the errno, trap or trace data.
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetUserNotif   uint32 = 0x7fc00000
	RetTrace       uint32 = 0x7ff00000
	RetLog         uint32 = 0x7ffc0000
	RetAllow       uint32 = 0x7fff0000

	RetActionFull uint32 = 0xffff0000
	RetData       uint32 = 0x0000ffff
)

// MaxFilterInstructions is BPF_MAXINSNS, the kernel's limit on one
// filter program.
const MaxFilterInstructions = 4096
