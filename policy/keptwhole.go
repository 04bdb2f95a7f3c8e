package policy

import (
	"path"
	"slices"
	"strings"
)

// sharedDirs hold files of many owners: reads are never widened to them
// as a whole, nor granted on them from a template.
var sharedDirs = []string{
	"/", "/etc", "/home", "/root", "/tmp", "/var", "/var/tmp", "/var/lib", "/var/log",
	"/var/cache", "/var/spool", "/var/mail", "/run", "/dev", "/dev/shm", "/mnt", "/media",
	"/srv", "/opt", "/boot", "/usr", "/usr/local", "/sys", "/proc", "/lib", "/lib64", "/bin", "/sbin",
}

// secretDirs, under a home directory, hold keys and tokens.
// Some are files: ~/.netrc, ~/.git-credentials, ~/.pgpass, ~/.my.cnf,
// ~/.Xauthority (the X server's cookies), ~/.ICEauthority.
var secretDirs = []string{".ssh", ".gnupg", ".aws", ".kube", ".docker", ".password-store", ".netrc", ".config/gcloud", ".azure", ".pki",
	".git-credentials", ".pgpass", ".my.cnf", ".Xauthority", ".ICEauthority"}

// loginDirs, under a home directory, hold what runs at login or is found
// on $PATH: never written as a whole.
var loginDirs = []string{".config", ".config/autostart", ".config/systemd", ".config/systemd/user", ".local", ".local/bin", ".local/share"}

// startDirs, under a home directory, hold files other programs run or
// trust as they start (Fedora's .bashrc sources ~/.bashrc.d/*, vim
// loads ~/.vim/plugin, emacs ~/.emacs.d/init.el, IPython its startup
// scripts, gradle its init.d, irssi its autorun, Firefox a profile's
// user.js): no file is made in them, though a rule may write them.
var startDirs = []string{".bashrc.d", ".zshrc.d", ".oh-my-zsh", ".vim", ".emacs.d", ".ipython", ".jupyter", ".gradle",
	".m2", ".cargo", ".subversion", ".irssi", ".weechat", ".mutt", ".tmux", ".mozilla", ".thunderbird"}

// systemTrees hold what the system installed and runs: the same files
// next run, whatever the command line says.
var systemTrees = []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/opt", "/proc", "/sys", "/dev"}

// PublicTree reports whether p is beneath /usr: what the distribution
// installed for everyone to read (documentation, licences, data, code),
// no secret of the host's, and a file a command line names there to be
// read is the person's choice (cat -n /usr/share/common-licenses/GPL-3).
// /usr itself and /usr/local are shared (Shared) and not public trees.
func PublicTree(p string) bool {
	p = path.Clean(p)
	return strings.HasPrefix(p, "/usr/") && !slices.Contains(sharedDirs, p)
}

// Homes are the home directories d may be or be in: /root, home (the
// target's $HOME, if set), and the /home/NAME d is under.
func Homes(d, home string) []string {
	homes := []string{"/root"}
	if home != "" {
		homes = append(homes, path.Clean(home))
	}
	if rest, ok := strings.CutPrefix(d, "/home/"); ok && rest != "" {
		name, _, _ := strings.Cut(rest, "/")
		homes = append(homes, "/home/"+name)
	}
	return homes
}

// Shared reports whether d is a directory whose files are not one
// program's business (/, /etc, /tmp, /usr, a home directory and its
// secret directories such as ~/.ssh, ...): no rule reads it as a whole
// unless a command line names it.
func Shared(d, home string) bool {
	if slices.Contains(sharedDirs, d) {
		return true
	}
	for _, h := range Homes(d, home) {
		if d == h {
			return true
		}
		for _, s := range secretDirs {
			if sd := path.Join(h, s); d == sd || strings.HasPrefix(d, sd+"/") {
				return true
			}
		}
	}
	return false
}

// KeptWhole reports whether d is a directory no rule learned or
// instantiated by sysrec may grant a write right on as a whole: the
// Shared ones and a home's login directories. Files in them keep rules
// of their own.
func KeptWhole(d, home string) bool {
	if Shared(d, home) {
		return true
	}
	for _, h := range Homes(d, home) {
		for _, l := range loginDirs {
			if d == path.Join(h, l) {
				return true
			}
		}
	}
	return false
}

// SystemTree reports whether p is, or is under, a directory of the
// installed system (/etc, /usr, /proc, /dev, ...). A command line that
// names such a path names a constant: templates stand for the user's
// files, never the system's.
func SystemTree(p string) bool {
	for _, t := range systemTrees {
		if p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

// loginFiles, directly in a home directory, are read by a shell, the
// login or another program on the user's behalf (what they say runs, or
// who may log in): sysrec's supervisor never makes one for a target
// (profiles' filesystem.made), whatever a profile says, and the reducer
// never proposes one. Sources: bash(1) INVOCATION, zsh(1) STARTUP/SHUTDOWN
// FILES, pam_env(8), readline(3) (inputrc's macros run commands), ssh(1)
// and rhosts(5), xinit(1), Xsession(5), forward(5), git-config(1)
// (core.fsmonitor and aliases run commands), Debian's skeleton .bashrc
// (sources ~/.bash_aliases), lesskey(1) (LESSOPEN runs a command),
// sensible-editor(1), gdb(1), lldb(1), pdb, psql(1), sqlite3(1), irb(1),
// R's Startup, ghci, perldebug(1), hgrc(5) (hooks), mail(1), mutt(1),
// xscreensaver(1), xbindkeys(1), ksu(1) (.k5users), yarn (yarn-path
// runs a script), gem(1) and conda's sources, distutils' config, erl(1)
// (~/.erlang runs at start), iex, ocaml, racket, guile, sbcl, octave,
// tclsh and wish start-up files, the mongo shells', R's ~/.Renviron
// (R_PROFILE), ansible.cfg (module paths), terraform's CLI config
// (provider sources), bazelrc, xonsh, dmrc (the session run), wezterm's
// and hyper's configs (Lua, JavaScript).
var loginFiles = []string{
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".bash_aliases", ".profile",
	".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".login", ".logout",
	".kshrc", ".mkshrc", ".pam_environment", ".inputrc", ".xinitrc", ".xserverrc", ".xsession", ".xsessionrc",
	".xprofile", ".xinputrc", ".Xresources", ".Xdefaults", ".xscreensaver", ".xbindkeysrc",
	".forward", ".rhosts", ".shosts", ".k5login", ".k5users",
	".gitconfig", ".hgrc", ".curlrc", ".wgetrc", ".npmrc", ".yarnrc", ".gemrc", ".condarc", ".pypirc", ".pydistutils.cfg",
	".vimrc", ".gvimrc", ".exrc", ".emacs", ".emacs.el", ".screenrc", ".tmux.conf", ".less", ".lesskey", ".selected_editor",
	".gdbinit", ".lldbinit", ".pdbrc", ".psqlrc", ".sqliterc", ".irbrc", ".pryrc", ".Rprofile", ".ghci", ".perldb",
	".mailrc", ".muttrc", ".neomuttrc", ".erlang", ".iex.exs", ".ocamlinit", ".racketrc", ".guile", ".sbclrc",
	".octaverc", ".tclshrc", ".wishrc", ".mongorc.js", ".mongoshrc.js", ".Renviron", ".ansible.cfg", ".terraformrc",
	".bazelrc", ".xonshrc", ".dmrc", ".wezterm.lua", ".hyper.js",
}

// LoginFile reports whether p (absolute and clean) is a file sysrec
// never makes on a target's behalf: one of a home's loginFiles, a
// Kerberos credential cache, or anything in a home's secret, login or
// start-up directories (~/.ssh,
// ~/.config/autostart, ~/.local/bin, ...; a made file's directory is kept
// whole, so these are the ones a made name could be in). Any directory
// counts as a home: $CWD, $TMPDIR or a path may be the home of an
// account sysrec does not know as one (a service's, /var/lib/postgresql),
// whose shell reads its .bashrc all the same.
func LoginFile(p string) bool {
	d, name := path.Dir(p), path.Base(p)
	// A Kerberos credential cache (/tmp/krb5cc_UID, krb5.conf(5)'s
	// default) is a secret its user's clients trust.
	if slices.Contains(loginFiles, name) || strings.HasPrefix(name, "krb5cc_") {
		return true
	}
	for h := d; ; h = path.Dir(h) {
		for _, s := range slices.Concat(secretDirs, loginDirs, startDirs) {
			if sd := path.Join(h, s); p == sd || strings.HasPrefix(p, sd+"/") {
				return true
			}
		}
		if h == "/" || h == "." {
			return false
		}
	}
}
