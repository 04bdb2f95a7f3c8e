package recorder

// FreshCgroup is a new cgroup v2 for a target that another package
// starts (check starts its enforcement helper there with clone3
// CLONE_INTO_CGROUP) and that Record then follows (Options.Cgroup).
type FreshCgroup struct{ cg *cgroup }

// NewCgroup makes a fresh child of the cgroup2 root, as Record does for
// a Command.
func NewCgroup() (*FreshCgroup, error) {
	mount, err := CgroupMount()
	if err != nil {
		return nil, err
	}
	cg, err := newCgroup(mount)
	if err != nil {
		return nil, err
	}
	return &FreshCgroup{cg}, nil
}

// Path is the cgroup's directory.
func (c *FreshCgroup) Path() string { return c.cg.path }

// Remove kills what is left in the cgroup and removes it.
func (c *FreshCgroup) Remove() error { return c.cg.remove() }
