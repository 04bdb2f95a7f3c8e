package profiles

import (
	"slices"
	"testing"
)

func TestThreadComm(t *testing.T) {
	for _, tc := range []struct {
		path     string
		pid, tid int
		ok       bool
	}{
		{"/proc/self/task/12/comm", 0, 12, true},
		{"/proc/7/task/12/comm", 7, 12, true},
		{"/proc/self/task/12/mem", 0, 0, false},
		{"/proc/self/task/12/comm/", 0, 0, false},
		{"/proc/self/task/12/../../1/comm", 0, 0, false},
		{"/proc/thread-self/comm", 0, 0, false},
		{"/proc/self/task/0/comm", 0, 0, false},
		{"/proc/self/task/012/comm", 0, 0, false},
		{"/proc/self/task/99999999999999999999/comm", 0, 0, false},
		{"proc/self/task/12/comm", 0, 0, false},
	} {
		pid, tid, ok := ThreadComm(tc.path)
		if pid != tc.pid || tid != tc.tid || ok != tc.ok {
			t.Errorf("ThreadComm(%q) = %d %d %v, want %d %d %v", tc.path, pid, tid, ok, tc.pid, tc.tid, tc.ok)
		}
	}
}

// TestMakingThreadNames: with thread names, each allowed open and openat
// entry gets a copy before it for opens for writing, sent to the
// supervisor; openat2 goes to it whole; other calls stay as they were.
func TestMakingThreadNames(t *testing.T) {
	p := &Profile{Version: 2, Arch: []string{"x86_64"}, DefaultAction: ActKillProcess,
		Syscalls:   []Syscall{{Name: "openat"}, {Name: "openat2"}, {Name: "read"}, {Name: "rename"}},
		Filesystem: &Filesystem{ThreadNames: true}}
	v := p.Making()
	var got []string
	for _, s := range v.Syscalls {
		got = append(got, FormatCall(s)+" "+s.EffectiveAction().String())
	}
	want := []string{"openat(flags & 0x3 ∈ {O_WRONLY, O_RDWR}) user_notif", "openat allow", "openat2 user_notif", "read allow", "rename allow"}
	if !slices.Equal(got, want) {
		t.Errorf("Making:\n%q\nwant\n%q", got, want)
	}
}
