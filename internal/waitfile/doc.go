// Package waitfile waits for a file to appear, woken by inotify rather
// than by polling: a file another process writes atomically (renamed into
// place whole), such as the profile of sysrec oci-hook's detached
// recorder. Linux only.
package waitfile
