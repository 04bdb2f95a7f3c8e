package analyze

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sysrec/sysrec/internal/testenv"
)

// testCache is shared by the tests of one run, so libc is summarised
// once; TestMain removes it.
var testCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sysrec-analyze-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	testCache = dir
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 2
	}
	os.Exit(code)
}

func requireAMD64(t testing.TB) {
	t.Helper()
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skip("the C and Go test programs are built for the machine, and the analysis is checked on x86_64 only")
	}
}

// gcc compiles C sources from testdata into dir/out.
func gcc(t testing.TB, dir, out string, args ...string) string {
	t.Helper()
	cc := testenv.RequireTool(t, "gcc")
	p := filepath.Join(dir, out)
	cmd := exec.Command(cc, append([]string{"-O2", "-o", p}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return p
}

func testdata(name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		panic(err)
	}
	return p
}

// frameIn reports whether a chain passes through a frame of module
// whose Via starts with via.
func frameIn(path []Frame, module, via string) bool {
	for _, f := range path {
		if f.Module == module && strings.HasPrefix(f.Via, via) {
			return true
		}
	}
	return false
}

// The small C programs: what must be reachable, what must not, and how.
func TestCPrograms(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	plugin := gcc(t, dir, "plugin.so", "-shared", "-fPIC", testdata("plugin.c"))
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	gcc(t, dir, "lib/libsysrecorigin.so", "-shared", "-fPIC", testdata("plugin.c"))
	gcc(t, dir, "libnss_sysrectest.so.2", "-shared", "-fPIC", testdata("nssmod.c"))
	nsswitch := filepath.Join(dir, "nsswitch.conf")
	if err := os.WriteFile(nsswitch, []byte("# test\npasswd: files sysrectest [NOTFOUND=return]\ngroup: files\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = plugin

	// Never reached from these programs: nothing in libc, ld.so or the
	// test code makes them.
	never := []string{"reboot", "kexec_load", "init_module", "delete_module", "swapon", "pivot_root", "mount", "umount2", "bpf", "perf_event_open"}
	// Every dynamically linked glibc program reaches these (ld.so
	// start-up, libc start-up and exit).
	startup := []string{"mmap", "mprotect", "openat", "read", "close", "exit_group", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "newfstatat", "pread64"}

	tests := []struct {
		name     string
		build    []string
		opts     Options
		kind     string
		want     []string
		never    []string
		indirect bool // at least one indirect call site
		check    func(t *testing.T, r *Result)
	}{
		{
			name:  "direct",
			build: []string{testdata("direct.c")},
			kind:  "dynamic",
			want:  append([]string{"kcmp", "process_mrelease", "getpid"}, startup...),
			never: never,
			check: func(t *testing.T, r *Result) {
				s, _ := r.Lookup("kcmp")
				if len(s.Path) < 2 || s.Path[0].Function != "syscall" || s.Path[0].Module != "libc.so.6" || s.Path[1].Function != "main" || s.Path[1].Module != "direct" {
					t.Errorf("kcmp: want syscall@libc.so.6 ← main@direct, got %s", s.Chain())
				}
			},
		},
		{
			name:     "function pointer",
			build:    []string{testdata("fnptr.c")},
			kind:     "dynamic",
			want:     append([]string{"kcmp"}, startup...),
			never:    append(slices.Clone(never), "process_mrelease"),
			indirect: true,
			check: func(t *testing.T, r *Result) {
				s, _ := r.Lookup("kcmp")
				if !slices.ContainsFunc(s.Path, func(f Frame) bool { return f.Data && f.Function == "hook" }) {
					t.Errorf("kcmp: want a chain through the variable hook, got %s", s.Chain())
				}
			},
		},
		{
			name:     "dlopen",
			build:    []string{testdata("dlopen.c")},
			kind:     "dynamic",
			want:     startup,
			never:    append(slices.Clone(never), "kcmp"),
			indirect: true,
			check: func(t *testing.T, r *Result) {
				if !slices.Contains(r.Unresolved.Dlopen, Dlopen{Module: "dlopen", Call: "dlopen", Functions: 1}) ||
					!slices.Contains(r.Unresolved.Dlopen, Dlopen{Module: "dlopen", Call: "dlsym", Functions: 1}) {
					t.Errorf("want dlopen reported for module dlopen, got %+v", r.Unresolved.Dlopen)
				}
			},
		},
		{
			name:  "NSS module",
			build: []string{testdata("nss.c")},
			opts:  Options{NSSwitch: nsswitch, LibraryPath: []string{dir}},
			kind:  "dynamic",
			want:  append([]string{"kcmp"}, startup...),
			never: never,
			check: func(t *testing.T, r *Result) {
				s, _ := r.Lookup("kcmp")
				if !frameIn(s.Path, "libnss_sysrectest.so.2", "NSS module for passwd") {
					t.Errorf("kcmp: want a chain through the NSS module, got %s", s.Chain())
				}
			},
		},
		{
			name:  "DT_RUNPATH $ORIGIN",
			build: []string{testdata("origin.c"), "-L" + filepath.Join(dir, "lib"), "-lsysrecorigin", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib"},
			kind:  "dynamic",
			want:  append([]string{"kcmp"}, startup...),
			never: never,
			check: func(t *testing.T, r *Result) {
				if !slices.ContainsFunc(r.Modules, func(m Module) bool {
					return m.Name == "libsysrecorigin.so" && strings.Contains(m.Found, "DT_RUNPATH")
				}) {
					t.Errorf("want libsysrecorigin.so found through DT_RUNPATH, got %+v", r.Modules)
				}
			},
		},
		{
			name:  "IFUNC",
			build: []string{testdata("ifunc.c")},
			kind:  "dynamic",
			want:  append([]string{"kcmp", "process_mrelease"}, startup...),
			never: never,
		},
		{
			name:  "static",
			build: []string{"-static", testdata("direct.c")},
			kind:  "static",
			want:  []string{"kcmp", "process_mrelease", "getpid", "exit_group", "write", "brk", "arch_prctl"},
			never: never,
			check: func(t *testing.T, r *Result) {
				if len(r.Modules) != 1 {
					t.Errorf("a static binary loads nothing, got %+v", r.Modules)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := strings.TrimSuffix(filepath.Base(tt.build[len(tt.build)-1]), ".c")
			for _, a := range tt.build {
				if strings.HasSuffix(a, ".c") {
					out = strings.TrimSuffix(filepath.Base(a), ".c")
				}
			}
			if tt.kind == "static" {
				out += "-static"
			}
			bin := gcc(t, dir, out, tt.build...)
			opts := tt.opts
			opts.CacheDir = testCache
			r, err := Binary(bin, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind {
				t.Errorf("kind %q, want %q", r.Kind, tt.kind)
			}
			for _, s := range tt.want {
				if !r.Has(s) {
					t.Errorf("%s not reachable", s)
				}
			}
			for _, s := range tt.never {
				if c, ok := r.Lookup(s); ok {
					t.Errorf("%s reachable: %s", s, c.Chain())
				}
			}
			if tt.indirect && r.Unresolved.IndirectCalls == 0 {
				t.Errorf("no indirect call sites counted")
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if t.Failed() {
				t.Logf("%s", r.Text())
			}
		})
	}
}

// Go binaries, built for x86_64 and cross-built for arm64: the runtime's
// own syscalls, and a raw syscall.Syscall6 with a constant trap number
// resolved at its call site in main.main.
func TestGoBinary(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = testenv.RequireTool(t, "go")
	}
	// The runtime: memory, threads, signals, timers; os: openat, write.
	common := []string{"kcmp", "mmap", "munmap", "madvise", "clone", "futex", "rt_sigaction", "rt_sigprocmask", "sigaltstack",
		"sched_yield", "exit_group", "openat", "read", "write", "close", "getpid", "tgkill", "nanosleep", "epoll_pwait", "epoll_ctl"}
	tests := []struct {
		goarch, arch string
		want         []string
	}{
		{"amd64", "x86_64", append([]string{"arch_prctl", "rt_sigreturn"}, common...)},
		{"arm64", "aarch64", common},
	}
	for _, tt := range tests {
		t.Run(tt.goarch, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "goprog")
			cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", bin, ".")
			cmd.Dir = testdata("goprog")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOOS=linux", "GOARCH="+tt.goarch)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, b)
			}
			r, err := Binary(bin, Options{CacheDir: testCache, Arch: tt.arch})
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != "go" || r.Arch != tt.arch {
				t.Errorf("kind %q arch %q, want go %s", r.Kind, r.Arch, tt.arch)
			}
			for _, s := range tt.want {
				if !r.Has(s) {
					t.Errorf("%s not reachable", s)
				}
			}
			for _, s := range []string{"reboot", "kexec_load", "init_module", "swapon", "mount"} {
				if c, ok := r.Lookup(s); ok {
					t.Errorf("%s reachable: %s", s, c.Chain())
				}
			}
			s, _ := r.Lookup("kcmp")
			if len(s.Path) < 2 || s.Path[0].Function != "syscall.Syscall6" || s.Path[1].Function != "main.main" {
				t.Errorf("kcmp: want syscall.Syscall6 ← main.main, got %s", s.Chain())
			}
			if r.Unresolved.SyscallSites > 2 {
				t.Errorf("%d syscall sites with a non-constant number", r.Unresolved.SyscallSites)
			}
			if t.Failed() {
				t.Logf("%s", r.Text())
			}
		})
	}
}

// The machine's libc: well-known exports reach the syscalls everyone
// knows they make.
func TestLibcExports(t *testing.T) {
	requireAMD64(t)
	libc := ""
	for _, p := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"} {
		if _, err := os.Stat(p); err == nil {
			libc = p
			break
		}
	}
	if libc == "" {
		if testenv.Privileged() {
			t.Fatal("SYSREC_TEST_PRIVILEGED=1 but no glibc libc.so.6")
		}
		t.Skip("no glibc libc.so.6")
	}
	tests := []struct {
		export string
		want   [][]string // each inner list: at least one of them
	}{
		{"fdatasync", [][]string{{"fdatasync"}}},
		{"fsync", [][]string{{"fsync"}}},
		{"pthread_create", [][]string{{"clone3", "clone"}, {"mmap"}, {"mprotect"}}},
		{"getaddrinfo", [][]string{{"socket"}, {"connect"}, {"sendto", "sendmmsg", "sendmsg"}, {"recvfrom", "recvmsg"}}},
		{"fork", [][]string{{"clone"}}},
		{"clock_gettime", [][]string{{"clock_gettime"}}},
	}
	for _, tt := range tests {
		t.Run(tt.export, func(t *testing.T) {
			r, err := Exports(libc, []string{tt.export}, Options{CacheDir: testCache})
			if err != nil {
				t.Fatal(err)
			}
			for _, alts := range tt.want {
				if !slices.ContainsFunc(alts, r.Has) {
					t.Errorf("none of %v reachable from %s", alts, tt.export)
				}
			}
			if tt.export == "clock_gettime" {
				if s, _ := r.Lookup("clock_gettime"); !s.VDSO {
					t.Errorf("clock_gettime not marked as a vDSO call")
				}
			}
			if t.Failed() {
				t.Logf("%s", r.Text())
			}
		})
	}
}

// A "#!" script is analysed as its interpreter, through /usr/bin/env.
func TestScript(t *testing.T) {
	requireAMD64(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct{ name, line string }{
		{"direct", "#!" + sh + " -e\n"},
		{"env", "#!/usr/bin/env -S sh -e\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte(tt.line+"echo hi\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			r, err := Binary(p, Options{CacheDir: testCache})
			if err != nil {
				t.Fatal(err)
			}
			if r.Binary != p || filepath.Base(r.Interpreter) != "sh" {
				t.Errorf("binary %q interpreter %q", r.Binary, r.Interpreter)
			}
			for _, s := range []string{"execve", "wait4", "write"} {
				if !r.Has(s) {
					t.Errorf("%s not reachable from sh", s)
				}
			}
		})
	}
}

func TestNotELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "text")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Binary(p, Options{NoCache: true}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

// Damaged files are errors or smaller answers, never panics.
func TestCorruptELF(t *testing.T) {
	requireAMD64(t)
	dir := t.TempDir()
	good, err := os.ReadFile(gcc(t, dir, "direct", testdata("direct.c")))
	if err != nil {
		t.Fatal(err)
	}
	var inputs [][]byte
	for _, n := range []int{0, 4, 16, 63, 64, 200, len(good) / 3, len(good) / 2, len(good) - 100} {
		inputs = append(inputs, good[:n])
	}
	rnd := uint64(1)
	next := func() uint64 { // xorshift: deterministic damage
		rnd ^= rnd << 13
		rnd ^= rnd >> 7
		rnd ^= rnd << 17
		return rnd
	}
	for i := range 60 {
		b := slices.Clone(good)
		for range 8 {
			at := next() % uint64(len(b))
			switch i % 3 { // headers, section headers, anywhere
			case 0:
				at %= 4096
			case 1:
				at = uint64(len(b)) - 1 - at%4096
			}
			b[at] = byte(next())
		}
		inputs = append(inputs, b)
	}
	errs := 0
	for i, b := range inputs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("input %d (%d bytes): panic: %v", i, len(b), r)
				}
			}()
			if _, err := summarize(b); err != nil {
				errs++ // a fine answer for a damaged file
			}
		}()
	}
	t.Logf("%d of %d damaged files rejected, the rest summarised", errs, len(inputs))
}

// The C programs cross-compiled for arm64, analysed with the cross
// toolchain's glibc. This needs gcc-aarch64-linux-gnu, which CI does not
// install, so it skips without it even under SYSREC_TEST_PRIVILEGED=1.
func TestCProgramsArm64(t *testing.T) {
	cc, err := exec.LookPath("aarch64-linux-gnu-gcc")
	if err != nil {
		t.Skip("needs aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)")
	}
	libDir := "/usr/aarch64-linux-gnu/lib"
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		kind  string
		chain []string // functions kcmp's chain starts with
	}{
		{"direct", []string{testdata("direct.c")}, "dynamic", []string{"syscall", "main"}},
		{"fnptr", []string{testdata("fnptr.c")}, "dynamic", []string{"syscall", "through_pointer", "hook"}},
		{"static", []string{"-static", testdata("direct.c")}, "static", []string{"syscall", "main"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(dir, tt.name)
			if b, err := exec.Command(cc, append([]string{"-O2", "-o", bin}, tt.args...)...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", cc, err, b)
			}
			r, err := Binary(bin, Options{CacheDir: testCache, LibraryPath: []string{libDir}, Arch: "arm64"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind || r.Arch != "aarch64" {
				t.Errorf("kind %q arch %q", r.Kind, r.Arch)
			}
			for _, s := range []string{"kcmp", "exit_group", "write", "mmap", "openat", "rt_sigprocmask"} {
				if !r.Has(s) {
					t.Errorf("%s not reachable", s)
				}
			}
			s, _ := r.Lookup("kcmp")
			for i, f := range tt.chain {
				if i >= len(s.Path) || s.Path[i].Function != f {
					t.Errorf("kcmp: want a chain starting %v, got %s", tt.chain, s.Chain())
					break
				}
			}
			if len(r.Unresolved.Libraries) > 0 || r.Unresolved.SyscallSites > 0 {
				t.Errorf("unresolved: %+v", r.Unresolved)
			}
		})
	}
}
