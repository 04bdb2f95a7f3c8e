// Package isa decodes the instruction sets sysrec analyses (x86_64 with
// x86asm, arm64 with arm64asm) into arch-neutral facts: what an
// instruction branches to, the addresses it mentions, how it moves
// values between registers and stack slots; and follows a value
// backwards through a function (FnCode.Flow) to the constants it can
// be, which is how analyze finds syscall numbers.
//
// It knows nothing of ELF files, libraries or syscalls (see analyze).
package isa
