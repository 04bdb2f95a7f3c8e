package profiles

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTemplateParse: templates round-trip, and a bad one is refused with
// its line, column and field.
func TestTemplateParse(t *testing.T) {
	for _, s := range []string{"$ARGS", "$ARG1", "$ARG12/..", "$ARG2/out/x", "$CWD", "$CWD/.git", "$HOME/.cache/app", "$TMPDIR", "$XDG_RUNTIME_DIR/app.sock", "$TTY", "$PROGS", "$ARG2[root]", "$ARG6[server.errorlog]/..", "$ARG3[root]/sub/x", "$OPT[-F]", "$OPT[--output]/..", "$OPT[-config]/a", "$OPERANDS[4]", "$OPERANDS[1]/..", "$OPERANDS[2]/sub/x"} {
		tm, err := ParseTemplate(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if tm.String() != s {
			t.Errorf("%s: round trip gives %s", s, tm.String())
		}
	}
	rule := func(path string) string {
		return fmt.Sprintf("{\"version\": 2, \"arch\": [\"x86_64\"], \"default_action\": \"allow\", \"syscalls\": [],\n\"filesystem\": {\"rules\": [{\"path\": \"/usr\", \"access\": [\"read_file\"]},\n  {\"path\": %q, \"access\": [\"read_file\"]}]}}", path)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"unknown variable", rule("$HOMEDIR/x"), `line 3, column 12: field filesystem.rules[1].path: template $HOMEDIR/x: unknown variable $HOMEDIR (want $ARGn, $ARGn[key], $OPERANDS[n], $OPT[-o], $WORDS[cmd], $ARGS, $CWD, $TTY, $PROGS or $XDG_RUNTIME_DIR, $XDG_STATE_HOME, $XDG_DATA_HOME, $XDG_CACHE_HOME, $XDG_CONFIG_HOME, $TMPDIR, $HOME)`},
		{"braces", rule("${HOME}"), `line 3, column 12: field filesystem.rules[1].path: template ${HOME}: unknown variable ${HOME}`},
		{"argument 0", rule("$ARG0"), `field filesystem.rules[1].path: template $ARG0: argument 0 is the program itself, not a parameter`},
		{"leading zero", rule("$ARG01"), `template $ARG01: want $ARGn with n a number from 1`},
		{"no number", rule("$ARG"), `template $ARG: want $ARGn`},
		{"empty key", rule("$ARG2[]"), `template $ARG2[]: want $ARGn[key] with key the first word of a configuration line`},
		{"key not a word", rule("$ARG2[a=b]"), `template $ARG2[a=b]: want $ARGn[key]`},
		{"key unclosed", rule("$ARG2[root"), `template $ARG2[root: want $ARGn[key]`},
		{"option without dash", rule("$OPT[o]"), `template $OPT[o]: want $OPT[-o]`},
		{"operands from 0", rule("$OPERANDS[0]"), `template $OPERANDS[0]: want $OPERANDS[n] with n a number from 1`},
		{"operands unclosed", rule("$OPERANDS[2"), `template $OPERANDS[2: want $OPERANDS[n]`},
		{"option three dashes", rule("$OPT[---o]"), `template $OPT[---o]: want $OPT[-o]`},
		{"option alone", rule("$OPT[--]"), `template $OPT[--]: want $OPT[-o]`},
		{"key a checksum", rule("$ARG2[b6c34d7341759ea07aa0fa1ca51ba738]"), `template $ARG2[b6c34d7341759ea07aa0fa1ca51ba738]: want $ARGn[key]`},
		{"$ARGS/x", rule("$ARGS/x"), `template $ARGS/x: $ARGS takes no path after it`},
		{"parent of home", rule("$HOME/.."), `template $HOME/..: /.. follows $ARGn, $OPERANDS[n], $OPT[-o] or $WORDS[cmd] only`},
		{"dotdot below", rule("$ARG1/a/../../etc"), `template $ARG1/a/../../etc: "a/../../etc" after $ARG1 is not a clean relative path below it`},
		{"trailing slash", rule("$CWD/"), `template $CWD/: not clean`},
		{"relative", rule("etc/x"), `field filesystem.rules[1].path: "etc/x" is not a clean absolute path`},
		{"port from a path", "{\"version\": 2, \"arch\": [\"x86_64\"], \"default_action\": \"allow\", \"syscalls\": [],\n\"network\": {\"rules\": [{\"access\": \"bind_tcp\", \"port\": 80, \"from\": \"$HOME\"}]}}",
			`line 2, column 66: field network.rules[0].from: "$HOME": a port comes from an argument ($ARGn)`},
		{"not_allowed is no template", "{\"version\": 2, \"arch\": [\"x86_64\"], \"default_action\": \"allow\", \"syscalls\": [],\n\"filesystem\": {\"rules\": [], \"not_allowed\": [{\"path\": \"$HOME\", \"access\": [\"make_reg\"], \"reason\": \"r\"}]}}",
			`field filesystem.not_allowed[0].path: "$HOME" is not a clean absolute path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

// TestInstantiate: templates take the new command line's paths and
// ports; what would break a promise learned rules keep is dropped with a
// warning, whatever the command line says.
func TestInstantiate(t *testing.T) {
	env := []string{"HOME=/home/u", "TMPDIR=/tmp/sysrec-9"}
	rw := []string{"read_file", "write_file", "make_reg", "truncate"}
	for _, tc := range []struct {
		name   string
		path   string
		access []string
		args   []string
		dir    string
		env    []string
		want   string // instantiated "path access" lines
		warn   string // a warning contains this ("" none)
	}{
		{"reads of every argument", "$ARGS", []string{"read_file"}, []string{"tar", "czf", "b.tgz", "src2", "/data/big", "-T", "--files-from=list"}, "/v", env,
			"/data/big read_file\n/v/b.tgz read_file\n/v/czf read_file\n/v/list read_file\n/v/src2 read_file\n", ""},
		{"words of a shell command", "$ARGS", []string{"read_file"}, []string{"script", "-c", "wc -l data/x.txt /etc/shadow /", "log"}, "/v", env,
			"/v/data/x.txt read_file\n/v/log read_file\n/v/wc read_file\n/v/wc -l data/x.txt /etc/shadow  read_file\n", ""},
		{"beside argument 2", "$ARG2/..", rw, []string{"sort", "-o", "out2/t", "in"}, "/v", env,
			"/v/out2 write_file,read_file,make_reg,truncate\n", ""},
		{"under argument 1", "$ARG1/d/f", []string{"write_file"}, []string{"tool", "--into=x"}, "/v", env, "/v/x/d/f write_file\n", ""},
		{"no such argument", "$ARG3", []string{"read_file"}, []string{"tool", "a"}, "/v", env, "", "landlock rule $ARG3: the command has no argument 3; it grants nothing"},
		{"an option", "$ARG1", []string{"read_file"}, []string{"gzip", "-k", "x"}, "/v", env, "", `argument 1 ("-k") names no path`},
		{"working directory", "$CWD/.git", []string{"read_file"}, []string{"git"}, "/v/repo", env, "/v/repo/.git read_file\n", ""},
		{"home", "$HOME/.cache/app", rw, []string{"app"}, "/", env, "/home/u/.cache/app write_file,read_file,make_reg,truncate\n", ""},
		{"XDG default", "$XDG_CACHE_HOME/app", []string{"read_file"}, []string{"app"}, "/", env, "/home/u/.cache/app read_file\n", ""},
		{"XDG set", "$XDG_CACHE_HOME/app", []string{"read_file"}, []string{"app"}, "/", append(env, "XDG_CACHE_HOME=/c"), "/c/app read_file\n", ""},
		{"no runtime dir", "$XDG_RUNTIME_DIR/s", []string{"read_file"}, []string{"app"}, "/", env, "", "$XDG_RUNTIME_DIR is not set to an absolute path"},
		{"private TMPDIR", "$TMPDIR", rw, []string{"gcc"}, "/", env, "/tmp/sysrec-9 write_file,read_file,make_reg,truncate\n", ""},
		{"TTY", "$TTY", []string{"read_file", "ioctl_dev"}, []string{"git"}, "/", env, "", ""},

		// The attacks on the promise: a command line or environment
		// that points an output template at a directory kept whole.
		{"argument /", "$ARG2/..", rw, []string{"sort", "-o", "/x", "in"}, "/v", env, "", "landlock rule $ARG2/.. (/): / is never granted from a template"},
		{"argument names /", "$ARG1", rw, []string{"tool", "/"}, "/v", env, "", "landlock rule $ARG1 (/): / is never granted from a template"},
		{"reads of /", "$ARGS", []string{"read_file"}, []string{"tar", "czf", "x.tgz", "/"}, "/v", env, "/v/czf read_file\n/v/x.tgz read_file\n", ""},
		{"argument names $HOME", "$ARG1", rw, []string{"tool", "/home/u"}, "/v", env, "/home/u read_file\n", "write_file,make_reg,truncate on /home/u as a whole is never granted"},
		{"output in $HOME", "$ARG1/..", rw, []string{"tool", "/home/u/out"}, "/v", env, "", "/home/u is never granted as a whole unless the command line names it"},
		{"output in ~/.ssh", "$ARG1/..", rw, []string{"tool", "/home/u/.ssh/authorized_keys"}, "/v", env, "", "/home/u/.ssh is never granted"},
		{"TMPDIR=/tmp", "$TMPDIR", rw, []string{"gcc"}, "/", []string{"TMPDIR=/tmp"}, "", "/tmp is never granted as a whole"},
		{"HOME=/", "$HOME/x", rw, []string{"app"}, "/", []string{"HOME=/"}, "/x write_file,read_file,make_reg,truncate\n", ""},
		{"HOME=/ whole", "$HOME", rw, []string{"app"}, "/", []string{"HOME=/"}, "", "/ is never granted from a template"},
		{"cwd /", "$CWD", []string{"read_file"}, []string{"app"}, "/", env, "", "/ is never granted from a template"},
		{"system file named", "$ARGS", []string{"read_file"}, []string{"cat", "/etc/shadow", "notes"}, "/v", env, "/v/notes read_file\n", ""},
		{"system file written", "$ARG1", []string{"write_file"}, []string{"tee", "/etc/passwd"}, "/v", env, "", "in a system tree"},
		{"a command string's operand", "$WORDS[ed]", []string{"write_file", "truncate"}, []string{"sh", "-c", "ed -s other/b.txt < cmds"}, "/v", env, "/v/other/b.txt write_file,truncate\n", ""},
		{"beside a command string's operand", "$WORDS[tee]/..", rw, []string{"sh", "-c", "seq 3 | tee -a /w/logs/app.log"}, "/v", env, "/w/logs write_file,read_file,make_reg,truncate\n", ""},
		{"a command string's operand in /etc", "$WORDS[tee]/..", rw, []string{"sh", "-c", "seq 3 | tee /etc/x"}, "/v", env, "", "in a system tree"},
		// The review's: an input the command string names elsewhere is
		// not what sed or tee is given to write.
		{"an option's value in a command string", "$WORDS[sed]", []string{"write_file", "truncate"}, []string{"sh", "-c", "sed -i -f /w/rules.sed f.txt"}, "/v", env, "/v/f.txt write_file,truncate\n", ""},
		{"a command string's next line", "$WORDS[tee]", []string{"write_file", "truncate"}, []string{"sh", "-c", "seq 3 | tee out.log\nsha256sum /w/release.tar"}, "/v", env, "/v/out.log write_file,truncate\n", ""},
		{"a command string that changes directory", "$WORDS[tee]", []string{"write_file", "truncate"}, []string{"sh", "-c", "cd build && make | tee ../build.log"}, "/v", env, "", "no command string of the command line gives tee a path"},
		{"words after a cd", "$ARGS", []string{"read_file"}, []string{"sh", "-c", "cd sub && cat ../notes.txt /w/a"}, "/v/proj", env, "/v/proj/cd sub && cat ../notes.txt /w/a read_file\n/w/a read_file\n", ""},
		{"no command string", "$WORDS[ed]", []string{"write_file"}, []string{"ed", "a.txt"}, "/v", env, "", "no command string of the command line gives ed a path"},
		{"distribution's file named", "$ARGS", []string{"read_file"}, []string{"cat", "/usr/share/common-licenses/GPL-3"}, "/v", env, "/usr/share/common-licenses/GPL-3 read_file\n", ""},
		{"distribution's file written", "$ARG1", []string{"write_file"}, []string{"tee", "/usr/share/x"}, "/v", env, "", "in a system tree"},
		{"all of /usr named", "$ARGS", []string{"read_file"}, []string{"cat", "/usr"}, "/v", env, "", ""},
		{"/usr/local named", "$ARGS", []string{"read_file"}, []string{"cat", "/usr/local"}, "/v", env, "", ""},
		{"terminal elsewhere", "$TTY", []string{"write_file"}, []string{"x"}, "/", env, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{{Path: tc.path, Access: tc.access, Reason: "r"}}}}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			inv := Invocation{Args: tc.args, Dir: tc.dir, Env: tc.env}
			if tc.name == "TTY" {
				inv.TTY = "/dev/pts/4"
				tc.want = "/dev/pts/4 read_file,ioctl_dev\n"
			}
			if tc.name == "terminal elsewhere" {
				inv.TTY = "/home/u/fifo"
				tc.warn = "not a terminal"
			}
			got, warnings, err := p.Instantiate(inv)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, r := range got.Filesystem.Rules {
				fmt.Fprintf(&b, "%s %s\n", r.Path, strings.Join(r.Access, ","))
			}
			if b.String() != tc.want {
				t.Errorf("rules:\n%s\nwant:\n%s", b.String(), tc.want)
			}
			w := strings.Join(warnings, "\n")
			if (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
				t.Errorf("warnings %q, want one containing %q", w, tc.warn)
			}
			if got.Templated() {
				t.Error("instantiated profile still has templates")
			}
		})
	}
	if _, _, err := (&Profile{}).Instantiate(Invocation{Dir: "rel"}); err == nil {
		t.Error("a relative working directory was accepted")
	}
}

// TestInstantiatePorts: a port from the command line is the new run's;
// constants stay; an argument that is no port grants nothing.
func TestInstantiatePorts(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Network: &Network{Rules: []PortRule{
		{Access: "bind_tcp", Port: 23456, From: "$ARG1"},
		{Access: "connect_tcp", Port: 5432},
		{Access: "bind_tcp", Port: 8081, From: "$ARG2"},
	}}}
	for _, tc := range []struct {
		args       []string
		want, warn string
	}{
		{[]string{"srv", "23457", "--admin=[::1]:9000"}, "connect_tcp 5432,bind_tcp 9000,bind_tcp 23457", ""},
		{[]string{"srv", "-p"}, "connect_tcp 5432", `argument 1 ("-p") is not a port`},
		{[]string{"srv", "80", "70000"}, "bind_tcp 80,connect_tcp 5432", `argument 2 ("70000") is not a port`},
	} {
		got, warnings, err := p.Instantiate(Invocation{Args: tc.args, Dir: "/"})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, r := range got.Network.Rules {
			rules = append(rules, fmt.Sprintf("%s %d", r.Access, r.Port))
		}
		if s := strings.Join(rules, ","); s != tc.want {
			t.Errorf("%v: ports %s, want %s", tc.args, s, tc.want)
		}
		if w := strings.Join(warnings, "\n"); (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
			t.Errorf("%v: warnings %q, want %q", tc.args, w, tc.warn)
		}
	}
}

func TestArgPathAndPort(t *testing.T) {
	for _, tc := range []struct {
		arg, dir, path string
		port           uint16
	}{
		{"src", "/w", "/w/src", 0},
		{"../x", "/w/a", "/w/x", 0},
		{"/abs/./y", "/w", "/abs/y", 0},
		{"--output=o.txt", "/w", "/w/o.txt", 0},
		{"-o", "/w", "", 0},
		{"-", "/w", "", 0},
		{"--flag=", "/w", "", 0},
		{"8080", "/w", "/w/8080", 8080},
		{"--port=8080", "/w", "/w/8080", 8080},
		{"127.0.0.1:23456", "/w", "/w/127.0.0.1:23456", 23456},
		{"TCP-LISTEN:19001,reuseaddr,fork", "/w", "/w/TCP-LISTEN:19001,reuseaddr,fork", 19001},
		{"080", "/w", "/w/080", 0},
		{"0", "/w", "/w/0", 0},
		{"65536", "/w", "/w/65536", 0},
		// dd's operands: name=value.
		{"if=in.bin", "/w", "/w/in.bin", 0},
		{"of=/out/x", "/w", "/out/x", 0},
		{"s/a=b/c/", "/w", "/w/s/a=b/c", 0},
		{"=x", "/w", "/w/=x", 0},
		{"of=", "/w", "", 0},
	} {
		p, ok := ArgPath(tc.arg, tc.dir)
		if ok != (tc.path != "") || p != tc.path {
			t.Errorf("ArgPath(%q, %q) = %q %v, want %q", tc.arg, tc.dir, p, ok, tc.path)
		}
		port, ok := ArgPort(tc.arg)
		if ok != (tc.port != 0) || port != tc.port {
			t.Errorf("ArgPort(%q) = %d %v, want %d", tc.arg, port, ok, tc.port)
		}
	}
}

func TestConfigPorts(t *testing.T) {
	conf := []byte(`# listen 1111
daemon off;
events { worker_connections 64; }
server {
    listen 127.0.0.1:8080;
    listen [::1]:8443 ssl;
    listen 8444 backlog=4096 rcvbuf=8192 so_keepalive=30m::10;
    // listen 2222
}
server.port = 9000
server.port=9001
server.bind = "127.0.0.1"
port 6379
`)
	for _, tc := range []struct {
		key  string
		want []uint16
	}{
		{"listen", []uint16{8080, 8443, 8444}}, // an option's value is no port
		{"server.port", []uint16{9000, 9001}},
		{"port", []uint16{6379}},
		{"server.bind", nil},
		{"worker_connections", nil}, // inside braces, not the line's first word
		{"events", []uint16{64}},
	} {
		if got := ConfigPorts(conf, tc.key); !slices.Equal(got, tc.want) {
			t.Errorf("ConfigPorts(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
	for _, tc := range []struct {
		port uint16
		key  string
	}{
		{8080, "listen"}, {8443, "listen"}, {9000, "server.port"}, {6379, "port"},
		{1111, ""}, {2222, ""}, // comments
		{1, ""},                          // not the 1 of ::1
		{4096, ""}, {8192, ""}, {10, ""}, // options
	} {
		if got := ConfigKey(conf, tc.port); got != tc.key {
			t.Errorf("ConfigKey(%d) = %q, want %q", tc.port, got, tc.key)
		}
	}
}

func TestInstantiateConfigPorts(t *testing.T) {
	// A filesystem section with no rule: the target may change no file.
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{}, Network: &Network{Rules: []PortRule{
		{Access: "bind_tcp", Port: 8080, From: "$ARG2", Key: "listen"},
	}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		files      map[int][]byte
		want, warn string
	}{
		{[]string{"nginx", "-c", "b.conf"}, map[int][]byte{2: []byte("listen 8081;\nlisten 127.0.0.1:8082;\n")}, "bind_tcp 8081,bind_tcp 8082", ""},
		{[]string{"nginx", "-c", "b.conf"}, map[int][]byte{2: []byte("port 8081\n")}, "", `has no listen line with a port`},
		{[]string{"nginx", "-c", "/dev/stdin"}, nil, "", `has no listen line with a port`},
		{[]string{"nginx"}, nil, "", `the command has no argument 2`},
	} {
		got, warnings, err := p.Instantiate(Invocation{Args: tc.args, Dir: "/", Files: tc.files})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, r := range got.Network.Rules {
			rules = append(rules, fmt.Sprintf("%s %d", r.Access, r.Port))
		}
		if s := strings.Join(rules, ","); s != tc.want {
			t.Errorf("%v: ports %s, want %s", tc.args, s, tc.want)
		}
		if w := strings.Join(warnings, "\n"); (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
			t.Errorf("%v: warnings %q, want %q", tc.args, w, tc.warn)
		}
	}
	for _, bad := range []PortRule{
		{Access: "bind_tcp", Port: 8080, Key: "listen"},
		{Access: "bind_tcp", Port: 8080, From: "$ARG2", Key: "8080"},
		{Access: "bind_tcp", Port: 8080, From: "$ARG2", Key: "a b"},
	} {
		q := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Network: &Network{Rules: []PortRule{bad}}}
		if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "network.rules[0].key") {
			t.Errorf("%+v: Validate = %v, want an error naming network.rules[0].key", bad, err)
		}
	}
}

func TestInstantiatePrograms(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{
		{Path: "$PROGS", Access: []string{"execute", "read_file"}},
	}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	got, warnings, err := p.Instantiate(Invocation{Args: []string{"sh", "-c", "xz -dc x | tail"}, Dir: "/w", Programs: []string{"/usr/bin/xz", "/usr/bin/tail"}})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Instantiate: %v %v", err, warnings)
	}
	var rules []string
	for _, r := range got.Filesystem.Rules {
		rules = append(rules, r.Path+" "+strings.Join(r.Access, ","))
	}
	if s, want := strings.Join(rules, "; "), "/usr/bin/tail execute,read_file; /usr/bin/xz execute,read_file"; s != want {
		t.Errorf("rules %s, want %s", s, want)
	}
	// Nothing but execute and read_file, whatever the profile says.
	p.Filesystem.Rules[0].Access = []string{"execute", "read_file", "write_file"}
	got, warnings, err = p.Instantiate(Invocation{Args: []string{"sh", "-c", "xz"}, Dir: "/w", Programs: []string{"/usr/bin/xz"}})
	if err != nil || len(got.Filesystem.Rules) != 1 || strings.Join(got.Filesystem.Rules[0].Access, ",") != "execute,read_file" || len(warnings) != 1 || !strings.Contains(warnings[0], "write_file on a program the command line names is never granted") {
		t.Errorf("write on a program: %v %+v %q", err, got.Filesystem.Rules, warnings)
	}
	if _, err := ParseTemplate("$PROGS/x"); err == nil {
		t.Error("$PROGS/x parsed")
	}
}

func TestCommandWords(t *testing.T) {
	got := CommandWords([]string{"bash", "-c", `case "$1" in *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac | tail -n 2`, "bash", "./x", "a b", "python3.13", "--opt=cat"})
	want := []string{"case", "in", "gzip", "cat", "esac", "tail", "2", "bash", "a", "b", "python3.13"}
	if !slices.Equal(got, want) {
		t.Errorf("CommandWords = %q, want %q", got, want)
	}
}

func TestInstantiateConfigPaths(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{
		{Path: "$ARG2[root]", Access: []string{"read_file", "read_dir"}},
		{Path: "$ARG2[error_log]/..", Access: []string{"write_file", "make_reg"}},
	}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		conf       string
		want, warn string
	}{
		{"root /srv/b/www;\nerror_log /srv/b/logs/e.log;\n", "/srv/b/logs write_file,make_reg; /srv/b/www read_file,read_dir", ""},
		// Relative paths are the program's to resolve: none.
		{"root www;\nerror_log /srv/b/logs/e.log;\n", "/srv/b/logs write_file,make_reg", "has no root line with an absolute path"},
		// The promises of every template hold: nothing in a system tree.
		{"root /etc;\nerror_log /etc/e.log;\n", "", "in a system tree"},
		// Nor a home, its secret directories or /tmp: a file is not the
		// command line, and someone else may have written it.
		{"root /home/u/.ssh;\nerror_log /srv/b/logs/e.log;\n", "/srv/b/logs write_file,make_reg", "/home/u/.ssh is never granted as a whole unless the command line names it"},
		{"root /tmp;\nerror_log /srv/b/logs/e.log;\n", "/srv/b/logs write_file,make_reg", "/tmp is never granted as a whole"},
	} {
		got, warnings, err := p.Instantiate(Invocation{Args: []string{"srv", "-c", "b.conf"}, Dir: "/w", Env: []string{"HOME=/home/u"}, Files: map[int][]byte{2: []byte(tc.conf)}})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, r := range got.Filesystem.Rules {
			rules = append(rules, r.Path+" "+strings.Join(r.Access, ","))
		}
		if s := strings.Join(rules, "; "); s != tc.want {
			t.Errorf("%q: rules %s, want %s", tc.conf, s, tc.want)
		}
		if w := strings.Join(warnings, "\n"); (tc.warn == "") != (w == "") || !strings.Contains(w, tc.warn) {
			t.Errorf("%q: warnings %q, want %q", tc.conf, w, tc.warn)
		}
	}
}

// TestInstantiateConfigMutable: a file whose lines give ports and paths
// gives none when the rules let the target change it or put another in
// its place, through its own path or the one its symlinks resolve to:
// the target would choose its next run's rules.
func TestInstantiateConfigMutable(t *testing.T) {
	conf := map[int][]byte{2: []byte("root /srv/www;\nlisten 8081;\n")}
	for _, tc := range []struct {
		name  string
		other PathRule
		want  string // the rules from the file, or ""
	}{
		{"reads beside it", PathRule{Path: "/w/conf", Access: []string{"read_file", "read_dir"}}, "/srv/www bind_tcp 8081"},
		{"writes in a sibling", PathRule{Path: "/w/logs", Access: []string{"write_file", "make_reg"}}, "/srv/www bind_tcp 8081"},
		{"writes it", PathRule{Path: "/w/conf/b.conf", Access: []string{"write_file"}}, ""},
		{"makes files beside it", PathRule{Path: "/w/conf", Access: []string{"make_reg", "remove_file"}}, ""},
		{"removes a directory above it", PathRule{Path: "/w", Access: []string{"remove_dir", "make_dir"}}, ""},
		{"writes where its symlink leads", PathRule{Path: "/data", Access: []string{"truncate"}}, ""},
		{"writes a name it begins", PathRule{Path: "/w/conf/b.conf.d", Access: []string{"write_file"}}, "/srv/www bind_tcp 8081"},
		{"a template that writes it", PathRule{Path: "$ARG2", Access: []string{"write_file"}}, ""},
	} {
		p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow,
			Filesystem: &Filesystem{Rules: []PathRule{{Path: "$ARG2[root]", Access: []string{"read_file"}}, tc.other}},
			Network:    &Network{Rules: []PortRule{{Access: "bind_tcp", Port: 8080, From: "$ARG2", Key: "listen"}}}}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		got, warnings, err := p.Instantiate(Invocation{Args: []string{"srv", "-c", "conf/b.conf"}, Dir: "/w", Files: conf, FilePaths: map[int]string{2: "/data/b.conf"}})
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, r := range got.Filesystem.Rules {
			if r.Path == "/srv/www" {
				rules = append(rules, r.Path)
			}
		}
		for _, r := range got.Network.Rules {
			rules = append(rules, fmt.Sprintf("%s %d", r.Access, r.Port))
		}
		if s := strings.Join(rules, " "); s != tc.want {
			t.Errorf("%s: rules from the file %q, want %q", tc.name, s, tc.want)
		}
		w := strings.Join(warnings, "\n")
		if changes := strings.Contains(w, "the target may change the file argument 2 names"); changes != (tc.want == "") {
			t.Errorf("%s: warnings %q", tc.name, w)
		}
	}
	// Without a filesystem section Landlock restricts no file.
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow,
		Network: &Network{Rules: []PortRule{{Access: "bind_tcp", Port: 8080, From: "$ARG2", Key: "listen"}}}}
	got, warnings, err := p.Instantiate(Invocation{Args: []string{"srv", "-c", "conf/b.conf"}, Dir: "/w", Files: conf})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Network.Rules) != 0 || !strings.Contains(strings.Join(warnings, "\n"), "the profile restricts no file") {
		t.Errorf("no filesystem section: ports %+v, warnings %q", got.Network.Rules, warnings)
	}
}

func TestConfigFile(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{"/w/site.conf", true}, {"/etc/mysql/my.cnf", true}, {"php.ini", true}, {"/w/config.yaml", true}, {"haproxy.cfg", true},
		{"/w/.conf", false}, // a hidden file named as an ending only
		{"/w/SHA256SUMS", false}, {"/w/sums.md5", false}, {"/w/data.csv", false}, {"/w/job.sh", false}, {"/w/site.conf.bak", false},
	} {
		if got := ConfigFile(tc.p); got != tc.want {
			t.Errorf("ConfigFile(%q) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestInstantiateOptions(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{
		{Path: "$OPT[-F]/..", Access: []string{"write_file", "make_reg"}},
		{Path: "$OPT[--config]", Access: []string{"read_file"}},
	}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		want, warn string
	}{
		// Options added before it, the value elsewhere.
		{[]string{"cpio", "-o", "-v", "-H", "newc", "-F", "out/a.cpio", "--config=/w/c.cfg"}, "/w/c.cfg read_file; /w/out write_file,make_reg", ""},
		// A value after "--" is an operand, not the option's.
		{[]string{"cpio", "--", "-F", "x"}, "", "gives option -F no path"},
	} {
		checkInstantiated(t, p, tc.args, tc.want, tc.warn)
	}
}

// TestInstantiateOperands: $OPERANDS[n] follows the operands that end
// the command line, wherever options put them, and more files after
// the first; never an option's value before them, nor / or a system
// tree.
func TestInstantiateOperands(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActAllow, Filesystem: &Filesystem{Rules: []PathRule{
		{Path: "$OPERANDS[4]", Access: []string{"write_file"}},
	}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args       []string
		want, warn string
	}{
		// As recorded: tidy -q -o out1.html in1.html.
		{[]string{"tidy", "-q", "-o", "out1.html", "in1.html"}, "/w/in1.html write_file", ""},
		// Options added before it, one with a value: not the value.
		{[]string{"tidy", "-q", "-config", "c.cfg", "-o", "o.html", "/a/in3.html"}, "/a/in3.html write_file", ""},
		// Options dropped: the last argument, even after an option.
		{[]string{"tidy", "-q", "-asxhtml", "in2.html"}, "/w/in2.html write_file", ""},
		// More files after the first, back to argument 4 only.
		{[]string{"sed", "-i", "-E", "s/a/b/", "x", "sub/y"}, "/w/sub/y write_file; /w/x write_file", ""},
		// A command line ending in an option names no operand.
		{[]string{"tidy", "in.html", "-q"}, "", "ends in no operand"},
		// / and the system's trees are never granted.
		{[]string{"tidy", "-q", "-o", "o.html", "/etc/passwd"}, "", "system tree"},
	} {
		checkInstantiated(t, p, tc.args, tc.want, tc.warn)
	}
}

func TestTrailingOperands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		from int
		want []int
	}{
		{[]string{"p", "a"}, 1, []int{1}},
		{[]string{"p", "-o", "x", "a", "b"}, 1, []int{4, 3}},
		{[]string{"p", "-o", "x", "a", "b"}, 4, []int{4}},
		{[]string{"p", "-q", "a"}, 1, []int{2}},
		{[]string{"p", "a", "-q"}, 1, nil},
		{[]string{"p", "-"}, 1, []int{1}},
		{[]string{"p"}, 1, nil},
	} {
		if got := TrailingOperands(tc.args, tc.from); !slices.Equal(got, tc.want) {
			t.Errorf("TrailingOperands(%q, %d) = %v, want %v", tc.args, tc.from, got, tc.want)
		}
	}
}

// checkInstantiated instantiates p's rules from args in /w and compares
// them ("path rights; ...") and its warnings (a substring, "" for none)
// with want and warn.
func checkInstantiated(t *testing.T, p *Profile, args []string, want, warn string) {
	t.Helper()
	got, warnings, err := p.Instantiate(Invocation{Args: args, Dir: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, r := range got.Filesystem.Rules {
		rules = append(rules, r.Path+" "+strings.Join(r.Access, ","))
	}
	if s := strings.Join(rules, "; "); s != want {
		t.Errorf("%v: rules %s, want %s", args, s, want)
	}
	if w := strings.Join(warnings, "\n"); (warn == "") != (w == "") || !strings.Contains(w, warn) {
		t.Errorf("%v: warnings %q, want %q", args, w, warn)
	}
}

func TestCommandOperands(t *testing.T) {
	for _, tc := range []struct {
		arg, cmd string
		want     []string
	}{
		{"ed -s a.txt < cmds", "ed", []string{"a.txt"}},
		{"seq 10 | tee out.log", "tee", []string{"out.log"}},
		{"seq 3 | tee -a /var/log/app.log", "tee", []string{"/var/log/app.log"}},
		{"sort in > out", ">", []string{"out"}},
		{"sort in >> out 2> err", ">>", []string{"out"}},
		{"LC_ALL=C /usr/bin/sort -o s in", "sort", []string{"in"}},
		{"cat a | tee x; tee y < z", "tee", []string{"x", "y"}},
		{"echo tee x", "tee", nil},
		{"tee", "tee", nil},
		{"wc -l data.txt", "ed", nil},
		{"cp a b", "cp", []string{"a", "b"}},
		// What the shell gives the command, not every word after it
		// (the review's): an option's value is an input (sed -f), a
		// newline or an operator without blanks ends the command, a
		// comment is no word, a redirection with its descriptor number
		// takes its file, quotes are removed.
		{"sed -i -f /srv/rules.sed f.txt", "sed", []string{"f.txt"}},
		{"seq 3 | tee out.log\nsha256sum /srv/release.tar", "tee", []string{"out.log"}},
		{"seq 3|tee out.log|gzip>/srv/a.gz", "tee", []string{"out.log"}},
		{"tee out.log&& cat /srv/in", "tee", []string{"out.log"}},
		{"tee out.log # a copy of /srv/in", "tee", []string{"out.log"}},
		{"tee out.log 1> /dev/null 0< /srv/in", "tee", []string{"out.log"}},
		{"ed -s a.txt <<EOF", "ed", []string{"a.txt"}},
		{"ed -s a.txt 2>&1 | tee 'my log' \"b;c\" d\\ e", "tee", []string{"my log", "b;c", "d e"}},
		{"seq 3 >out 2>/srv/err 1>>o2", ">", []string{"out"}},
		{"seq 3 >out 2>/srv/err 1>>o2", ">>", []string{"o2"}},
		{"echo 'x; tee' /srv/in", "tee", nil},
		{"cd build && make 2>&1 | tee ../build.log /srv/all.log > ../o", "tee", []string{"/srv/all.log"}},
		{"cd build && make > ../o", ">", nil},
	} {
		if got := CommandOperands(tc.arg, tc.cmd); !slices.Equal(got, tc.want) {
			t.Errorf("CommandOperands(%q, %q) = %q, want %q", tc.arg, tc.cmd, got, tc.want)
		}
	}
}
