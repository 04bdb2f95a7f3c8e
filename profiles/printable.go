package profiles

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Printable returns s as it may be shown on a terminal: s itself when
// every rune is printable, else quoted with Go's escapes ("\x1b[2J",
// "\u009b"). Paths, process names and executables in a profile come from
// the recorded program, which is the attacker: a file it names
// "x\x1b[1A\x1b[2K" would otherwise erase the line above it in show,
// diff, check and run's messages, and hide a rule or a refusal from the
// person reading them.
func Printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
