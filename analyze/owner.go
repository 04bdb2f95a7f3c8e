package analyze

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownedBySelf requires a cache directory or entry to belong to the
// effective user and to be writable by no one else.
func ownedBySelf(path string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner to check", path)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s is owned by uid %d, not by this user (uid %d)", path, st.Uid, uid)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by others (mode %v)", path, info.Mode().Perm())
	}
	return nil
}

// checkAncestor requires a directory above the cache to be one nobody
// but the user and root can rename the cache out of: owned by either,
// and writable by others only with the sticky bit (as /tmp is), which
// keeps them from renaming what they do not own.
func checkAncestor(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner to check", path)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, neither this user (uid %d) nor root", path, st.Uid, uid)
	}
	if info.Mode().Perm()&0o022 != 0 && info.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by others (mode %v)", path, info.Mode().Perm())
	}
	return nil
}
