package main

import (
	"bytes"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpf(2) commands and flags (include/uapi/linux/bpf.h).
const (
	bpfMapUpdateElem   = 2
	bpfMapGetNextID    = 12
	bpfMapGetFDByID    = 14
	bpfObjGetInfoByFD  = 15
	bpfExist           = 2
	bpfMapInfoNameOff  = 24 // struct bpf_map_info: type, id, key_size, value_size, max_entries, map_flags, then name
	bpfMapInfoKeySize  = 8
	bpfMapInfoValSize  = 12
	bpfObjNameLen      = 16
	bpfMapInfoReadSize = 128
)

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	return r, e
}

// resetPhase sets this process's state back to init (0) in every map
// named "phases" with 4-byte keys and values that holds it: the phase
// map of the supervisor that enforces its phases, found by id as any
// process with CAP_SYS_ADMIN may (BPF_MAP_GET_FD_BY_ID). Then it makes
// socket(AF_INET) and answers "maps=N errno=E".
func resetPhase() string {
	var id uint32
	maps := 0
	for {
		attr := [3]uint32{id}
		if _, e := bpfCall(bpfMapGetNextID, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); e != 0 {
			break // ENOENT: no more maps
		}
		id = attr[1]
		attr = [3]uint32{id}
		fd, e := bpfCall(bpfMapGetFDByID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if e != 0 {
			continue
		}
		var info [bpfMapInfoReadSize]byte
		get := struct {
			fd, len uint32
			info    uint64
		}{uint32(fd), uint32(len(info)), uint64(uintptr(unsafe.Pointer(&info[0])))}
		_, e = bpfCall(bpfObjGetInfoByFD, unsafe.Pointer(&get), unsafe.Sizeof(get))
		name := string(bytes.TrimRight(info[bpfMapInfoNameOff:bpfMapInfoNameOff+bpfObjNameLen], "\x00"))
		keySize := *(*uint32)(unsafe.Pointer(&info[bpfMapInfoKeySize]))
		valSize := *(*uint32)(unsafe.Pointer(&info[bpfMapInfoValSize]))
		if e == 0 && name == "phases" && keySize == 4 && valSize == 4 {
			key, val := uint32(syscall.Getpid()), uint32(0)
			upd := struct {
				fd, pad    uint32
				key, value uint64
				flags      uint64
			}{uint32(fd), 0, uint64(uintptr(unsafe.Pointer(&key))), uint64(uintptr(unsafe.Pointer(&val))), bpfExist}
			if _, e := bpfCall(bpfMapUpdateElem, unsafe.Pointer(&upd), unsafe.Sizeof(upd)); e == 0 {
				maps++
			}
		}
		syscall.Close(int(fd))
	}
	return fmt.Sprintf("maps=%d errno=%d", maps, int(doOp(opSocket, nil, nil)))
}
