// Package atomicfile writes files so that a reader sees the old content
// or the new, never a mix, and a failed write (full disk, killed process)
// leaves the old file in place: the data goes to a new temporary file in
// the same directory, created exclusively, is synced, and is renamed over
// the destination. Check refuses destinations that cannot work before any
// expensive work (a recording) starts.
//
// It is for sysrec's outputs (profiles, filters, fragments, caches); it is
// not a general file library.
package atomicfile
