package pipeline

import (
	"fmt"
	"strings"
)

// UnitCgroup is the cgroup v2 path, relative to the cgroup2 mount, of
// the running system unit name ("nginx" is nginx.service): systemd puts
// a system service's processes in system.slice/NAME.service.
func UnitCgroup(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return "", fmt.Errorf("unit name %q", name)
	}
	if !strings.HasSuffix(name, ".service") && !strings.HasSuffix(name, ".scope") {
		name += ".service"
	}
	return "system.slice/" + name, nil
}
