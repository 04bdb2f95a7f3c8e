package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on a profile, checked on the JSON text before anything is
// decoded, so that a hostile or broken file costs bounded time and
// memory. They sit far above real profiles (a few hundred entries, at
// most 16 values per rule as the reducer writes them, 32 argument tuples
// per entry) and above what the kernel can enforce anyway: a filter has
// at most 4096 instructions, and every entry and every value costs at
// least one.
const (
	// MaxProfileSize is the largest profile file read, in bytes.
	MaxProfileSize = 16 << 20
	// MaxNameLen bounds syscall names (the longest is 23 bytes) and
	// action names.
	MaxNameLen = 64
	maxDepth   = 8
	// maxString bounds every other string: paths (PATH_MAX is 4096),
	// reasons, notes, map keys.
	maxString = 4096
	// maxMembers bounds any other array or object.
	maxMembers = 1024
)

// limit is the most elements (arrays), members (objects) or bytes
// (strings) a field may have, and what they are called in the error.
type limit struct {
	n    int
	what string
}

// fieldLimits are the fields whose bound differs from maxMembers and
// maxString, by path with indexes left out ("syscalls[].args").
var fieldLimits = map[string]limit{
	"arch":                      {16, "architectures"},
	"syscalls":                  {8192, "entries"},
	"syscalls[].name":           {MaxNameLen, "bytes"},
	"syscalls[].action":         {MaxNameLen, "bytes"},
	"syscalls[].args":           {64, "argument rules"},
	"syscalls[].args[].values":  {4096, "values"},
	"syscalls[].errors":         {256, "errno names"},
	"syscalls[].seen":           {4096, "argument tuples"},
	"default_action":            {MaxNameLen, "bytes"},
	"bad_arch_action":           {MaxNameLen, "bytes"},
	"unknown_action":            {MaxNameLen, "bytes"},
	"filesystem.rules":          {8192, "path rules"},
	"filesystem.rules[].access": {32, "rights"},
	"network.rules":             {8192, "port rules"},
	"not_allowed":               {8192, "entries"},
	"not_allowed[].name":        {MaxNameLen, "bytes"},
	"recorded.command":          {65536, "arguments"},
	"recorded.command[]":        {128 << 10, "bytes"}, // MAX_ARG_STRLEN
}

// fieldTotals bound the elements or members of a field summed over the
// whole profile: each value is at least one filter instruction, so more
// than a few times the kernel's 4096 can never be enforced, and show and
// emit work per value.
var fieldTotals = map[string]limit{
	"syscalls[].args":          {16384, "argument rules"},
	"syscalls[].args[].values": {16384, "values"},
	"syscalls[].errors":        {65536, "errno counts"},
	"syscalls[].seen":          {65536, "argument tuples"},
}

func limitOf(pattern string, container bool) limit {
	if l, ok := fieldLimits[pattern]; ok {
		return l
	}
	if container {
		return limit{maxMembers, "members"}
	}
	return limit{maxString, "bytes"}
}

// checkBounds walks the JSON text of a profile and returns a positioned
// error for the first field over its bound. Syntax errors are left to
// the decoder, which describes them.
func checkBounds(b []byte) error {
	if len(b) > MaxProfileSize {
		return fmt.Errorf("%d bytes, more than the %d a profile may have", len(b), MaxProfileSize)
	}
	type frame struct {
		array   bool
		pattern string // path with indexes left out
		key     string // the member being read (objects)
		wantKey bool
		n       int // elements or members so far
		max     limit
	}
	var stack []*frame
	totals := map[string]int{}
	// path names the field being read, with indexes.
	path := func() string {
		var sb strings.Builder
		for _, f := range stack {
			if f.array {
				sb.WriteString("[" + strconv.Itoa(f.n-1) + "]")
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(f.key)
		}
		return sb.String()
	}
	over := func(off int64, what string) error {
		return fmt.Errorf("%s: field %s: %s", position(b, off), path(), what)
	}
	// count adds an element or member to f, at offset off.
	count := func(f *frame, off int64) error {
		if f.n++; f.n > f.max.n {
			return over(off, fmt.Sprintf("more than %d %s", f.max.n, f.max.what))
		}
		if l, ok := fieldTotals[f.pattern]; ok {
			if totals[f.pattern]++; totals[f.pattern] > l.n {
				return over(off, fmt.Sprintf("more than %d %s in the whole profile", l.n, l.what))
			}
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		start := dec.InputOffset()
		for start < int64(len(b)) && strings.IndexByte(" \t\r\n:,", b[start]) >= 0 {
			start++
		}
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder will name
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if s, ok := tok.(string); ok && top != nil && !top.array && top.wantKey {
			top.wantKey = false
			top.key = s
			if err := count(top, start); err != nil {
				return err
			}
			if len(s) > maxString {
				return fmt.Errorf("%s: field %s: a name of %d bytes, more than %d", position(b, start), top.pattern, len(s), maxString)
			}
			continue
		}
		if tok == json.Delim('}') || tok == json.Delim(']') {
			stack = stack[:len(stack)-1]
			continue
		}
		// A value: count it as an element of an array.
		pattern := ""
		if top != nil {
			if top.array {
				if err := count(top, start); err != nil {
					return err
				}
				pattern = top.pattern + "[]"
			} else {
				pattern = top.key
				if top.pattern != "" {
					pattern = top.pattern + "." + top.key
				}
				top.wantKey = true
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxDepth {
				return over(start, fmt.Sprintf("nested more than %d deep", maxDepth))
			}
			stack = append(stack, &frame{array: tok == json.Delim('['), pattern: pattern, wantKey: tok == json.Delim('{'), max: limitOf(pattern, true)})
		default:
			if s, ok := tok.(string); ok {
				if l := limitOf(pattern, false); len(s) > l.n {
					return over(start, fmt.Sprintf("a string of %d bytes, more than %d", len(s), l.n))
				}
			}
		}
	}
}
