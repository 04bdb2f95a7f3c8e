// Package enforce puts a compiled seccomp filter (and a Landlock ruleset)
// into the kernel and supervises what runs under it: a re-exec'd helper
// applies them and execs the target at once (Command, Cmd.Run with
// signal relay and the kernel's explanation of a seccomp kill and of
// Landlock's refusals), a user-notification
// supervisor reports violations as profiles.Sample values instead of
// killing (NotifyCommand), and Apply locks the calling process down after
// its initialisation (the "enable after init" pattern of the original
// seccomp mode 2 proposal).
//
// Programs that use Command or NotifyCommand must call HelperMain first
// thing in main (and in TestMain): it is the one entry point of the
// re-exec'd helper.
//
// It does not compile filters (see emit) or decide what to allow (see
// profiles and reducer); filters arrive as raw struct sock_filter bytes.
// It is Linux only.
package enforce
