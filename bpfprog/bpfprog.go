package bpfprog

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/cilium/ebpf"
)

// The C structs, as bpf2go lays them out.
type (
	Key      = sysrecKey
	ArgMask  = sysrecArgmask
	ErrKey   = sysrecErrkey
	ExeName  = sysrecExeName
	Objects  = sysrecObjects
	RecState = sysrecRecState
)

// MaxRecordings is how many recordings one loaded object serves at
// once (SYSREC_MAX_RECS): the ids a recording can get.
const MaxRecordings = 256

// Indexes of the per-CPU stats array (enum stat in sysrec.h).
const (
	StatLostKeys   = 0
	StatLostErrnos = 1
	StatLostExes   = 2
	StatCompat     = 3 // calls through another ABI than the native one: counted, not recorded
	StatLostLeft   = 4 // exes_left map full
	StatLostPhases = 5 // a process's phase not stored: calls that may carry the wrong phase
	StatCount      = 6
)

// Key phases (the KEY_* enum in sysrec.h): Key.Phase, and the phase
// dimension of a recording's calls array.
const (
	KeyInit    = 0
	KeyServing = 1
	KeyPhases  = 2
)

// MaxNr bounds the syscall numbers that can carry argument masks
// (SYSREC_MAX_NR).
const MaxNr = 1024

// Version names the compiled object: recorders of the same object can
// share it, those of another build cannot (its maps may differ).
func Version() string {
	h := sha256.Sum256(_SysrecBytes)
	return hex.EncodeToString(h[:6])
}

// Spec returns a fresh copy of the program's collection spec; the caller
// sets its variables and map sizes before loading it.
func Spec() (*ebpf.CollectionSpec, error) { return loadSysrec() }

// ExeName returns k.Exe as a string.
func (k *Key) ExeName() string { return CString(k.Exe) }

// CString returns a NUL-terminated C char array as a string.
func CString(a [16]int8) string {
	b := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
