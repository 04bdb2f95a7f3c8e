package reducer

import "debug/buildinfo"

// RuntimeOf returns the runtime whose timing-dependent calls a profile of
// the executable at path needs (RuntimeGo when it carries Go build
// information), or RuntimeNone.
func RuntimeOf(path string) string {
	if _, err := buildinfo.ReadFile(path); err == nil {
		return RuntimeGo
	}
	return RuntimeNone
}
