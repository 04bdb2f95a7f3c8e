package linuxabi

import (
	"slices"
	"testing"
)

// TestLandlockDowngrade: each ABI keeps what it handles and names what it
// drops, scopes included.
func TestLandlockDowngrade(t *testing.T) {
	rs := LandlockRuleset{
		HandledFS:  LandlockFSRights(LandlockABI),
		HandledNet: LandlockNetRights(LandlockABI),
		Scoped:     LandlockScopeSignal | LandlockScopeAbstractUnixSocket,
		Paths:      []LandlockPath{{Path: "/x", Access: LandlockReadFile | LandlockTruncate}},
		Ports:      []LandlockPort{{Port: 80, Access: LandlockConnectTCP}},
	}
	for _, tc := range []struct {
		abi     int
		scoped  uint64
		ports   int
		path    uint64
		dropped []string
	}{
		{7, rs.Scoped, 1, LandlockReadFile | LandlockTruncate, nil},
		{6, rs.Scoped, 1, LandlockReadFile | LandlockTruncate, nil},
		{5, 0, 1, LandlockReadFile | LandlockTruncate, []string{"scope abstract_unix_socket", "scope signal"}},
		{3, 0, 0, LandlockReadFile | LandlockTruncate, []string{"ioctl_dev", "bind_tcp", "connect_tcp", "scope abstract_unix_socket", "scope signal"}},
		{2, 0, 0, LandlockReadFile, []string{"truncate", "ioctl_dev", "bind_tcp", "connect_tcp", "scope abstract_unix_socket", "scope signal"}},
	} {
		got, dropped := rs.Downgrade(tc.abi)
		if got.Scoped != tc.scoped || len(got.Ports) != tc.ports || got.Paths[0].Access != tc.path || !slices.Equal(dropped, tc.dropped) {
			t.Errorf("ABI %d: scoped %#x, %d ports, path access %#x, dropped %q; want %#x, %d, %#x, %q",
				tc.abi, got.Scoped, len(got.Ports), got.Paths[0].Access, dropped, tc.scoped, tc.ports, tc.path, tc.dropped)
		}
	}
	if rs.Paths[0].Access != LandlockReadFile|LandlockTruncate {
		t.Error("Downgrade changed its input's rules")
	}
}

func TestLandlockScopeNames(t *testing.T) {
	m, err := ParseLandlockScopes([]string{"signal", "abstract_unix_socket"})
	if err != nil || m != LandlockScopeSignal|LandlockScopeAbstractUnixSocket {
		t.Fatalf("ParseLandlockScopes: %#x, %v", m, err)
	}
	if got := LandlockScopeNames(m); !slices.Equal(got, []string{"abstract_unix_socket", "signal"}) {
		t.Errorf("LandlockScopeNames: %q", got)
	}
	if _, err := ParseLandlockScopes([]string{"ptrace"}); err == nil || err.Error() != `unknown scope "ptrace" (want abstract_unix_socket, signal)` {
		t.Errorf("unknown scope: %v", err)
	}
	if _, err := ParseLandlockFS([]string{"read"}); err == nil || err.Error()[:29] != `unknown access right "read" (` {
		t.Errorf("unknown right: %v", err)
	}
}
