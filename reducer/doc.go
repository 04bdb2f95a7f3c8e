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
// Filesystem reduces the files and TCP ports of recordings to the
// profile's Landlock sections: what the target created goes to the
// directory that was there, writes stay on the files written, reads may
// stand for their package directory (FSDirs, the default, chosen on
// held-out runs), never for /, /etc, a home directory or its secrets.
//
// The reducer is pure: it reads no files and knows nothing of the kernel.
package reducer
