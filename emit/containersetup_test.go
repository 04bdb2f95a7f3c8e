package emit

import (
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/profiles"
)

func setupProfile(extra ...profiles.Syscall) *profiles.Profile {
	return &profiles.Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: profiles.ActKillProcess,
		Syscalls: append([]profiles.Syscall{{Name: "read"}, {Name: "close"}}, extra...)}
}

// TestWithContainerSetup: the spec picks runtimes and no_new_privs;
// calls the profile already allows are not added again; every added
// entry says which runtime needs it and why.
func TestWithContainerSetup(t *testing.T) {
	added := func(t *testing.T, p *profiles.Profile, spec string) []profiles.Syscall {
		t.Helper()
		q, err := WithContainerSetup(p, spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		return q.Syscalls[len(p.Syscalls):]
	}
	names := func(ss []profiles.Syscall) []string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return n
	}
	p := setupProfile()
	if got := added(t, p, ContainerSetupNone); len(got) != 0 {
		t.Errorf("none added %v", names(got))
	}
	all := added(t, p, "")
	if slices.Contains(names(all), "close") {
		t.Errorf("close is already allowed, but was added: %v", names(all))
	}
	for _, s := range all {
		if !strings.HasPrefix(s.Reason, "runtime setup, ") {
			t.Errorf("%s added without a reason: %q", s.Name, s.Reason)
		}
	}
	for _, want := range []string{"capset", "setresuid", "setuid", "fcntl", "execve", "pselect6"} {
		if !slices.Contains(names(all), want) {
			t.Errorf("all: %s not added (got %v)", want, names(all))
		}
	}
	// prctl is needed by both: one entry, the union of the options.
	if n := strings.Count(strings.Join(names(all), " "), "prctl"); n != 1 {
		t.Errorf("prctl added %d times", n)
	}
	nnp := added(t, p, "runc:nnp,crun:nnp")
	for _, s := range nnp {
		if slices.Contains([]string{"capset", "setuid", "prctl", "fcntl"}, s.Name) {
			t.Errorf("runc:nnp added %s, made only without no_new_privs", s.Name)
		}
	}
	if crun := names(added(t, p, "crun")); slices.Contains(crun, "getdents64") {
		t.Errorf("crun alone added runc's getdents64: %v", crun)
	}
	for _, bad := range []string{"runsc", "runc:x", "runc,"} {
		if _, err := WithContainerSetup(p, bad); err == nil {
			t.Errorf("spec %q accepted", bad)
		}
	}
	// fcntl allowed for F_GETFD and F_SETFD already covers runc's F_SETFD;
	// an errno entry first does not.
	withFcntl := setupProfile(profiles.Syscall{Name: "fcntl", Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: []uint64{1, 2}}}})
	if slices.Contains(names(added(t, withFcntl, "runc")), "fcntl") {
		t.Error("fcntl(F_SETFD) is allowed, but was added")
	}
	denied := setupProfile(profiles.Syscall{Name: "fcntl", Action: profiles.ActEPERM, Args: []profiles.ArgRule{{Index: 1, Op: profiles.OpIn, Values: []uint64{2}}}})
	if !slices.Contains(names(added(t, denied, "runc")), "fcntl") {
		t.Error("fcntl is answered with EPERM first, but the setup entry was not added")
	}
}
