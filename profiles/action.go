package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sysrec/sysrec/linuxabi"
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
		if a.Data == 1 {
			return "errno"
		}
		return "errno:" + linuxabi.ErrnoName(a.Data)
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
		if nr, ok := linuxabi.ErrnoNumber(strings.ToUpper(data)); ok {
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
		return &valueError{raw: b, err: errors.New("action must be a string")}
	}
	v, err := ParseAction(s)
	if err != nil {
		return &valueError{raw: b, err: err}
	}
	*a = v
	return nil
}

// Ret is the SECCOMP_RET_* value the filter returns for a.
func (a Action) Ret() uint32 {
	switch a.Kind {
	case KillProcess:
		return linuxabi.RetKillProcess
	case KillThread:
		return linuxabi.RetKillThread
	case Trap:
		return linuxabi.RetTrap | uint32(a.Data)
	case Errno:
		return linuxabi.RetErrno | uint32(a.Data)&0xfff
	case UserNotif:
		return linuxabi.RetUserNotif
	case Trace:
		return linuxabi.RetTrace | uint32(a.Data)
	case Log:
		return linuxabi.RetLog
	case Allow:
		return linuxabi.RetAllow
	}
	panic(fmt.Sprintf("action %q has no return value", a.Kind))
}

// Allows reports whether a lets the call run (allow, or log and allow).
func (a Action) Allows() bool { return a.Kind == Allow || a.Kind == Log }
