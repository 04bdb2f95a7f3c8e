package linuxabi

import "strconv"

// errnoNumbers are the errnos profiles and recordings name; numbers are the same on every Linux arch we
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

// ErrnoNumber returns the number of the errno called name (upper case).
func ErrnoNumber(name string) (uint16, bool) {
	nr, ok := errnoNumbers[name]
	return nr, ok
}
