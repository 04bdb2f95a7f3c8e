// Package exitstatus decides the exit statuses sysrec reports: a
// finished process's as a shell reports it (Shell). It imports only the
// standard library.
package exitstatus
