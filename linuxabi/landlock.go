package linuxabi

import (
	"fmt"
	"slices"
	"strings"
)

// Landlock access rights (include/uapi/linux/landlock.h), named as the
// kernel documentation names them without the LANDLOCK_ACCESS_ prefix.
// Landlock restricts these operations on the resolved object (no
// time-of-check/time-of-use race); it does not restrict stat(2) or
// access(2) on paths.
type right struct {
	name string
	bit  uint64
	abi  int // first ABI version that handles it
}

// Landlock file-system rights, one bit each (LANDLOCK_ACCESS_FS_*).
const (
	LandlockExecute uint64 = 1 << iota
	LandlockWriteFile
	LandlockReadFile
	LandlockReadDir
	LandlockRemoveDir
	LandlockRemoveFile
	LandlockMakeChar
	LandlockMakeDir
	LandlockMakeReg
	LandlockMakeSock
	LandlockMakeFifo
	LandlockMakeBlock
	LandlockMakeSym
	LandlockRefer
	LandlockTruncate
	LandlockIoctlDev
)

// Landlock network rights (LANDLOCK_ACCESS_NET_*).
const (
	LandlockBindTCP uint64 = 1 << iota
	LandlockConnectTCP
)

// Landlock scopes (LANDLOCK_SCOPE_*, ABI 6): a scoped domain may not
// reach processes outside itself (and the domains nested in it) through
// these IPCs.
const (
	LandlockScopeAbstractUnixSocket uint64 = 1 << iota // connect or send to an abstract unix socket
	LandlockScopeSignal                                // send a signal
)

var landlockFS = []right{
	{"execute", LandlockExecute, 1},
	{"write_file", LandlockWriteFile, 1},
	{"read_file", LandlockReadFile, 1},
	{"read_dir", LandlockReadDir, 1},
	{"remove_dir", LandlockRemoveDir, 1},
	{"remove_file", LandlockRemoveFile, 1},
	{"make_char", LandlockMakeChar, 1},
	{"make_dir", LandlockMakeDir, 1},
	{"make_reg", LandlockMakeReg, 1},
	{"make_sock", LandlockMakeSock, 1},
	{"make_fifo", LandlockMakeFifo, 1},
	{"make_block", LandlockMakeBlock, 1},
	{"make_sym", LandlockMakeSym, 1},
	{"refer", LandlockRefer, 2},
	{"truncate", LandlockTruncate, 3},
	{"ioctl_dev", LandlockIoctlDev, 5},
}

var landlockNet = []right{
	{"bind_tcp", LandlockBindTCP, 4},
	{"connect_tcp", LandlockConnectTCP, 4},
}

var landlockScopes = []right{
	{"abstract_unix_socket", LandlockScopeAbstractUnixSocket, 6},
	{"signal", LandlockScopeSignal, 6},
}

// LandlockFSRights returns the file-system rights Landlock ABI abi
// handles (every right for abi ≥ 5).
func LandlockFSRights(abi int) uint64 { return handled(landlockFS, abi) }

// LandlockNetRights returns the network rights ABI abi handles (TCP bind
// and connect from ABI 4).
func LandlockNetRights(abi int) uint64 { return handled(landlockNet, abi) }

// LandlockScopes returns the scopes ABI abi knows (both from ABI 6).
func LandlockScopes(abi int) uint64 { return handled(landlockScopes, abi) }

func handled(table []right, abi int) uint64 {
	var m uint64
	for _, r := range table {
		if r.abi <= abi {
			m |= r.bit
		}
	}
	return m
}

// LandlockDirOnly are the rights that mean something only on a directory
// (a rule on a file may not grant them).
const LandlockDirOnly = LandlockReadDir | LandlockRemoveDir | LandlockRemoveFile | LandlockMakeChar | LandlockMakeDir |
	LandlockMakeReg | LandlockMakeSock | LandlockMakeFifo | LandlockMakeBlock | LandlockMakeSym | LandlockRefer

// LandlockParentRights are the rights Landlock checks on the directory
// holding an object rather than on the object: making it, removing it,
// and linking or renaming it elsewhere (refer).
const LandlockParentRights = LandlockDirOnly &^ LandlockReadDir

// ParseLandlockFS turns right names into bits, naming the first unknown.
func ParseLandlockFS(names []string) (uint64, error) {
	return parseNames(names, landlockFS, "access right")
}

// ParseLandlockNet turns network right names into bits.
func ParseLandlockNet(names []string) (uint64, error) {
	return parseNames(names, landlockNet, "access right")
}

// ParseLandlockScopes turns scope names (signal, abstract_unix_socket)
// into bits.
func ParseLandlockScopes(names []string) (uint64, error) {
	return parseNames(names, landlockScopes, "scope")
}

func parseNames(names []string, table []right, noun string) (uint64, error) {
	var m uint64
	for _, n := range names {
		i := slices.IndexFunc(table, func(r right) bool { return r.name == n })
		if i < 0 {
			var known []string
			for _, r := range table {
				known = append(known, r.name)
			}
			return 0, fmt.Errorf("unknown %s %q (want %s)", noun, n, strings.Join(known, ", "))
		}
		m |= table[i].bit
	}
	return m, nil
}

// LandlockFSNames, LandlockNetNames and LandlockScopeNames turn bits into
// names, in the kernel's bit order.
func LandlockFSNames(m uint64) []string    { return bitNames(m, landlockFS) }
func LandlockNetNames(m uint64) []string   { return bitNames(m, landlockNet) }
func LandlockScopeNames(m uint64) []string { return bitNames(m, landlockScopes) }

func bitNames(m uint64, table []right) []string {
	var out []string
	for _, r := range table {
		if m&r.bit != 0 {
			out = append(out, r.name)
		}
	}
	return out
}

// LandlockRuleset is a Landlock policy as the kernel takes it: the rights
// it handles (denied unless a rule grants them), the rules, and the
// scopes (IPC to processes outside the domain denied).
type LandlockRuleset struct {
	HandledFS  uint64
	HandledNet uint64
	Scoped     uint64
	Paths      []LandlockPath
	Ports      []LandlockPort
}

// LandlockPath grants Access beneath Path (the file itself, or every
// file under a directory).
type LandlockPath struct {
	Path   string
	Access uint64
	// Optional paths that do not exist grant nothing without a word
	// (a template's guesses, such as every argument of a command line).
	Optional bool
	// RegularOnly paths grant nothing unless they are a regular file
	// (a made file's rule: a directory there would take its rights to
	// every file beneath it).
	RegularOnly bool
}

// LandlockPort grants Access (bind_tcp, connect_tcp) on a TCP port.
type LandlockPort struct {
	Port   uint16
	Access uint64
}

// Downgrade returns the ruleset restricted to what ABI abi handles, and
// the rights and scopes ("scope signal") it had to drop (best effort on
// an older kernel).
func (r LandlockRuleset) Downgrade(abi int) (LandlockRuleset, []string) {
	out := r
	fs, net, scopes := LandlockFSRights(abi), LandlockNetRights(abi), LandlockScopes(abi)
	dropped := append(LandlockFSNames(r.HandledFS&^fs), LandlockNetNames(r.HandledNet&^net)...)
	for _, s := range LandlockScopeNames(r.Scoped &^ scopes) {
		dropped = append(dropped, "scope "+s)
	}
	out.HandledFS &= fs
	out.HandledNet &= net
	out.Scoped &= scopes
	out.Paths = slices.Clone(r.Paths)
	for i := range out.Paths {
		out.Paths[i].Access &= out.HandledFS
	}
	out.Ports = nil
	if out.HandledNet != 0 {
		for _, p := range r.Ports {
			p.Access &= out.HandledNet
			out.Ports = append(out.Ports, p)
		}
	}
	return out, dropped
}

// LandlockABI is the newest Landlock ABI version whose rights sysrec
// knows (Linux 6.15 has 7; file rights were last added in 5, scopes in 6,
// denial logging in 7).
const LandlockABI = 7
