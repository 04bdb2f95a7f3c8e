package main

import (
	"embed"
	"fmt"
)

// The commands' long help and examples are text, kept in help/ (they
// are the man pages' text too): COMMAND.long.txt and
// COMMAND.example.txt.
//
//go:embed help/*.txt
var helpFiles embed.FS

// help returns help/NAME.txt. Every command builds its help when the
// command tree is made, so a missing file fails every test at once.
func help(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic(fmt.Sprintf("help text %s: %v", name, err))
	}
	return string(b)
}
