package profiles

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

// TestPhaseViewsDecide: on random profiles whose init entries lie
// anywhere among entries for any phase, allowing or denying, Union
// decides as the profile does in init, ServingOnly as it does in
// serving, and Supervised's answers, user_notif answered by Notified, as
// it does in each phase; an unknown phase gets serving's answer.
func TestPhaseViewsDecide(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x86, _ := linuxabi.LookupArch("x86_64")
	names := []string{"read", "socket", "openat", "clone", "execve"}
	acts := []Action{ActAllow, ActEPERM, ActKillProcess, ActLog, ActENOSYS}
	for range 2000 {
		p := &Profile{Version: 3, Arch: []string{"x86_64"}, DefaultAction: acts[1+r.IntN(len(acts)-1)],
			Phases: &Phases{Transition: DefaultTransition()}}
		for range 1 + r.IntN(8) {
			s := Syscall{Name: names[r.IntN(len(names))], Action: acts[r.IntN(len(acts))]}
			if r.IntN(2) == 0 {
				s.Args = []ArgRule{{Index: 0, Op: OpIn, Values: []uint64{uint64(r.IntN(3))}}}
			}
			if s.Action == ActAllow && r.IntN(2) == 0 {
				s.Phase = PhaseInit
			}
			p.Syscalls = append(p.Syscalls, s)
		}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		union, serving, sup := p.Union(), p.ServingOnly(), p.Supervised()
		for _, v := range []*Profile{union, serving, sup} {
			if err := v.Validate(); err != nil || v.HasPhases() || v.Phases != nil {
				t.Fatalf("a view keeps phases or is invalid: %v", err)
			}
		}
		for range 50 {
			n, _ := x86.Number(names[r.IntN(len(names))])
			d := linuxabi.SeccompData{Nr: int32(n), Arch: x86.Audit, Args: [6]uint64{uint64(r.IntN(3))}}
			init, serv := p.Decide(d, PhaseInit), p.Decide(d, PhaseServing)
			supervised := func(ph Phase) Action {
				if a := sup.Decide(d, PhaseServing); a.Kind == UserNotif {
					return p.Notified(ph)
				}
				return sup.Decide(d, PhaseServing)
			}
			for _, c := range []struct {
				what      string
				got, want Action
			}{
				{"union", union.Decide(d, PhaseServing), init},
				{"serving only", serving.Decide(d, PhaseInit), serv},
				{"supervised in init", supervised(PhaseInit), init},
				{"supervised in serving", supervised(PhaseServing), serv},
				{"unknown phase", p.Decide(d, "later"), serv},
			} {
				if c.got != c.want {
					b, _ := p.Marshal()
					t.Fatalf("%s: nr %d arg %d: %s, the profile decides %s\n%s", c.what, d.Nr, d.Args[0], c.got, c.want, b)
				}
			}
			if allows(serv) && !allows(init) {
				t.Fatalf("nr %d: allowed in serving, not in init", d.Nr)
			}
		}
	}
}

func phased(t *testing.T) *Profile {
	t.Helper()
	p, err := Load("testdata/phases.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPhaseNotifyRefused(t *testing.T) {
	p := phased(t)
	p.Syscalls = append(p.Syscalls, Syscall{Name: "getpid", Action: Action{Kind: UserNotif}})
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "user_notif in a profile with phases") {
		t.Fatalf("Validate: %v", err)
	}
	p = phased(t)
	p.DefaultAction = Action{Kind: UserNotif}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "field default_action: user_notif") {
		t.Fatalf("Validate: %v", err)
	}
}

func TestMergePhases(t *testing.T) {
	a := phased(t)
	b := phased(t)
	b.Phases.Executables = []PhaseSets{{Exe: "server", Init: []string{"openat"}, Serving: []string{"socket"}}}
	for i := range b.Syscalls {
		if b.Syscalls[i].Name == "socket" {
			b.Syscalls[i].Phase = PhaseAny // a run saw it in serving
		}
	}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	phases := map[string]Phase{}
	for _, s := range m.Syscalls {
		phases[s.Name] = s.Phase
	}
	if phases["socket"] != PhaseAny || phases["bind"] != PhaseInit || phases["execve"] != PhaseInit {
		t.Errorf("phases after merge: %v (socket for any phase, bind and execve init)", phases)
	}
	if got := m.Phases.Executables[1]; got.Exe != "server" || !strings.Contains(strings.Join(got.Init, " "), "openat") || !strings.Contains(strings.Join(got.Serving, " "), "socket") {
		t.Errorf("server's sets are not unioned: %+v", got)
	}
	// A profile without phases says nothing about them: its entries are
	// for any phase.
	plain := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "bind"}}}
	if m, err := Merge(a, plain); err != nil || m.Phases == nil || entryPhase(m, "bind") != PhaseAny || entryPhase(m, "listen") != PhaseInit {
		t.Errorf("merge with a profile without phases: %v", err)
	}
	// A deny entry for the syscall would take back in init what the init
	// entry allows (entries for any phase decide first).
	deny := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess, Syscalls: []Syscall{{Name: "listen", Action: ActEPERM}}}
	m, err = Merge(a, deny)
	if err != nil {
		t.Fatal(err)
	}
	nr, _ := linuxabi.Native()
	n, _ := nr.Number("listen")
	if got := m.Decide(linuxabi.SeccompData{Nr: int32(n), Arch: nr.Audit}, PhaseInit); !got.Allows() {
		t.Errorf("listen in init after merging a deny: %s", got)
	}
	c := phased(t)
	c.Name = "other"
	c.Phases.Transition = Transition{After: []string{"poll"}}
	_, err = Merge(a, c)
	for _, want := range []string{"profile 2 (other)", "after poll", "profile 1 (server)", "after accept4, epoll_wait (blocking, gate listen)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("merge of different transitions: %v, want it to name %q", err, want)
		}
	}
}

func entryPhase(p *Profile, name string) Phase {
	for _, s := range p.Syscalls {
		if s.Name == name {
			return s.Phase
		}
	}
	return "missing"
}

func TestDiffPhases(t *testing.T) {
	old := phased(t)
	new := old.Clone()
	for i := range new.Syscalls {
		if new.Syscalls[i].Name == "execve" {
			new.Syscalls[i].Phase = PhaseAny // init only -> every phase
		}
	}
	new.Syscalls = append(new.Syscalls, Syscall{Name: "setuid", Phase: PhaseInit})
	d := Diff(old, new)
	if !d.WidensAt(policy.Sensitive) || d.Phases["setuid"] != PhaseInit || d.Tiers["setuid"] != "sensitive" {
		t.Errorf("diff: %+v", d)
	}
	if len(d.Changed) != 1 || d.Changed[0].Name != "execve" || d.Changed[0].Tier != "sensitive" || d.Changed[0].Phase != "" {
		t.Errorf("execve for every phase: %+v", d.Changed)
	}
	if back := Diff(new, old); back.Widens {
		t.Errorf("taking execve back to init widens: %+v", back)
	}
	moved := old.Clone()
	moved.Phases.Transition.Gate = ""
	if d := Diff(old, moved); d.Transition == "" || !d.WidensAt(policy.Sensitive) {
		t.Errorf("a transition change: %+v (execve may last longer: sensitive)", d)
	}
	testenv.Golden(t, "testdata/phases.diff.golden", []byte(d.Text()))
}

func TestShowPhases(t *testing.T) {
	p := phased(t)
	testenv.Golden(t, "testdata/phases.show.golden", []byte(FormatRows(p)))
	init := map[string]bool{"bind": true, "execve": true, "listen": true, "socket": true}
	for _, e := range Entries(p) {
		if init[e.Name] != (e.Phase == PhaseInit) {
			t.Errorf("show --json: %s has phase %q", e.Name, e.Phase)
		}
	}
}

// TestDiffInitValueForEveryPhase: a value one syscall allowed in init
// only, and now for every phase beside the values it allowed there
// already, widens what serving may do though init allowed it before.
func TestDiffInitValueForEveryPhase(t *testing.T) {
	const afUnix, afInet = 1, 2
	socket := func(phase Phase, domains ...uint64) Syscall {
		return Syscall{Name: "socket", Phase: phase, Args: []ArgRule{{Index: 0, Op: OpIn, Values: domains}}}
	}
	mk := func(ss ...Syscall) *Profile {
		return &Profile{Version: Version, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
			Phases: &Phases{Transition: DefaultTransition()}, Syscalls: ss}
	}
	old := mk(socket(PhaseAny, afUnix), socket(PhaseInit, afInet))
	new := mk(socket(PhaseAny, afUnix, afInet))
	d := Diff(old, new)
	if len(d.Changed) != 1 || !slices.ContainsFunc(d.Changed[0].Widened, func(w string) bool { return strings.HasPrefix(w, "serving: ") }) || !d.Widens {
		t.Errorf("AF_INET from init only to every phase: %+v, want a serving widening", d.Changed)
	}
	if back := Diff(new, old); back.Widens {
		t.Errorf("taking AF_INET back to init widens: %+v", back.Changed)
	}
}
