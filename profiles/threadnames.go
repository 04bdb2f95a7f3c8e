package profiles

import (
	"regexp"
	"strconv"
)

// A process may name its threads. A thread names itself with
// prctl(PR_SET_NAME); glibc's pthread_setname_np names another thread of
// its process by writing /proc/self/task/TID/comm (nptl's
// pthread_setname.c), as memcached names its workers. Landlock cannot
// grant that file: the thread does not exist when the rules are made,
// and a rule on /proc/self/task would grant /proc/self/task/TID/mem too,
// a write around W^X. So run's supervisor opens the comm file of a
// thread of the caller's own process for it (Filesystem.ThreadNames),
// and nothing else under /proc.

// ThreadNamesReason is why a profile's threads may be named.
const ThreadNamesReason = "a thread names another thread of its process (pthread_setname_np writes /proc/self/task/TID/comm): run's supervisor opens that file, and no other, for it"

// HasThreadNames reports whether p lets its process name its threads:
// running it needs the supervisor that opens their comm files.
func (p *Profile) HasThreadNames() bool {
	return p.Filesystem != nil && p.Filesystem.ThreadNames
}

var threadComm = regexp.MustCompile(`^/proc/(self|[1-9][0-9]*)/task/([1-9][0-9]*)/comm$`)

// ThreadComm parses a path to a thread's comm file,
// /proc/PID/task/TID/comm or /proc/self/task/TID/comm: the process (0
// for self) and the thread.
func ThreadComm(p string) (pid, tid int, ok bool) {
	m := threadComm.FindStringSubmatch(p)
	if m == nil {
		return 0, 0, false
	}
	if m[1] != "self" {
		if pid, ok = atoi(m[1]); !ok {
			return 0, 0, false
		}
	}
	if tid, ok = atoi(m[2]); !ok {
		return 0, 0, false
	}
	return pid, tid, true
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0 && n <= 1<<22
}
