package profiles

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// profileJSON is a valid profile with extra top-level members.
func profileJSON(members string) []byte {
	return []byte(`{"version": 2, "arch": ["x86_64"], "default_action": "kill_process", ` + members + `}`)
}

func repeat(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// Inputs that used to cost minutes or gigabytes (a 20,000-byte syscall
// name, a million entries, a rule with a million values) and one past
// each bound are refused with a positioned error, in bounded time and
// memory.
func TestBounds(t *testing.T) {
	seen := make([]string, 4097)
	for i := range seen {
		seen[i] = fmt.Sprintf(`"k%d": 1`, i)
	}
	for _, tc := range []struct {
		name string
		json []byte
		want string
	}{
		{"long syscall name", profileJSON(`"syscalls": [{"name": "` + strings.Repeat("x", 20000) + `"}]`),
			"line 1, column 92: field syscalls[0].name: a string of 20000 bytes, more than 64"},
		{"a million entries", profileJSON(`"syscalls": [` + repeat(`{"name":"read"}`, 1000000) + `]`),
			"line 1, column 131155: field syscalls[8192]: more than 8192 entries"},
		{"a million values", profileJSON(`"syscalls": [{"name": "socket", "args": [{"index": 0, "op": "in", "values": [` + repeat("1", 1000000) + `]}]}]`),
			"line 1, column 8339: field syscalls[0].args[0].values[4096]: more than 4096 values"},
		{"argument rules", profileJSON(`"syscalls": [{"name": "socket", "args": [` + repeat(`{"index": 0, "op": "in", "values": [1]}`, 65) + `]}]`),
			"field syscalls[0].args[64]: more than 64 argument rules"},
		{"arches", []byte(`{"version": 2, "arch": [` + repeat(`"x86_64"`, 17) + `], "default_action": "allow", "syscalls": []}`),
			"line 1, column 169: field arch[16]: more than 16 architectures"},
		{"path rules", profileJSON(`"syscalls": [], "filesystem": {"rules": [` + repeat(`{"path": "/a", "access": ["read_file"]}`, 8193) + `]}`),
			"field filesystem.rules[8192]: more than 8192 path rules"},
		{"rights", profileJSON(`"syscalls": [], "filesystem": {"rules": [{"path": "/a", "access": [` + repeat(`"read_file"`, 33) + `]}]}`),
			"field filesystem.rules[0].access[32]: more than 32 rights"},
		{"port rules", profileJSON(`"syscalls": [], "network": {"rules": [` + repeat(`{"access": "bind_tcp", "port": 1}`, 8193) + `]}`),
			"field network.rules[8192]: more than 8192 port rules"},
		{"path", profileJSON(`"syscalls": [], "filesystem": {"rules": [{"path": "/` + strings.Repeat("a", 5000) + `", "access": ["read_file"]}]}`),
			"field filesystem.rules[0].path: a string of 5001 bytes, more than 4096"},
		{"argument tuples", profileJSON(`"syscalls": [{"name": "read", "seen": {` + strings.Join(seen, ", ") + `}}]`),
			"field syscalls[0].seen.k4096: more than 4096 argument tuples"},
		{"values in all", profileJSON(`"syscalls": [{"name": "socket", "args": [` + repeat(`{"index": 0, "op": "in", "values": [`+repeat("1", 4096)+`]}`, 5) + `]}]`),
			"field syscalls[0].args[4].values[0]: more than 16384 values in the whole profile"},
		{"argument tuples in all", profileJSON(`"syscalls": [` + repeat(`{"name": "read", "seen": {`+strings.Join(seen[:4096], ", ")+`}}`, 17) + `]`),
			"field syscalls[16].seen.k0: more than 65536 argument tuples in the whole profile"},
		{"action", profileJSON(`"syscalls": [{"name": "read", "action": "errno:` + strings.Repeat("E", 100) + `"}]`),
			"field syscalls[0].action: a string of 106 bytes, more than 64"},
		{"members", profileJSON(`"syscalls": [{` + repeat(`"name": "read"`, 1025) + `}]`),
			"field syscalls[0].name: more than 1024 members"},
		{"depth", profileJSON(`"syscalls": [], "recorded": {"command": [[[[[[["a"]]]]]]]}`),
			"line 1, column 116: field recorded.command[0][0][0][0][0][0]: nested more than 8 deep"},
		{"size", append(profileJSON(`"syscalls": []`), strings.Repeat(" ", MaxProfileSize)...),
			"more than the 16777216 a profile may have"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Parse(tc.json)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
			// Generous for a loaded 2-core machine: each takes a few
			// milliseconds and megabytes.
			if alloc := after.TotalAlloc - before.TotalAlloc; took > 5*time.Second || alloc > 64<<20 {
				t.Errorf("took %v and allocated %d MB, want under 5 s and 64 MB", took, alloc>>20)
			}
		})
	}
}

// show pads a column to its widest cell on every line: one rule with
// thousands of values must not multiply the output by the number of
// entries.
func TestShowBounded(t *testing.T) {
	values := make([]uint64, 4096)
	for i := range values {
		values[i] = uint64(i)
	}
	p := &Profile{Version: 1, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Syscalls: []Syscall{{Name: "socket", Args: []ArgRule{{Index: 0, Op: OpIn, Values: values}}}}}
	for range 2000 {
		p.Syscalls = append(p.Syscalls, Syscall{Name: "read"})
	}
	if n := len(Format(p)); n > 2<<20 {
		t.Errorf("show printed %d MB for 2001 entries", n>>20)
	}
}
