package profiles

import (
	"errors"
	"fmt"

	"github.com/sysrec/sysrec/linuxabi"
)

// Check checks t as a rule to record or enforce with: it names some
// syscall, each a syscall of one of arches at least (an unknown one is
// answered with the closest name), and its gate is one there is.
func (t Transition) Check(arches []*linuxabi.Arch) error {
	if len(t.After) == 0 {
		return errors.New("no syscall to start serving at")
	}
next:
	for _, name := range t.After {
		for _, a := range arches {
			if _, ok := a.Number(name); ok {
				continue next
			}
		}
		return unknownSyscall(name, arches)
	}
	if t.Gate != "" && t.Gate != GateListen {
		return fmt.Errorf("unknown gate %q (want listen, or none)", t.Gate)
	}
	return nil
}
