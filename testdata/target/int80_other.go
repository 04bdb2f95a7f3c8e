//go:build !amd64 || sysrec_cgo

package main

import (
	"fmt"
	"os"
)

func i386(string, string) {
	fmt.Fprintln(os.Stderr, "target: i386 calls need amd64")
	os.Exit(2)
}

func int80Call([]string) {
	fmt.Fprintln(os.Stderr, "target: i386 calls need amd64")
	os.Exit(2)
}
