package profiles

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/policy"
)

// A rule path may be a template: what a command line names is a
// parameter, not a constant. `tar czf a.tgz src` reads src; the profile
// says "read what the command line names" ($ARGS) and "create files
// beside argument 2" ($ARG2/..), and `tar czf b.tgz src2 big` in another
// directory gets those paths. Templates are instantiated by sysrec from
// the new command line and environment before the target runs: the
// person who starts a program chooses its arguments, the program does
// not.
//
//	$ARGS          every argument that names a path, and every word of
//	               an argument of several words (a command for a shell:
//	               script -c "wc -l x"), for reads; but / and the
//	               system's trees
//	$ARGn          the path argument n names (n >= 1; -name=value: value)
//	$ARGn/..       the directory holding it (outputs, files beside it)
//	$ARGn/rel      a path under it
//	$OPERANDS[n]   the operands that end the command line from
//	               argument n on: its last argument, and those before
//	               it back to argument n that are neither options nor
//	               follow one (see TrailingOperands); /.. and /rel as
//	               for $ARGn. Preferred to $ARGn for the last argument:
//	               operands follow options (POSIX), so the next command
//	               line may add or drop options before them, or name
//	               more files after (sed -i s/a/b/ x y)
//	$OPT[-o]       the path the option -o names, wherever it is on the
//	               command line: its next argument (-o out), or its
//	               value (--output=out, with key --output); /.. and /rel
//	               as for $ARGn. Preferred to $ARGn for an option's
//	               value: the next command line may add options before it
//	$ARGn[key]     the absolute paths on the lines of the file argument
//	               n names whose first word is key (nginx -c site.conf:
//	               "root /srv/www;"), with /.. and /rel as for $ARGn
//	$CWD[/rel]     the working directory
//	$HOME[/rel], $TMPDIR[/rel], $XDG_CONFIG_HOME[/rel], $XDG_CACHE_HOME,
//	$XDG_DATA_HOME, $XDG_STATE_HOME, $XDG_RUNTIME_DIR: the environment,
//	with the XDG defaults ($TMPDIR: /tmp)
//	$TTY           the terminal the target is given (/dev/pts/N)
//	$WORDS[cmd]    the paths a command string of the command line (an
//	               argument of several words: sh -c "ed -s f < cmds")
//	               gives the command cmd as operands, or, for cmd > or
//	               >>, redirects output to (see CommandOperands); /.. and
//	               /rel as for $ARGn. A written path in a command string:
//	               the next string may put options before it
//	               (tee -a /var/log/x after tee out.log)
//	$PROGS         the programs the words of the command line name
//	               through $PATH (bash -c 'xz -dc "$1" | tail' names
//	               xz and tail), for execute and read_file only
//
// A port rule's "from": "$ARGn" takes its port from argument n (23456,
// --port=23456, 127.0.0.1:23456); with "key": "listen" it takes it from
// the file argument n names, on its lines whose first word is listen
// (nginx -c site.conf: "listen 127.0.0.1:8080;"; lighttpd -f:
// "server.port = 8080"; redis: "port 6379").

// envVars are the template variables read from the environment, with
// their defaults ("~" is $HOME).
var envVars = []struct{ name, def string }{
	{"HOME", ""},
	{"TMPDIR", "/tmp"},
	{"XDG_CONFIG_HOME", "~/.config"},
	{"XDG_CACHE_HOME", "~/.cache"},
	{"XDG_DATA_HOME", "~/.local/share"},
	{"XDG_STATE_HOME", "~/.local/state"},
	{"XDG_RUNTIME_DIR", ""},
}

// EnvVars are the names of the template variables taken from the
// environment, most specific first.
func EnvVars() []string {
	out := make([]string, 0, len(envVars))
	for i := len(envVars) - 1; i >= 0; i-- {
		out = append(out, envVars[i].name)
	}
	return out
}

// Template is a parsed template path.
type Template struct {
	// Var is ARG, ARGS, OPERANDS, OPT, CWD, TTY, PROGS or one of
	// EnvVars.
	Var string
	// Arg is the argument number of ARG, and the first of OPERANDS.
	Arg int
	// Key, for ARG, stands for the paths on the lines whose first word
	// is Key of the file argument Arg names (ConfigPaths), not for the
	// argument's own path.
	Key string
	// Option, for OPT, is the option whose value the path is (-o,
	// --output); for WORDS, the command (or redirection) whose operands
	// in a command string the paths are.
	Option string
	// Parent is $ARGn/..: the directory holding the argument's path.
	Parent bool
	// Rel is the clean relative path after the variable, or "".
	Rel string
}

func (t Template) String() string {
	s := "$" + t.Var
	if t.Var == "ARG" {
		s += strconv.Itoa(t.Arg)
	}
	if t.Var == "OPERANDS" {
		s += "[" + strconv.Itoa(t.Arg) + "]"
	}
	if t.Key != "" {
		s += "[" + t.Key + "]"
	}
	if t.Option != "" {
		s += "[" + t.Option + "]"
	}
	switch {
	case t.Parent:
		s += "/.."
	case t.Rel != "":
		s += "/" + t.Rel
	}
	return s
}

// Named reports whether the command line names what t stands for: an
// argument's path or a path under it, as opposed to its directory, the
// environment, or a path a file the command line names gives ($ARGn[key]:
// the file may be one someone else wrote, a site or a list).
func (t Template) Named() bool {
	return t.Var == "ARGS" || (t.Var == "ARG" && !t.Parent && t.Key == "") || ((t.Var == "OPT" || t.Var == "OPERANDS" || t.Var == "WORDS") && !t.Parent)
}

// IsTemplate reports whether a rule path is a template.
func IsTemplate(p string) bool { return strings.HasPrefix(p, "$") }

// ParseTemplate reads a template path ("$ARG2/..", "$HOME/.cache/app").
func ParseTemplate(s string) (Template, error) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(s, "$"), "/")
	if !IsTemplate(s) {
		return Template{}, fmt.Errorf("%q is not a template (want $NAME)", s)
	}
	t := Template{Var: name}
	switch {
	case name == "ARGS", name == "CWD", name == "TTY", name == "PROGS", slices.Contains(EnvVars(), name):
	case strings.HasPrefix(name, "OPT["):
		key, ok := strings.CutSuffix(strings.TrimPrefix(name, "OPT["), "]")
		if !ok || !ValidOption(key) {
			return Template{}, fmt.Errorf("template %s: want $OPT[-o] with -o an option (a dash, letters, digits, - and _)", s)
		}
		t.Var, t.Option = "OPT", key
	case strings.HasPrefix(name, "WORDS["):
		key, ok := strings.CutSuffix(strings.TrimPrefix(name, "WORDS["), "]")
		if !ok || !ValidCommand(key) {
			return Template{}, fmt.Errorf("template %s: want $WORDS[cmd] with cmd a command name (letters, digits, . _ + -), > or >>", s)
		}
		t.Var, t.Option = "WORDS", key
	case strings.HasPrefix(name, "OPERANDS["):
		digits, ok := strings.CutSuffix(strings.TrimPrefix(name, "OPERANDS["), "]")
		n, err := strconv.Atoi(digits)
		if !ok || err != nil || digits == "" || digits[0] == '0' || n < 1 {
			return Template{}, fmt.Errorf("template %s: want $OPERANDS[n] with n a number from 1", s)
		}
		t.Var, t.Arg = "OPERANDS", n
	case strings.HasPrefix(name, "ARG"):
		digits := strings.TrimPrefix(name, "ARG")
		if d, key, ok := strings.Cut(digits, "["); ok {
			key, ok = strings.CutSuffix(key, "]")
			if !ok || !validKey(key) {
				return Template{}, fmt.Errorf("template %s: want $ARGn[key] with key the first word of a configuration line", s)
			}
			digits, t.Key = d, key
		}
		n, err := strconv.Atoi(digits)
		if err != nil || digits == "" || digits[0] == '0' && digits != "0" || n < 0 {
			return Template{}, fmt.Errorf("template %s: want $ARGn with n a number from 1", s)
		}
		if n == 0 {
			return Template{}, fmt.Errorf("template %s: argument 0 is the program itself, not a parameter", s)
		}
		t.Var, t.Arg = "ARG", n
	default:
		return Template{}, fmt.Errorf("template %s: unknown variable $%s (want $ARGn, $ARGn[key], $OPERANDS[n], $OPT[-o], $WORDS[cmd], $ARGS, $CWD, $TTY, $PROGS or $%s)", s, name, strings.Join(EnvVars(), ", $"))
	}
	if rest == "" {
		if strings.HasSuffix(s, "/") {
			return Template{}, fmt.Errorf("template %s: not clean (a trailing /)", s)
		}
		return t, nil
	}
	if t.Var == "ARGS" || t.Var == "TTY" || t.Var == "PROGS" {
		return Template{}, fmt.Errorf("template %s: $%s takes no path after it", s, t.Var)
	}
	if rest == ".." {
		if t.Var != "ARG" && t.Var != "OPT" && t.Var != "OPERANDS" && t.Var != "WORDS" {
			return Template{}, fmt.Errorf("template %s: /.. follows $ARGn, $OPERANDS[n], $OPT[-o] or $WORDS[cmd] only (the directory of a path argument)", s)
		}
		t.Parent = true
		return t, nil
	}
	if path.Clean(rest) != rest || rest == "." || rest == ".." || strings.HasPrefix(rest, "../") {
		return Template{}, fmt.Errorf("template %s: %q after $%s is not a clean relative path below it", s, rest, name)
	}
	t.Rel = rest
	return t, nil
}

// Invocation is what a profile's templates are instantiated from: the
// new run's command line and environment.
type Invocation struct {
	// Args is the argv; Args[0] is the program, never a parameter.
	Args []string
	// Dir is the working directory, absolute; relative path arguments
	// are resolved against it.
	Dir string
	// Env is the target's environment (KEY=VALUE, as os.Environ).
	Env []string
	// TTY is the terminal the target is given (/dev/pts/3), or "".
	TTY string
	// Programs are the executables the words of the arguments name
	// through the PATH of Env (see CommandWords), resolved before the
	// target started, symlinks followed: what $PROGS stands for.
	Programs []string
	// Files holds, by argument number, the content of the small regular
	// files the arguments name, read before the target started (see
	// MaxArgFile): a port rule's key finds its port there. The person
	// who starts the program chooses them; the program cannot have
	// changed them yet.
	Files map[int][]byte
	// FilePaths are the paths of Files with symlinks resolved, where
	// known: a rule that lets the target change one is looked for there
	// too (see Instantiate).
	FilePaths map[int]string
	// Links maps each path the arguments name (and its directory) that
	// is, or passes through, a symbolic link to the path it resolves
	// to, read before the target started: rules are on objects, not on
	// links to them (see Instantiate).
	Links map[string]string
	// LinkDirs are, for each path of Links, the directories (symlinks
	// resolved) its resolution looked a name up in: a rule that lets the
	// target change one lets it choose where the path leads.
	LinkDirs map[string][]string
}

// MaxArgFile is the size of the largest file of Invocation.Files: a
// configuration file, not data.
const MaxArgFile = 64 << 10

// configExts are the endings of the names of configuration files.
var configExts = []string{".conf", ".cfg", ".cnf", ".ini", ".toml", ".yaml", ".yml"}

// ConfigFile reports whether the file p names is a configuration file
// by its name (site.conf, my.cnf, php.ini, config.yaml): only those are
// read for Invocation.Files. Another file an argument names is a
// program's input, data someone else may have written (a list of
// checksums, `sha256sum -c SUMS`; a CSV; a script): paths on its lines
// would let it choose what the next run reads, and the program its
// input compromised with it.
func ConfigFile(p string) bool {
	return slices.ContainsFunc(configExts, func(e string) bool { return strings.HasSuffix(p, e) && len(path.Base(p)) > len(e) })
}

// ConfigPorts are the TCP ports on the lines of a configuration file
// whose first word is key: each later word that is a port as ArgPort
// reads it (8080, 127.0.0.1:8080, [::1]:8080), words split at blanks,
// ";", ",", quotes and parentheses, options (name=value) left out. Lines starting with # or // are
// comments.
func ConfigPorts(content []byte, key string) []uint16 {
	var out []uint16
	for _, words := range configLines(content) {
		if words[0] != key {
			continue
		}
		for _, w := range words[1:] {
			if p, ok := ArgPort(w); ok && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ConfigPaths are the absolute paths on the lines of a configuration
// file whose first word is key (words as ConfigPorts splits them),
// cleaned: "root /srv/www;", `server.errorlog = "/var/log/l.log"`.
func ConfigPaths(content []byte, key string) []string {
	var out []string
	for _, words := range configLines(content) {
		if words[0] != key {
			continue
		}
		for _, w := range words[1:] {
			if p := path.Clean(w); path.IsAbs(w) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// ConfigPath is a path a configuration file names on a line, and the
// line's first word.
type ConfigPath struct{ Key, Path string }

// ConfigPathLines are the absolute paths of content with the first word
// of their lines, in the file's order (keys that ConfigPaths reads).
func ConfigPathLines(content []byte) []ConfigPath {
	var out []ConfigPath
	for _, words := range configLines(content) {
		if !validKey(words[0]) {
			continue
		}
		for _, w := range words[1:] {
			if path.IsAbs(w) {
				out = append(out, ConfigPath{words[0], path.Clean(w)})
			}
		}
	}
	return out
}

// ConfigKey is the first word of the first line of content that names
// port as ConfigPorts reads it, or "".
func ConfigKey(content []byte, port uint16) string {
	for _, words := range configLines(content) {
		if !validKey(words[0]) {
			continue
		}
		for _, w := range words[1:] {
			if p, ok := ArgPort(w); ok && p == port {
				return words[0]
			}
		}
	}
	return ""
}

// configLines splits content into lines of words, leaving out comments
// and empty lines. A first word key=value is the key and its value;
// later words holding "=" are an option's name=value (nginx's
// "listen 8080 backlog=4096", "so_keepalive=30m::10") or an operator
// (lighttpd's "=", "=>"), and are left out: an option's value is
// neither the key's port nor its path.
func configLines(content []byte) [][]string {
	var out [][]string
	for line := range strings.Lines(string(content)) {
		words := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(";,\"'(){}", r)
		})
		if len(words) == 0 || strings.HasPrefix(words[0], "#") || strings.HasPrefix(words[0], "//") {
			continue
		}
		if k, v, ok := strings.Cut(words[0], "="); ok && k != "" {
			words = append([]string{k, v}, words[1:]...)
		}
		kept := words[:1]
		for _, w := range words[1:] {
			if w != "" && !strings.Contains(w, "=") {
				kept = append(kept, w)
			}
		}
		out = append(out, kept)
	}
	return out
}

// validKey reports whether k can be the first word of a configuration
// line a port is read from: a name (letters, digits, . _ -), not a
// number, nor a checksum or an identifier (8 or more hex digits and
// dashes): those begin the lines of data, not of configuration
// (`sha256sum -c SUMS`: "<sha256>  /path"), and a list the next run is
// given, which another may have written, must not name what it reads.
func validKey(k string) bool {
	if k == "" || len(k) > 64 || !unicode.IsLetter(rune(k[0])) {
		return false
	}
	if len(k) >= 8 && !strings.ContainsFunc(k, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEF-", r) }) {
		return false
	}
	return asciiWord(k, "._-")
}

// asciiWord reports whether every rune of s is an ASCII letter or
// digit, or one of extra.
func asciiWord(s, extra string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(extra, r)))
	})
}

// Getenv is the value of k in inv.Env (the last one, as exec passes it).
func (inv Invocation) Getenv(k string) (string, bool) {
	for i := len(inv.Env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(inv.Env[i], k+"="); ok {
			return v, true
		}
	}
	return "", false
}

// Var is the value of the template variable name (CWD, TTY or one of
// EnvVars) in inv, with the defaults of EnvVars; "" when it has none.
// Values that are not clean absolute paths count as none.
func (inv Invocation) Var(name string) string {
	v := ""
	switch name {
	case "CWD":
		v = inv.Dir
	case "TTY":
		v = inv.TTY
	default:
		for _, e := range envVars {
			if e.name != name {
				continue
			}
			if s, ok := inv.Getenv(name); ok && s != "" {
				v = s
			} else if rest, ok := strings.CutPrefix(e.def, "~"); ok {
				if h := inv.Var("HOME"); h != "" {
					v = path.Join(h, rest)
				}
			} else {
				v = e.def
			}
		}
	}
	if !path.IsAbs(v) {
		return ""
	}
	return path.Clean(v)
}

// WordPaths are the paths the words of a command-line argument that
// holds several (script -c "wc -l data/x.txt", sh -c) name, resolved
// against dir like ArgPath; none for an argument of one word. After a
// cd, only absolute ones: the shell resolves the others against another
// directory (cd sub && cat ../notes.txt reads ./notes.txt, not
// ../notes.txt).
func WordPaths(arg, dir string) []string {
	words := strings.Fields(arg)
	if len(words) < 2 {
		return nil
	}
	var out []string
	moved := false
	for _, w := range words {
		moved = moved || w == "cd" || w == "pushd" || w == "popd"
		if p, ok := ArgPath(w, dir); ok && (!moved || path.IsAbs(w)) {
			out = append(out, p)
		}
	}
	return out
}

// reservedOps are the reserved words that end a simple command in a
// command string, as its control operators do.
var reservedOps = []string{"{", "}", "!"}

// ValidCommand reports whether c can key a $WORDS template: a command
// name (CommandWords' letters), or an output redirection.
func ValidCommand(c string) bool {
	return c == ">" || c == ">>" || c != "" && len(c) <= 64 && c[0] != '-' && c[0] != '.' && asciiWord(c, "._+-")
}

// CommandOperands are the words a command string arg (an argument of
// several words: sh -c "ed -s f < cmds | tee out") gives cmd: for a
// command name, the operands that end each simple command it begins
// (after assignments and an absolute path's directory), as
// TrailingOperands counts them: its last word, and those before it that
// are neither options nor follow one (sed -i -f rules.sed f.txt gives
// sed f.txt: rules.sed is an option's value, an input); for > or >>,
// the words those redirect output to. Words are split as the shell
// splits them (shellWords): a grant follows what the shell gives cmd,
// not a word it reads otherwise; after a cd, only absolute paths. None
// for an argument of one word.
func CommandOperands(arg, cmd string) []string {
	words := shellWords(arg)
	if len(words) < 2 {
		return nil
	}
	var out, args []string
	start, skip := true, false
	command := ""
	// After a cd the shell resolves a relative path against another
	// directory than the one sysrec resolves it against (cd build &&
	// tee ../b.log writes ./b.log, not ../b.log): only absolute ones
	// are known.
	moved := false
	known := func(w string) bool { return !moved || path.IsAbs(w) }
	end := func() {
		if command == cmd {
			n := len(out)
			for i := len(args) - 1; i >= 0; i-- {
				if isOption(args[i]) || i < len(args)-1 && i > 0 && isOption(args[i-1]) {
					break
				}
				if known(args[i]) {
					out = append(out, args[i])
				}
			}
			slices.Reverse(out[n:])
		}
		moved = moved || command == "cd" || command == "pushd" || command == "popd"
		start, command, args = true, "", nil
	}
	for i, w := range words {
		if skip && !w.op {
			skip = false
			continue // a redirection's file
		}
		skip = false
		switch {
		case w.op && strings.ContainsAny(w.text, "<>"):
			skip = true
			if (w.text == cmd || w.text == ">|" && cmd == ">") && i+1 < len(words) && !words[i+1].op && known(words[i+1].text) {
				out = append(out, words[i+1].text)
			}
		case w.op || slices.Contains(reservedOps, w.text):
			end()
		case start && strings.Contains(w.text, "=") && !strings.HasPrefix(w.text, "-"):
			// An assignment before the command (LC_ALL=C sort).
		case start:
			start, command = false, path.Base(w.text)
		default:
			args = append(args, w.text)
		}
	}
	end()
	return out
}

// shellWord is a word of a command string, or an operator (op).
type shellWord struct {
	text string
	op   bool
}

// shellOperators are the control and redirection operators of sh and
// bash, longest first.
var shellOperators = []string{"<<<", "<<-", "&>>", ">>", "<<", "<>", ">&", "<&", ">|", "&>", "||", "&&", ";;", "|&", "|", "&", ";", "(", ")", "<", ">"}

// shellWords splits a command string as the shell does before it
// expands anything: at blanks, and around operators whether blanks
// surround them or not (tee out.log|cat, 2>/dev/null); a newline ends a
// command as ; does, a # starting a word comments out the rest of its
// line; quotes and backslashes make what they hold part of a word and
// are removed ('a b', "x;y"). A redirection's file descriptor number
// is part of its operator (2>; 1> is >).
func shellWords(s string) []shellWord {
	var out []shellWord
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, shellWord{text: w.String()})
		}
		w.Reset()
		inWord = false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++ // a line continued
				continue
			}
			if i+1 < len(s) {
				i++
				w.WriteByte(s[i])
			}
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				w.WriteByte(s[i])
			}
			inWord = true
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i-- // the newline ends the command
		case c == ' ' || c == '\t':
			flush()
		case c == '\n':
			flush()
			out = append(out, shellWord{text: ";", op: true})
		case strings.IndexByte("|&;()<>", c) >= 0:
			fd := ""
			if inWord && (c == '<' || c == '>') && w.Len() > 0 && strings.Trim(w.String(), "0123456789") == "" {
				// 2> is standard error's, 1> standard output's (>).
				if fd = w.String(); fd == "1" && c == '>' {
					fd = ""
				}
				w.Reset()
				inWord = false
			}
			flush()
			for _, op := range shellOperators {
				if strings.HasPrefix(s[i:], op) {
					out = append(out, shellWord{text: fd + op, op: true})
					i += len(op) - 1
					break
				}
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out
}

// ValidOption reports whether o can be an option a $OPT template keys
// on: a dash and a name (-o, -config, --output), not "-" or "--".
func ValidOption(o string) bool {
	name := strings.TrimLeft(o, "-")
	if !strings.HasPrefix(o, "-") || len(o)-len(name) > 2 || name == "" || len(o) > 64 {
		return false
	}
	return asciiWord(name, "-_")
}

// OptionValues are the values option opt has in args (args[0], the
// program, aside): the argument after each "opt", and the value of each
// "opt=value". An argument after "--" is no option.
func OptionValues(args []string, opt string) []string {
	var out []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out
		case a == opt && i+1 < len(args):
			out = append(out, args[i+1])
			i++
		case strings.HasPrefix(a, opt+"="):
			out = append(out, strings.TrimPrefix(a, opt+"="))
		}
	}
	return out
}

// TrailingOperands are the numbers of the operands that end args from
// argument from on, last first: the last argument, unless it is an
// option, and each argument before it, back to from, that is neither an
// option nor follows one (it might be that option's value: tidy
// -config f.cfg in.html). POSIX's utility syntax (XBD 12.2, guideline
// 9) puts operands after options, so the place of an operand counted
// from the end survives options added or dropped before it, and a list
// of files (sed -i s/a/b/ x y) grows after its first. The last argument
// counts even after an option (tidy -asxhtml in.html): a command line
// ends in its operands.
func TrailingOperands(args []string, from int) []int {
	last := len(args) - 1
	if last < 1 || from < 1 || isOption(args[last]) {
		return nil
	}
	out := []int{last}
	for n := last - 1; n >= from && !isOption(args[n]) && !isOption(args[n-1]); n-- {
		out = append(out, n)
	}
	return out
}

// isOption reports whether a is an option or ends them (-o, --out=x,
// --); "-" (standard input) is an operand.
func isOption(a string) bool { return len(a) > 1 && a[0] == '-' }

// CommandWords are the words of the arguments (args[1:]; each split at
// blanks) that can name a program found through $PATH: a name of
// letters, digits and . _ + - that is not an option (cat, xz,
// python3.13). A shell's command string names the programs it runs
// this way; so do xargs, env, timeout and find -exec.
func CommandWords(args []string) []string {
	var out []string
	for _, a := range args[min(1, len(args)):] {
		for _, w := range strings.Fields(a) {
			if w == "" || len(w) > 255 || w[0] == '-' || w[0] == '.' || slices.Contains(out, w) {
				continue
			}
			if asciiWord(w, "._+-") {
				out = append(out, w)
			}
		}
	}
	return out
}

// ArgPath is the path the command-line argument arg names, resolved
// against dir: the value of an option written -name=value or of an
// operand written name=value (dd if=in of=out; a name of letters,
// digits and _), or arg itself; false for other options ("-o", "-"), an
// empty value and a relative path without dir.
func ArgPath(arg, dir string) (string, bool) {
	if strings.HasPrefix(arg, "-") {
		_, v, ok := strings.Cut(arg, "=")
		if !ok {
			return "", false
		}
		arg = v
	} else if k, v, ok := strings.Cut(arg, "="); ok && k != "" && unicode.IsLetter(rune(k[0])) && asciiWord(k, "_") {
		arg = v
	}
	if arg == "" {
		return "", false
	}
	if !path.IsAbs(arg) {
		if !path.IsAbs(dir) {
			return "", false
		}
		arg = path.Join(dir, arg)
	}
	return path.Clean(arg), true
}

// ArgPort is the TCP port the command-line argument arg names: a decimal
// number from 1 to 65535, alone, as the value of -name=value, or after
// the last ':' (host:port, and socat's TCP-LISTEN:port,options).
func ArgPort(arg string) (uint16, bool) {
	if _, v, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(arg, "-") {
		arg = v
	}
	if i := strings.LastIndexByte(arg, ':'); i >= 0 {
		arg = arg[i+1:]
		// socat's address options follow the port: TCP-LISTEN:8080,fork.
		arg, _, _ = strings.Cut(arg, ",")
	}
	if arg == "" || arg[0] == '+' || arg[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(arg, 10, 16)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint16(n), true
}

// readRights are the rights that change nothing.
const readRights = linuxabi.LandlockReadFile | linuxabi.LandlockReadDir

// Templated reports whether p has a rule or port whose value comes from
// the command line or environment.
func (p *Profile) Templated() bool {
	if p.Filesystem != nil && slices.ContainsFunc(p.Filesystem.Rules, func(r PathRule) bool { return IsTemplate(r.Path) }) {
		return true
	}
	if p.Filesystem != nil && slices.ContainsFunc(p.Filesystem.Made, func(m MadeFile) bool { return IsTemplate(m.Path) }) {
		return true
	}
	return p.Network != nil && slices.ContainsFunc(p.Network.Rules, func(r PortRule) bool { return r.From != "" })
}

// Uses reports whether a rule of p is a template of variable name.
func (p *Profile) Uses(name string) bool {
	if p.Filesystem == nil {
		return false
	}
	uses := func(p string) bool {
		if !IsTemplate(p) {
			return false
		}
		t, err := ParseTemplate(p)
		return err == nil && t.Var == name
	}
	return slices.ContainsFunc(p.Filesystem.Rules, func(r PathRule) bool { return uses(r.Path) }) ||
		slices.ContainsFunc(p.Filesystem.Made, func(m MadeFile) bool { dir, _ := m.Split(); return uses(dir) })
}

// ErrInvocation is returned (wrapped) when an invocation cannot
// instantiate anything: its working directory is not absolute.
var ErrInvocation = errors.New("bad invocation")

// Instantiate returns p with every template replaced by what it names in
// inv (a rule per path; $ARGS gives one per path argument) and every
// port taken from the command line. A template that names nothing in inv
// (an argument the command does not have, or that is an option, an
// unset variable) grants nothing, and a warning says so. Instantiated
// rules keep the promises learned rules keep, whatever the command line
// says, and rights that would break them are dropped with a warning:
//   - no write right on a directory kept whole (/, /etc, /tmp, $HOME, ...:
//     KeptWhole), so `tool /` or `tool ~` does not turn an output
//     template into a write right on / or $HOME;
//   - no right at all on a Shared directory unless the command line
//     names that very path (a directory of an argument, or the
//     working directory, that is / or /etc grants nothing);
//   - nothing on / or in a system tree (/etc, /usr, /proc, ...) but
//     the terminal: templates stand for the user's files, and a profile
//     of `cat notes` does not read /etc/shadow when asked to.
//
// Warnings name the rule. The result has no templates.
func (p *Profile) Instantiate(inv Invocation) (*Profile, []string, error) {
	if !path.IsAbs(inv.Dir) {
		return nil, nil, fmt.Errorf("instantiate templates: working directory %q is not absolute: %w", inv.Dir, ErrInvocation)
	}
	c := p.Clone()
	var warnings []string
	home := inv.Var("HOME")
	// Rules from the lines of a file an argument names, by argument:
	// kept only if no rule lets the target change that file.
	keyed := map[int][]PathRule{}
	keyedNames := map[int][]string{}
	var linked []linkedRule
	keyedPorts := map[int][]PortRule{}
	keyedPortNames := map[int][]string{}
	if fs := c.Filesystem; fs != nil {
		var rules []PathRule
		for _, r := range fs.Rules {
			if !IsTemplate(r.Path) {
				rules = append(rules, r)
				continue
			}
			t, err := ParseTemplate(r.Path)
			if err != nil {
				return nil, nil, err // validated
			}
			paths, why := t.expand(inv)
			if why != "" {
				warnings = append(warnings, fmt.Sprintf("landlock rule %s: %s; it grants nothing", r.Path, why))
			}
			access, _ := linuxabi.ParseLandlockFS(r.Access) // validated
			for _, ap := range paths {
				if to, ok := inv.Links[ap]; ok && t.followsLinks() {
					linked = append(linked, linkedRule{t, r, ap, to, access})
					continue
				}
				keep, why := t.allowed(ap, access, home)
				if why != "" && t.Var != "ARGS" {
					// $ARGS reads what the command line names of the
					// user's files: its other arguments are no surprise.
					warnings = append(warnings, fmt.Sprintf("landlock rule %s (%s): %s", r.Path, ap, why))
				}
				if keep == 0 {
					continue
				}
				rule := PathRule{Path: ap, Access: linuxabi.LandlockFSNames(keep), Count: r.Count, Reason: r.Reason, optional: t.Var == "ARGS" || t.Var == "TTY" || t.Var == "PROGS"}
				if t.Key != "" {
					keyed[t.Arg] = append(keyed[t.Arg], rule)
					if !slices.Contains(keyedNames[t.Arg], r.Path) {
						keyedNames[t.Arg] = append(keyedNames[t.Arg], r.Path)
					}
					continue
				}
				rules = append(rules, rule)
			}
		}
		fs.Rules = rules
	}
	warnings = append(warnings, c.instantiateMade(inv)...)
	if n := c.Network; n != nil {
		var rules []PortRule
		for _, r := range n.Rules {
			if r.From == "" {
				rules = append(rules, r)
				continue
			}
			t, _ := ParseTemplate(r.From) // validated
			if t.Arg >= len(inv.Args) {
				warnings = append(warnings, fmt.Sprintf("landlock port rule %s %s: the command has no argument %d; it grants nothing", r.Access, r.From, t.Arg))
				continue
			}
			if r.Key != "" {
				ports := ConfigPorts(inv.Files[t.Arg], r.Key)
				if len(ports) == 0 {
					warnings = append(warnings, fmt.Sprintf("landlock port rule %s %s %s: the file argument %d names (%q) has no %s line with a port; it grants nothing", r.Access, r.From, r.Key, t.Arg, inv.Args[t.Arg], r.Key))
				}
				keyedPortNames[t.Arg] = append(keyedPortNames[t.Arg], fmt.Sprintf("%s %s %s", r.Access, r.From, r.Key))
				for _, port := range ports {
					keyedPorts[t.Arg] = append(keyedPorts[t.Arg], PortRule{Access: r.Access, Port: port, Count: r.Count, Reason: r.Reason})
				}
				continue
			}
			port, ok := ArgPort(inv.Args[t.Arg])
			if !ok {
				warnings = append(warnings, fmt.Sprintf("landlock port rule %s %s: argument %d (%q) is not a port; it grants nothing", r.Access, r.From, t.Arg, inv.Args[t.Arg]))
				continue
			}
			r.Port, r.From = port, ""
			rules = append(rules, r)
		}
		n.Rules = rules
	}
	// A file the target may change, or replace, chooses the next run's
	// ports and paths: the person who starts the program chose its
	// name, not what the program writes in it.
	var all []PathRule // nil: no filesystem section, no file is restricted
	if c.Filesystem != nil {
		all = append([]PathRule{}, c.Filesystem.Rules...)
	}
	for _, rs := range keyed {
		all = append(all, rs...)
	}
	// A link the command line names grants on what it resolves to, as
	// the kernel follows it when the target opens it, unless the target
	// may have put it there: a rule lets it change the link's
	// directory, or any directory its resolution looked in (a link
	// reached through another), the rules on what other links resolve
	// to included.
	for _, l := range linked {
		all = append(all, PathRule{Path: l.to, Access: l.r.Access})
	}
	for _, l := range linked {
		if why := changes(append([]string{path.Dir(l.link)}, inv.LinkDirs[l.link]...), all); why != "" {
			warnings = append(warnings, fmt.Sprintf("landlock rule %s (%s): a symlink where the target may have made it (%s); it grants nothing", l.r.Path, l.link, why))
			continue
		}
		// A link that leaves the directory holding it points outside
		// what the command line named: an input that is a link to
		// ~/.ssh/id_rsa, whoever made it, is refused as the file it
		// names would be.
		base := path.Dir(l.link)
		if r, ok := inv.Links[base]; ok {
			base = r
		}
		if l.to != base && !strings.HasPrefix(l.to, base+"/") && base != "/" {
			warnings = append(warnings, fmt.Sprintf("landlock rule %s (%s): a symlink out of its directory (to %s); it grants nothing", l.r.Path, l.link, l.to))
			continue
		}
		keep, why := l.t.allowed(l.to, l.access, home)
		if why != "" {
			warnings = append(warnings, fmt.Sprintf("landlock rule %s (%s, a symlink to %s): %s", l.r.Path, l.link, l.to, why))
		}
		if keep != 0 {
			c.Filesystem.Rules = append(c.Filesystem.Rules, PathRule{Path: l.to, Access: linuxabi.LandlockFSNames(keep), Count: l.r.Count, Reason: l.r.Reason, optional: l.t.Var == "ARGS"})
		}
	}
	for _, n := range slices.Sorted(maps.Keys(keyed)) {
		if why := inv.mutable(n, all); why != "" {
			for _, name := range keyedNames[n] {
				warnings = append(warnings, fmt.Sprintf("landlock rule %s: the target may change the file argument %d names (%q: %s); it grants nothing", name, n, inv.Args[n], why))
			}
			continue
		}
		c.Filesystem.Rules = append(c.Filesystem.Rules, keyed[n]...)
	}
	for _, n := range slices.Sorted(maps.Keys(keyedPorts)) {
		if why := inv.mutable(n, all); why != "" {
			for _, name := range keyedPortNames[n] {
				warnings = append(warnings, fmt.Sprintf("landlock port rule %s: the target may change the file argument %d names (%q: %s); it grants nothing", name, n, inv.Args[n], why))
			}
			continue
		}
		c.Network.Rules = append(c.Network.Rules, keyedPorts[n]...)
	}
	c.normalizeLandlock()
	return c, warnings, nil
}

// changeRights are the rights that let a rule's holder change a file at
// or below the rule's path, or put another in its place.
const changeRights = ^(readRights | linuxabi.LandlockExecute | linuxabi.LandlockIoctlDev)

// mutable says which of rules lets the target change the file argument
// n names (its path, or the one FilePaths resolved), or "". Nil rules
// are a profile without a filesystem section: Landlock restricts no
// file.
func (inv Invocation) mutable(n int, rules []PathRule) string {
	var files []string
	if p, ok := ArgPath(inv.Args[n], inv.Dir); ok {
		files = append(files, p)
	}
	if p := inv.FilePaths[n]; p != "" {
		files = append(files, path.Clean(p))
	}
	return changes(files, rules)
}

// linkedRule is a template's rule on a path the command line names
// through a symbolic link.
type linkedRule struct {
	t        Template
	r        PathRule
	link, to string
	access   uint64
}

// followsLinks reports whether t's paths are the command line's own,
// which may name a link sysrec resolves before the target runs.
func (t Template) followsLinks() bool {
	return t.Var == "ARGS" || t.Var == "OPT" || t.Var == "OPERANDS" || t.Var == "ARG" && t.Key == ""
}

// changes says which of rules lets the target change, or replace, one
// of files, or "". Nil rules are a profile without a filesystem
// section: Landlock restricts no file.
func changes(files []string, rules []PathRule) string {
	if rules == nil {
		return "the profile restricts no file: the target may write any"
	}
	for _, r := range rules {
		access, _ := linuxabi.ParseLandlockFS(r.Access)
		if access&changeRights == 0 {
			continue
		}
		for _, f := range files {
			if r.Path == f || r.Path == "/" || strings.HasPrefix(f, r.Path+"/") {
				return fmt.Sprintf("%s grants %s", r.Path, strings.Join(linuxabi.LandlockFSNames(access&changeRights), ","))
			}
		}
	}
	return ""
}

// at is the path t stands for where its variable's value is p: p's
// directory for /.., the path under p for /rel, p itself.
func (t Template) at(p string) string {
	if t.Parent {
		return path.Dir(p)
	}
	return path.Join(p, t.Rel)
}

// expand returns the paths t stands for in inv, or why there are none.
func (t Template) expand(inv Invocation) ([]string, string) {
	switch t.Var {
	case "ARGS":
		var out []string
		for _, a := range inv.Args[min(1, len(inv.Args)):] {
			if p, ok := ArgPath(a, inv.Dir); ok {
				out = append(out, p)
			}
			out = append(out, WordPaths(a, inv.Dir)...)
		}
		return out, ""
	case "ARG":
		if t.Arg >= len(inv.Args) {
			return nil, fmt.Sprintf("the command has no argument %d", t.Arg)
		}
		if t.Key != "" {
			var out []string
			for _, p := range ConfigPaths(inv.Files[t.Arg], t.Key) {
				out = append(out, t.at(p))
			}
			if len(out) == 0 {
				return nil, fmt.Sprintf("the file argument %d names (%q) has no %s line with an absolute path", t.Arg, inv.Args[t.Arg], t.Key)
			}
			return out, ""
		}
		p, ok := ArgPath(inv.Args[t.Arg], inv.Dir)
		if !ok {
			return nil, fmt.Sprintf("argument %d (%q) names no path", t.Arg, inv.Args[t.Arg])
		}
		return []string{t.at(p)}, ""
	case "OPERANDS":
		var out []string
		for _, n := range TrailingOperands(inv.Args, t.Arg) {
			if p, ok := ArgPath(inv.Args[n], inv.Dir); ok {
				out = append(out, t.at(p))
			}
		}
		if len(out) == 0 {
			return nil, "the command line ends in no operand that names a path"
		}
		return out, ""
	case "OPT":
		var out []string
		for _, v := range OptionValues(inv.Args, t.Option) {
			if p, ok := ArgPath(v, inv.Dir); ok {
				out = append(out, t.at(p))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Sprintf("the command line gives option %s no path", t.Option)
		}
		return out, ""
	case "WORDS":
		var out []string
		for _, a := range inv.Args[min(1, len(inv.Args)):] {
			for _, w := range CommandOperands(a, t.Option) {
				if p, ok := ArgPath(w, inv.Dir); ok {
					out = append(out, t.at(p))
				}
			}
		}
		if len(out) == 0 {
			return nil, fmt.Sprintf("no command string of the command line gives %s a path", t.Option)
		}
		return out, ""
	case "PROGS":
		return inv.Programs, ""
	case "TTY":
		if v := inv.Var("TTY"); v != "" {
			return []string{v}, ""
		}
		return nil, "" // no terminal: nothing to grant, nothing to say
	}
	v := inv.Var(t.Var)
	if v == "" {
		return nil, fmt.Sprintf("$%s is not set to an absolute path", t.Var)
	}
	return []string{path.Join(v, t.Rel)}, ""
}

// allowed returns the rights of access that t may grant on p, which it
// instantiated to, and why it dropped the others.
func (t Template) allowed(p string, access uint64, home string) (uint64, string) {
	switch {
	case t.Var == "TTY":
		if strings.HasPrefix(p, "/dev/pts/") || strings.HasPrefix(p, "/dev/tty") || strings.HasPrefix(p, "/dev/console") {
			return access, ""
		}
		return 0, "not a terminal; it grants nothing"
	case t.Var == "PROGS":
		// A program the command line names runs, wherever it is
		// installed; nothing else of it is granted.
		if !path.IsAbs(p) || p == "/" {
			return 0, "not a program's path; it grants nothing"
		}
		if w := access &^ (linuxabi.LandlockExecute | linuxabi.LandlockReadFile); w != 0 {
			return access &^ w, fmt.Sprintf("%s on a program the command line names is never granted; dropped", strings.Join(linuxabi.LandlockFSNames(w), ","))
		}
		return access, ""
	case p == "/":
		return 0, "/ is never granted from a template (it holds every file); it grants nothing"
	case t.Named() && access&^readRights == 0 && policy.PublicTree(p):
		// A file the command line names for reading in /usr: the
		// distribution's, world-readable (the case below is for the
		// host's own: /etc, /proc, /dev).
		return access, ""
	case policy.SystemTree(p):
		return 0, "in a system tree: templates stand for the user's files, never the system's; it grants nothing"
	case !t.Named() && policy.Shared(p, home):
		return 0, fmt.Sprintf("%s is never granted as a whole unless the command line names it; it grants nothing", p)
	}
	if w := access &^ (readRights | linuxabi.LandlockExecute); w != 0 && policy.KeptWhole(p, home) {
		return access &^ w, fmt.Sprintf("%s on %s as a whole is never granted (it would reach every file in it); dropped", strings.Join(linuxabi.LandlockFSNames(w), ","), p)
	}
	return access, ""
}
