// Package enforce installs seccomp filters in the kernel: in a re-exec'd
// helper that execs the target at once (sysrec run), or in the calling
// process after its initialisation (Apply, the "enable after init"
// pattern of the original seccomp mode 2 proposal).
//
// It does not compile filters (see emit) or decide what to allow (see
// profiles and reducer).
package enforce
