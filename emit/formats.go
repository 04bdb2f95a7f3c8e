package emit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sysrec/sysrec/profiles"
)

// Format is one output format of a profile.
type Format struct {
	Name    string
	Summary string
	// Binary output is not for a terminal.
	Binary bool
	// Command: the format takes the command the profile will confine
	// (Options.Invocation), to instantiate the profile's templates.
	Command bool
	// Phase: the format writes the filter of one phase of a profile with
	// phases (Options.Phase PhaseServing) as well as their union; the
	// others are installed by a runtime on a program it cannot watch
	// serve, and write the union.
	Phase bool
	Emit  func(*profiles.Profile, Options) ([]byte, error)
}

// Options.Phase values.
const (
	PhaseUnion   = "union"
	PhaseServing = "serving"
)

// phaseView returns the profile without phases that the filter of phase
// (Options.Phase) of p allows.
func phaseView(p *profiles.Profile, phase string) (*profiles.Profile, error) {
	switch phase {
	case "", PhaseUnion:
		return p.Union(), nil
	case PhaseServing:
		if p.Phases == nil {
			return nil, errors.New("the profile has no phases (no recorded process served), so its serving filter is the whole profile: emit it without a phase")
		}
		return p.ServingOnly(), nil
	}
	return nil, fmt.Errorf("unknown phase %q (want %s or %s)", phase, PhaseUnion, PhaseServing)
}

// unionOnly returns p.Union() for a format that cannot write one phase's
// filter.
func unionOnly(p *profiles.Profile, opts Options, format string) (*profiles.Profile, error) {
	if opts.Phase != "" && opts.Phase != PhaseUnion {
		return nil, fmt.Errorf("format %s writes the union of the phases, not phase %q: a runtime installs it on a program it cannot watch start serving", format, opts.Phase)
	}
	return p.Union(), nil
}

// PhaseFormats names the formats with Format.Phase.
func PhaseFormats() []string {
	var out []string
	for _, f := range formats {
		if f.Phase {
			out = append(out, f.Name)
		}
	}
	return out
}

// formats is the registry, in the order Formats lists it.
var formats = []Format{
	{Name: "bpf", Summary: "raw little-endian struct sock_filter array (bwrap --seccomp FD, sysrec run)", Binary: true, Phase: true, Emit: Raw},
	{Name: "json", Summary: "the sysrec profile, canonical form", Phase: true, Emit: emitJSON},
	{Name: "oci", Summary: "runc/crun/Docker/Podman seccomp JSON (linux.seccomp)", Emit: OCI},
	{Name: "spo", Summary: "Kubernetes security-profiles-operator SeccompProfile YAML (v1, cluster-scoped)", Emit: SPO},
	{Name: "spo-v1beta1", Summary: "the same for SPO before v1 (v1beta1, namespaced)", Emit: SPOV1Beta1},
	{Name: "text", Summary: "annotated disassembly of the filter, for review", Phase: true, Emit: textBytes},
	{Name: "c", Summary: "a struct sock_filter array for embedding in C", Phase: true, Emit: cBytes},
	{Name: "landrun", Summary: "landrun arguments for the filesystem and network (Landlock) sections", Command: true, Emit: Landrun},
	{Name: "systemd", Summary: "a systemd drop-in (UNIT.d/sysrec.conf): SystemCallFilter=, RestrictAddressFamilies=, ReadWritePaths=, ...", Command: true, Emit: Systemd},
}

// ErrUnknownFormat is returned by LookupFormat for a name no format has.
var ErrUnknownFormat = errors.New("unknown format")

// Formats returns every format: bpf, json, oci, spo, spo-v1beta1, text,
// c, landrun, systemd.
func Formats() []Format {
	return append([]Format(nil), formats...)
}

// LookupFormat returns the format called name.
func LookupFormat(name string) (Format, error) {
	names := make([]string, len(formats))
	for i, f := range formats {
		if f.Name == name {
			return f, nil
		}
		names[i] = f.Name
	}
	return Format{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, name, strings.Join(names, ", "))
}

// Raw returns the filter as the kernel takes it: an array of
// little-endian struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}.
func Raw(p *profiles.Profile, opts Options) ([]byte, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return nil, err
	}
	return prog.Encode(), nil
}

// emitJSON returns the profile of opts.Phase of p in canonical form,
// once p is known to be valid.
func emitJSON(p *profiles.Profile, opts Options) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	v, err := phaseView(p, opts.Phase)
	if err != nil {
		return nil, err
	}
	return v.Marshal()
}

// Text returns an annotated disassembly of the filter for review.
func Text(p *profiles.Profile, opts Options) (string, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("# %s: %d instructions, arch %s, default %s%s\n", nameOr(p), prog.Len(), strings.Join(p.Arch, ","), p.DefaultAction, phaseNote(opts)) +
		prog.Disassemble(), nil
}

// phaseNote says, in a header, that a filter is one phase's.
func phaseNote(opts Options) string {
	if opts.Phase != PhaseServing {
		return ""
	}
	return "; the serving phase's filter: a program installs it on itself once it has initialised, so the calls only its init made are not in it"
}

func textBytes(p *profiles.Profile, opts Options) ([]byte, error) {
	s, err := Text(p, opts)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func nameOr(p *profiles.Profile) string {
	if p.Name != "" {
		return p.Name
	}
	return "profile"
}

// C returns the filter as a C array of struct sock_filter.
func C(p *profiles.Profile, opts Options) (string, error) {
	prog, err := compileLimited(p, opts)
	if err != nil {
		return "", err
	}
	raw := prog.Raw()
	var b strings.Builder
	fmt.Fprintf(&b, "/* seccomp filter for %s, generated by sysrec: %d instructions%s. */\n", nameOr(p), len(raw), phaseNote(opts))
	b.WriteString("#include <linux/filter.h>\n\n")
	b.WriteString("static struct sock_filter sysrec_filter[] = {\n")
	for _, r := range raw {
		fmt.Fprintf(&b, "\t{ 0x%04x, %3d, %3d, 0x%08x },\n", r.Op, r.Jt, r.Jf, r.K)
	}
	b.WriteString("};\n\n")
	b.WriteString("static struct sock_fprog sysrec_prog = {\n")
	b.WriteString("\t.len = sizeof(sysrec_filter) / sizeof(sysrec_filter[0]),\n")
	b.WriteString("\t.filter = sysrec_filter,\n")
	b.WriteString("};\n")
	return b.String(), nil
}

func cBytes(p *profiles.Profile, opts Options) ([]byte, error) {
	s, err := C(p, opts)
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// madeNote says, for a format that carries Landlock rules without a
// supervisor, that p's made files and thread names are left out (""
// without any): only sysrec run's supervisor makes them or opens them,
// and a rule on their directory would reach every file in it.
func madeNote(p *profiles.Profile) string {
	var notes []string
	if p.HasMade() {
		var paths []string
		for _, m := range p.Filesystem.Made {
			paths = append(paths, m.Path)
		}
		notes = append(notes, fmt.Sprintf("the made files %s (filesystem.made): only sysrec run's supervisor makes them (a right on their directory would reach every file in it); the program cannot create them", strings.Join(paths, ", ")))
	}
	if p.HasThreadNames() {
		notes = append(notes, "thread names (filesystem.thread_names): only sysrec run's supervisor opens /proc/self/task/TID/comm (a rule on /proc/self/task would reach each thread's mem); the program cannot name another thread")
	}
	return strings.Join(notes, "; ")
}
