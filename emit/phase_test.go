package emit

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/sysrec/sysrec/cbpf"
	"github.com/sysrec/sysrec/internal/testenv"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

func phasedProfile(t *testing.T) *profiles.Profile {
	t.Helper()
	p, err := profiles.Load("testdata/phases.json")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPhaseGolden: the formats that write one phase's filter, for the
// serving phase of a profile with phases.
func TestPhaseGolden(t *testing.T) {
	p := phasedProfile(t)
	for _, name := range PhaseFormats() {
		f, _ := LookupFormat(name)
		t.Run(name, func(t *testing.T) {
			out, err := f.Emit(p, Options{Phase: PhaseServing})
			if err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, "testdata/phases.serving."+name+".golden", out)
			union, err := f.Emit(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(out, union) {
				t.Error("the serving filter is the union")
			}
		})
	}
}

// TestPhaseUnion: every format writes the union of a profile with
// phases by default; those that cannot write one phase's filter refuse
// to.
func TestPhaseUnion(t *testing.T) {
	p := phasedProfile(t)
	for _, f := range Formats() {
		t.Run(f.Name, func(t *testing.T) {
			got, err := f.Emit(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.Emit(p.Union(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Error("the default output is not the union's")
			}
			_, err = f.Emit(p, Options{Phase: PhaseServing})
			if f.Phase != (err == nil) {
				t.Errorf("--phase serving: %v", err)
			}
		})
	}
	if _, err := Raw(p.Union(), Options{Phase: PhaseServing}); err == nil || !strings.Contains(err.Error(), "no phases") {
		t.Errorf("the serving filter of a profile without phases: %v", err)
	}
	if _, err := compile(p); err == nil {
		t.Error("compile took a profile with phases")
	}
	c, err := C(p, Options{Phase: PhaseServing})
	if err != nil || !strings.Contains(strings.SplitN(c, "\n", 2)[0], "serving phase") {
		t.Errorf("the C header does not say it is the serving filter: %v\n%s", err, c)
	}
}

// randomPhased is randomProfile with phases: some allowing entries for
// init only, and no user_notif anywhere (the supervisor's).
func randomPhased(r *rand.Rand) *profiles.Profile {
	for {
		p := randomProfile(r)
		notif := func(a profiles.Action) bool { return a.Kind == profiles.UserNotif }
		if notif(p.DefaultAction) || notif(p.UnknownAction) || notif(p.BadArchAction) {
			continue
		}
		p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s profiles.Syscall) bool { return notif(s.Action) })
		p.Version, p.Phases = profiles.Version, &profiles.Phases{Transition: profiles.DefaultTransition()}
		for i := range p.Syscalls {
			if p.Syscalls[i].EffectiveAction().Kind == profiles.Allow && r.IntN(2) == 0 {
				p.Syscalls[i].Phase = profiles.PhaseInit
			}
		}
		return p
	}
}

// TestPhaseDifferential: for random profiles with phases, the filter
// run enforces (p.Supervised(), each notification answered by
// p.Notified of the caller's phase) decides as the model does in each
// phase, and so do the union's filter in init and the serving filter in
// serving.
func TestPhaseDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 400 {
		p := randomPhased(r)
		sup, err := compileRaw(p.Supervised(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		union, err := compileRaw(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		serving, err := compileRaw(p, Options{Phase: PhaseServing})
		if err != nil {
			t.Fatal(err)
		}
		run := func(prog []bpf.RawInstruction, d linuxabi.SeccompData) uint32 {
			got, _, err := cbpf.Exec(prog, d)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		for range 500 {
			d := randomInput(r, p)
			for _, ph := range []profiles.Phase{profiles.PhaseInit, profiles.PhaseServing} {
				want := p.Decide(d, ph).Ret()
				got := run(sup, d)
				if got == (profiles.Action{Kind: profiles.UserNotif}).Ret() {
					got = p.Notified(ph).Ret()
				}
				view := union
				if ph == profiles.PhaseServing {
					view = serving
				}
				if got != want || run(view, d) != want {
					b, _ := p.Marshal()
					t.Fatalf("%s: nr=%d arch=%#x args=%#x: supervised %#x, %s filter %#x, model %#x\n%s", ph, d.Nr, d.Arch, d.Args, got, ph, run(view, d), want, b)
				}
			}
		}
	}
}
