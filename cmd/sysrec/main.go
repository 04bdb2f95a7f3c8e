// Command sysrec records the system calls a program makes and turns them
// into an enforceable seccomp-BPF filter.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/sysrec/sysrec/enforce"
)

func main() {
	if enforce.IsHelper() {
		// Re-exec'd by `sysrec run`: install the filter and exec the
		// target. Returns only on failure; 126 is the shell's "found but
		// could not be executed".
		err := enforce.RunHelper()
		fmt.Fprintf(os.Stderr, "sysrec: run: %v\n", err)
		os.Exit(126)
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
