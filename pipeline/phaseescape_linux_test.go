package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// TestPhaseEscapeOtherArch: the calls that let a process act past its
// phases are as much an escape through another ABI. A 64-bit server's
// profile that allows i386 io_uring_setup (int $0x80, nr 425: the
// reducer gives a recorded compat call an exact entry of its own, with
// the profile's arch "x86") lets it set up a ring whose operations no
// filter sees, as the native call would; i386 bpf (357) likewise loads a
// program that writes the frozen phase map. phaseEscape looks at the
// native arch only.
func TestPhaseEscapeOtherArch(t *testing.T) {
	arch, err := linuxabi.Native()
	if err != nil {
		t.Fatal(err)
	}
	if arch.Name != "x86_64" {
		t.Skip("the compat ABI tested is i386 under x86_64")
	}
	const progLoad = 5 // BPF_PROG_LOAD
	for _, tc := range []struct {
		name    string
		entries []profiles.Syscall
		want    string
	}{
		{"i386 io_uring_setup init-only", []profiles.Syscall{{Name: "io_uring_setup", Arch: "x86", Phase: profiles.PhaseInit}}, "io_uring_setup"},
		{"i386 io_uring_setup", []profiles.Syscall{{Name: "io_uring_setup", Arch: "x86"}}, "io_uring_setup"},
		{"i386 io_uring_enter", []profiles.Syscall{{Name: "io_uring_enter", Arch: "x86"}}, "io_uring_enter"},
		{"i386 bpf program loads", []profiles.Syscall{{Name: "bpf", Arch: "x86", Args: []profiles.ArgRule{{Index: 0, Op: profiles.OpIn, Values: []uint64{progLoad}}}}}, "bpf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &profiles.Profile{Version: 3, Arch: []string{arch.Name, "x86"}, DefaultAction: profiles.ActKillProcess,
				Phases:   &profiles.Phases{Transition: profiles.DefaultTransition()},
				Syscalls: append([]profiles.Syscall{{Name: "socket", Phase: profiles.PhaseInit}}, tc.entries...)}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			if err := phaseEscape(p); !errors.Is(err, ErrPhases) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("phaseEscape: %v, want phases refused naming %q", err, tc.want)
			}
		})
	}
}
