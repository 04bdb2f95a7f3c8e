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
// A profile learned from one run must survive the next input, so Reduce
// generalises at a Level, and every entry it adds carries its reason:
// LevelExact allows what ran; LevelFamilies adds the ordinary-tier
// variants of each operation (policy.Families) and constrains only the
// arguments whose values differ in risk, widened by their safe classes;
// LevelRelated (the CLI's default) lets static analysis (Options.Reachable,
// plain data from sysrec analyze) pick which family members and which
// related operations (policy.Domains) the binary can reach;
// LevelReachable adds every ordinary-tier syscall it can reach. No level
// adds a sensitive or critical syscall, or argument value, that no run
// made; the reachable ones are listed in the profile's not_allowed.
// Runtimes (Go, glibc, glibc threads, CPython, node; RuntimeOf finds them in
// the executable) add the calls their own threads make at moments that
// depend on timing. With several recordings, each entry says in how many
// runs it was seen, and the profile carries the Good–Turing estimate.
//
// Phases: when a recorded process reached serving (samples tagged by the
// recorder with Recording.Transition), an entry every call of which was
// made before its process served is allowed in init only, unless
// policy.AnyPhase says any moment may need it; what generalisation adds
// is init-only when everything that brought it is; the baseline and the
// runtime's calls are for every phase (see phaser). Without a serving
// sample the profile has no phases.
//
// Filesystem reduces the files and TCP ports of recordings to the
// profile's Landlock sections: what the target created goes to the
// directory that was there, writes stay on the files written, reads may
// stand for their package directory (FSDirs, the default, chosen on
// held-out runs), never for /, /etc, a home directory or its secrets.
//
// The reducer is pure: it reads no files and knows nothing of the kernel
// (RuntimeOf and DetectRuntime, for callers, read an executable's ELF
// headers; GoSignature reads a recording).
package reducer
