// Command sysrec records the system calls a program makes and turns them
// into an enforceable seccomp-BPF filter.
package main

import (
	"context"
	"os"
)

func main() {
	helperMain() // a re-exec'd enforcement helper never returns from here
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
