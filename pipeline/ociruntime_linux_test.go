package pipeline

import "testing"

// TestBundleOf: the bundle of runc's create and run command lines as
// containerd's shim writes them, and none for its other commands.
func TestBundleOf(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		bundle string
		ok     bool
	}{
		{[]string{"--root", "/run/docker/runtime-runc/moby", "--log", "/run/x/log.json", "--log-format", "json", "create", "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "ID"}, "/run/b", true},
		{[]string{"--root=/r", "--systemd-cgroup", "run", "-b", "/b2", "ID"}, "/b2", true},
		{[]string{"create", "--bundle=/b3", "ID"}, "/b3", true},
		{[]string{"create", "ID"}, ".", true},
		{[]string{"--root", "/r", "start", "ID"}, "", false},
		{[]string{"--root", "/r", "delete", "--force", "ID"}, "", false},
		{[]string{"--log", "create", "state", "ID"}, "", false},
	} {
		bundle, ok := bundleOf(tc.args)
		if bundle != tc.bundle || ok != tc.ok {
			t.Errorf("bundleOf(%q) = %q, %v; want %q, %v", tc.args, bundle, ok, tc.bundle, tc.ok)
		}
	}
}
