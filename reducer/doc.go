// Package reducer turns recordings into a profile: the union of the
// syscalls seen, with argument values generalised into rules the filter
// can check, plus a small justified baseline.
//
// Argument rules are per argument: a syscall seen as socket(AF_INET,
// SOCK_STREAM) and socket(AF_UNIX, SOCK_DGRAM) becomes one entry allowing
// domain ∈ {AF_INET, AF_UNIX} and type ∈ {SOCK_STREAM, SOCK_DGRAM}, the
// cross product of the seen values. That is a deliberate widening: it is
// what libseccomp and OCI profile authors write, it keeps filters short,
// and the extra combinations use only values the program was seen to use.
//
// The reducer is pure: it reads no files and knows nothing of the kernel.
package reducer
