package profiles

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ActionKind is what the kernel does when a rule matches.
type ActionKind string

// The actions seccomp offers, named as libseccomp and the kernel's
// /proc/sys/kernel/seccomp/actions_avail name them.
const (
	Allow       ActionKind = "allow"
	KillProcess ActionKind = "kill_process"
	KillThread  ActionKind = "kill_thread"
	Trap        ActionKind = "trap"
	Errno       ActionKind = "errno"
	UserNotif   ActionKind = "user_notif"
	Trace       ActionKind = "trace"
	Log         ActionKind = "log"
)

// Action is an ActionKind plus its 16-bit data (the errno for Errno, the
// message for Trace). In JSON it is a single string: "allow",
// "kill_process", "errno" (EPERM), "errno:ENOSYS" or "errno:38", "trace:7".
type Action struct {
	Kind ActionKind
	Data uint16
}

// Common actions.
var (
	ActAllow       = Action{Kind: Allow}
	ActKillProcess = Action{Kind: KillProcess}
	ActEPERM       = Action{Kind: Errno, Data: 1}
	ActENOSYS      = Action{Kind: Errno, Data: 38}
	ActLog         = Action{Kind: Log}
)

// IsZero reports whether a is unset.
func (a Action) IsZero() bool { return a.Kind == "" }

func (a Action) String() string {
	switch a.Kind {
	case Errno:
		if name, ok := errnoNames[a.Data]; ok {
			if a.Data == 1 {
				return "errno"
			}
			return "errno:" + name
		}
		return "errno:" + strconv.Itoa(int(a.Data))
	case Trace:
		if a.Data != 0 {
			return "trace:" + strconv.Itoa(int(a.Data))
		}
	}
	return string(a.Kind)
}

// ParseAction parses the JSON/CLI spelling of an action. "kill" is
// accepted as kill_process, "deny" as errno (EPERM).
func ParseAction(s string) (Action, error) {
	kind, data, hasData := strings.Cut(s, ":")
	switch ActionKind(kind) {
	case Allow, KillProcess, KillThread, Trap, UserNotif, Log:
		if hasData {
			return Action{}, fmt.Errorf("action %q takes no value", kind)
		}
		return Action{Kind: ActionKind(kind)}, nil
	case "kill":
		return ActKillProcess, nil
	case "deny":
		return ActEPERM, nil
	case Errno:
		if !hasData {
			return ActEPERM, nil
		}
		if nr, ok := errnoNumbers[strings.ToUpper(data)]; ok {
			return Action{Kind: Errno, Data: nr}, nil
		}
		n, err := strconv.ParseUint(data, 10, 16)
		if err != nil || n > 4095 {
			return Action{}, fmt.Errorf("errno %q is not a known name or a number 0..4095", data)
		}
		return Action{Kind: Errno, Data: uint16(n)}, nil
	case Trace:
		if !hasData {
			return Action{Kind: Trace}, nil
		}
		n, err := strconv.ParseUint(data, 10, 16)
		if err != nil {
			return Action{}, fmt.Errorf("trace data %q is not a number 0..65535", data)
		}
		return Action{Kind: Trace, Data: uint16(n)}, nil
	}
	return Action{}, fmt.Errorf("unknown action %q (want allow, kill_process, kill_thread, trap, errno[:NAME], user_notif, trace, log)", s)
}

func (a Action) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

func (a *Action) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("action must be a string")
	}
	v, err := ParseAction(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// The errnos profiles name; numbers are the same on every Linux arch we
// support (asm-generic/errno-base.h and errno.h).
var errnoNumbers = map[string]uint16{
	"EPERM": 1, "ENOENT": 2, "EINTR": 4, "EIO": 5, "EBADF": 9, "EAGAIN": 11,
	"ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17,
	"ENOTDIR": 20, "EINVAL": 22, "ENOTTY": 25, "ENOSPC": 28, "ESPIPE": 29,
	"EROFS": 30, "EPIPE": 32, "ERANGE": 34, "ENOSYS": 38, "ENOTEMPTY": 39,
	"ELOOP": 40, "ENODATA": 61, "EOPNOTSUPP": 95, "EAFNOSUPPORT": 97,
	"EADDRINUSE": 98, "ECONNREFUSED": 111, "EINPROGRESS": 115,
	"ECHILD": 10, "ESRCH": 3, "ENXIO": 6, "E2BIG": 7, "ENOEXEC": 8,
	"EXDEV": 18, "ENODEV": 19, "EISDIR": 21, "ENFILE": 23, "EMFILE": 24,
	"EFBIG": 27, "EMLINK": 31, "EDOM": 33, "EDEADLK": 35, "ENAMETOOLONG": 36,
	"ENOLCK": 37, "ENOTSOCK": 88, "EPROTONOSUPPORT": 93, "ETIMEDOUT": 110,
	"ECONNRESET": 104, "ENOTCONN": 107, "EPROTOTYPE": 91, "ENOPROTOOPT": 92,
	"EADDRNOTAVAIL": 99, "ENETUNREACH": 101, "ECONNABORTED": 103, "EISCONN": 106,
	"EALREADY": 114, "EOVERFLOW": 75, "ENOMSG": 42, "ENOTSUP": 95,
}

var errnoNames = func() map[uint16]string {
	m := make(map[uint16]string, len(errnoNumbers))
	for name, nr := range errnoNumbers {
		if name == "ENOTSUP" { // alias of EOPNOTSUPP
			continue
		}
		m[nr] = name
	}
	return m
}()

// ErrnoName returns the symbolic name of errno nr, or its number.
func ErrnoName(nr uint16) string {
	if name, ok := errnoNames[nr]; ok {
		return name
	}
	return strconv.Itoa(int(nr))
}
