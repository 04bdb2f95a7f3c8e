package linuxabi

import "debug/elf"

// DefaultLibraryDirs are the directories the dynamic loader searches last
// for a library of machine m (after the cache): the Debian multiarch
// directories of m, then the psABI's /lib64 and /usr/lib64, then /lib and
// /usr/lib.
func DefaultLibraryDirs(m elf.Machine) []string {
	var dirs []string
	if t, ok := multiarch[m]; ok {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// multiarch is the Debian library directory tuple per machine.
var multiarch = map[elf.Machine]string{elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_AARCH64: "aarch64-linux-gnu"}
