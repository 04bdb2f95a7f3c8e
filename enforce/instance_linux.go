package enforce

import "github.com/sysrec/sysrec/linuxabi"

// Instance is rs as the helper that becomes process pid enforces it:
// rule paths under /proc/self and /proc/thread-self name pid's entries
// (see procSelf). check compares what a target did with it.
func Instance(rs *linuxabi.LandlockRuleset, pid int) *linuxabi.LandlockRuleset {
	if rs == nil {
		return nil
	}
	out := *rs
	out.Paths = make([]linuxabi.LandlockPath, len(rs.Paths))
	for i, r := range rs.Paths {
		r.Path = procSelf(r.Path, pid)
		out.Paths[i] = r
	}
	return &out
}
