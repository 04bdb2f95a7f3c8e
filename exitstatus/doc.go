// Package exitstatus decides the exit statuses sysrec reports: the
// statuses scripts rely on (OK, Finding, Error, NoExec, NotFound), a
// finished process's as a shell reports it (Shell), and a failed
// command's (OfError). It imports only the standard library.
package exitstatus
