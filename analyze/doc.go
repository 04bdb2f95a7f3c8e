// Package analyze finds the system calls a program can reach without
// running it: the ELF executable, the shared libraries ld.so would load
// for it (DT_NEEDED, transitively) and the well-known plugins its imports
// show it uses (NSS modules, gconv modules), disassembled with
// golang.org/x/arch. The result lists every reachable syscall with the
// shortest chain of functions that leads to it, and counts what the
// analysis could not resolve (indirect call sites, syscall sites whose
// number is not a constant, libraries loaded with dlopen) so that the
// reducer can weigh it as evidence.
//
// Reachability is a closure over a call graph: direct calls and jumps,
// calls through the PLT/GOT to the library that exports the symbol, and
// functions whose address is taken in reachable code or stored in a data
// object that reachable code references (the usual stand-in for indirect
// call targets: vtables, callbacks, IFUNC resolvers). It is an
// over-approximation of what a run can do, not a proof: code reached only
// through computed addresses the binary does not mention is missed and
// counted where it can be.
//
// Syscall numbers come from a backward data flow within each function
// (mov $N, %eax before syscall; mov x8, #N before svc #0), through
// registers and stack slots; a function whose number comes from its caller
// (libc's syscall(), Go's syscall.Syscall) is a wrapper, resolved at each
// call site. x86_64 and arm64 are supported (golang.org/x/arch x86asm and
// arm64asm behind the small interface of the isa subpackage, which also
// holds the data flow).
//
// What ld.so reads (ELF images, ld.so.cache, the library search) is the
// elfload subpackage; files the target names are read only when regular
// (internal/regularfile).
//
// Each library is summarised once (functions, their syscalls, their edges)
// and the summary is cached by the file's SHA-256 under the user cache
// directory (which must be the user's own and writable by no one else), so
// analysing a second program that shares libc is fast.
//
// Binary analyses a program; Exports analyses what named exports of a
// library reach. Both return a Result: plain, JSON-tagged data.
//
// The package does not run programs, read /proc or trace anything; it only
// reads files.
package analyze
