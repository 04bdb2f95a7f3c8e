package linuxabi

import (
	"strconv"
	"strings"
)

// ParseSymbol reads a value printed by Symbolize back: a name of set, a
// number (decimal or 0x hex), or for flags NAME|NAME|0x.. (clone's exit
// signal by its name). ok is false for a part it does not know.
func ParseSymbol(set, s string, flags bool) (v uint64, ok bool) {
	if !flags {
		return parseOne(set, s)
	}
	for _, part := range strings.Split(s, "|") {
		x, ok := parseOne(set, part)
		if !ok && set == "clone" {
			x, ok = parseOne("signal", part)
		}
		if !ok {
			return 0, false
		}
		v |= x
	}
	return v, true
}

func parseOne(set, s string) (uint64, bool) {
	for _, sym := range consts[set] {
		if sym.name == s {
			return sym.v, true
		}
	}
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return v, true
	}
	return 0, false
}
