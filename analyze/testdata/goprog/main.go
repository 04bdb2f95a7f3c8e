// A Go program making one raw syscall (kcmp, which nothing else in the
// runtime or os makes; its number is in kcmp_GOARCH.go) and some ordinary
// file I/O.
package main

import (
	"os"
	"syscall"
)

func main() {
	pid := uintptr(os.Getpid())
	syscall.Syscall6(sysKcmp, pid, pid, 0, 0, 0, 0)
	if err := os.WriteFile(os.DevNull, []byte("x"), 0o644); err != nil {
		os.Exit(1)
	}
}
