// Package cbpf builds, optimises, encodes, decodes and runs classic BPF
// programs for seccomp, in the manner of gVisor's pkg/bpf.
//
// A Builder takes instructions with symbolic jumps to labels and shared
// return instructions; Assemble lays them out with named passes (jump
// threading, unreachable-code removal, fall-through removal, JA
// trampolines for jumps longer than 255) and returns a Program that
// converts to golang.org/x/net/bpf instructions, to the kernel's
// little-endian struct sock_filter bytes, and to an annotated
// disassembly. Decode reads such bytes back; Exec runs a program on a
// struct seccomp_data the way the kernel does (native-endian word loads,
// which x/net/bpf's packet VM cannot do), so compiled filters can be
// tested without installing them.
//
// It is not a seccomp compiler: it knows nothing of profiles, syscalls
// or actions (see emit), and it does not install filters (see enforce).
// The builder emits only what seccomp filters need (word loads from
// seccomp_data, AND, conditional and unconditional jumps, returns); Exec
// accepts every instruction the kernel allows in a seccomp filter.
package cbpf
