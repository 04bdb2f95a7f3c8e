package enforce

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sysrec/sysrec/linuxabi"
)

// LandlockMode says what to do when the kernel cannot enforce a profile's
// Landlock ruleset in full.
type LandlockMode string

const (
	// LandlockBestEffort enforces what the kernel's Landlock ABI handles
	// and says on stderr what it had to drop.
	LandlockBestEffort LandlockMode = "best-effort"
	// LandlockRequired refuses to run the target unless every right of
	// the ruleset is enforced.
	LandlockRequired LandlockMode = "required"
)

// LandlockVersion returns the Landlock ABI version of the running
// kernel, or an error when Landlock is not available.
func LandlockVersion() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0, fmt.Errorf("landlock: %w", errno)
	}
	return int(v), nil
}

// rulesetAttr is struct landlock_ruleset_attr up to ABI 6 (scoped); larger
// than an older kernel's is fine as long as the fields it does not know
// are zero.
type rulesetAttr struct {
	handledFS  uint64
	handledNet uint64
	scoped     uint64
}

// pathBeneathAttr is the packed struct landlock_path_beneath_attr (12
// bytes; the kernel reads no further).
type pathBeneathAttr struct {
	allowed  uint64
	parentFD int32
	_        int32
}

type netPortAttr struct {
	allowed uint64
	port    uint64
}

// fileWriteRights change a file's content: refused on a file with
// several names.
const fileWriteRights = linuxabi.LandlockWriteFile | linuxabi.LandlockTruncate

// restrictLandlock puts the calling thread (and what it execs) under rs
// (nil: no rules of the profile) with the scopes guard added: scopes
// sysrec needs for itself, enforced as far as the kernel can whatever
// mode says. Call it after no_new_privs, on a locked OS thread. Warnings
// (what the kernel cannot enforce in best-effort mode, rule paths that
// do not exist) are returned for the caller to print.
func restrictLandlock(rs *linuxabi.LandlockRuleset, mode LandlockMode, guard uint64) (warnings []string, err error) {
	abi, err := LandlockVersion()
	if err != nil {
		if rs != nil && mode == LandlockRequired {
			return nil, fmt.Errorf("landlock required but not available: %w", err)
		}
		if rs != nil {
			warnings = append(warnings, "landlock is not available: files and ports are not restricted")
		}
		if guard != 0 {
			warnings = append(warnings, guardWarning(abi, guard))
		}
		return warnings, nil
	}
	var eff linuxabi.LandlockRuleset
	if rs != nil {
		var dropped []string
		eff, dropped = rs.Downgrade(abi)
		if len(dropped) > 0 {
			if mode == LandlockRequired {
				return nil, fmt.Errorf("landlock required but ABI %d cannot enforce %s", abi, strings.Join(dropped, ", "))
			}
			warnings = append(warnings, fmt.Sprintf("landlock ABI %d cannot enforce %s: not restricted", abi, strings.Join(dropped, ", ")))
		}
	}
	if g := guard & linuxabi.LandlockScopes(abi); g != guard {
		warnings = append(warnings, guardWarning(abi, guard&^g))
	}
	eff.Scoped |= guard & linuxabi.LandlockScopes(abi)
	if eff.HandledFS == 0 && eff.HandledNet == 0 && eff.Scoped == 0 {
		return warnings, nil // nothing this kernel can restrict
	}
	attr := rulesetAttr{handledFS: eff.HandledFS, handledNet: eff.HandledNet, scoped: eff.Scoped}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if errno != 0 {
		return nil, fmt.Errorf("create landlock ruleset: %w", errno)
	}
	defer unix.Close(int(fd))
	var missing []string
	for _, r := range eff.Paths {
		if r.Access == 0 {
			continue
		}
		if !path.IsAbs(r.Path) {
			// A template ($ARG2, $CWD): instantiated from the command line
			// before the ruleset gets here, or a caller forgot to.
			return nil, fmt.Errorf("landlock rule %s: a template, not instantiated from the command line", r.Path)
		}
		pfd, err := openRulePath(procSelf(r.Path, os.Getpid()))
		if errors.Is(err, unix.ENOENT) {
			// Nothing there to grant on; creating it needs a right on
			// its directory, which another rule grants or not.
			if !r.Optional {
				missing = append(missing, r.Path)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("landlock rule %s: %w", r.Path, err)
		}
		access := r.Access
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil {
			unix.Close(pfd)
			return nil, fmt.Errorf("landlock rule %s: %w", r.Path, err)
		}
		if r.RegularOnly && st.Mode&unix.S_IFMT != unix.S_IFREG {
			unix.Close(pfd)
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			access &^= linuxabi.LandlockDirOnly
			// A rule is on the inode: a file given another name (a hard
			// link planted beside a recorded output, as a symlink could
			// be) would take the right to every name it has.
			if access&fileWriteRights != 0 && st.Nlink > 1 {
				unix.Close(pfd)
				return nil, fmt.Errorf("landlock rule %s: the file has %d hard links: a write right on it reaches every one of its names", r.Path, st.Nlink)
			}
		}
		pb := pathBeneathAttr{allowed: access, parentFD: int32(pfd)}
		_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, fd, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&pb)), 0, 0, 0)
		unix.Close(pfd)
		if errno != 0 {
			return nil, fmt.Errorf("landlock rule %s: %w", r.Path, errno)
		}
	}
	if len(missing) > 0 {
		warnings = append(warnings, fmt.Sprintf("landlock: %d rule paths do not exist and grant nothing: %s", len(missing), strings.Join(missing, " ")))
	}
	for _, p := range eff.Ports {
		if p.Access == 0 {
			continue
		}
		np := netPortAttr{allowed: p.Access, port: uint64(p.Port)}
		const ruleNetPort = 2 // LANDLOCK_RULE_NET_PORT
		_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, fd, ruleNetPort, uintptr(unsafe.Pointer(&np)), 0, 0, 0)
		if errno != 0 {
			return nil, fmt.Errorf("landlock rule port %d: %w", p.Port, errno)
		}
	}
	// Denials of the exec'd target are logged only when asked (ABI 7):
	// run and check explain them from the kernel log.
	var flags uintptr
	if abi >= 7 {
		flags = unix.LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, flags, 0); errno != 0 {
		return nil, fmt.Errorf("landlock restrict self: %w", errno)
	}
	return warnings, nil
}

// guardWarning says which of sysrec's own scopes the kernel (Landlock ABI
// abi, 0 when absent) cannot enforce, and what that leaves open.
func guardWarning(abi int, missing uint64) string {
	what := "landlock is not available"
	if abi > 0 {
		what = fmt.Sprintf("landlock ABI %d has no scopes", abi)
	}
	if missing&linuxabi.LandlockScopeSignal != 0 {
		return what + ": the target can signal processes outside its tree, sysrec included"
	}
	return what + ": " + strings.Join(linuxabi.LandlockScopeNames(missing), ", ") + " not scoped"
}
