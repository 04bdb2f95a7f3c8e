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

var landlockFS = []right{
	{"execute", 1 << 0, 1},
	{"write_file", 1 << 1, 1},
	{"read_file", 1 << 2, 1},
	{"read_dir", 1 << 3, 1},
	{"remove_dir", 1 << 4, 1},
	{"remove_file", 1 << 5, 1},
	{"make_char", 1 << 6, 1},
	{"make_dir", 1 << 7, 1},
	{"make_reg", 1 << 8, 1},
	{"make_sock", 1 << 9, 1},
	{"make_fifo", 1 << 10, 1},
	{"make_block", 1 << 11, 1},
	{"make_sym", 1 << 12, 1},
	{"refer", 1 << 13, 2},
	{"truncate", 1 << 14, 3},
	{"ioctl_dev", 1 << 15, 5},
}

var landlockNet = []right{
	{"bind_tcp", 1 << 0, 4},
	{"connect_tcp", 1 << 1, 4},
}

// LandlockFSRights returns the file-system rights Landlock ABI abi
// handles (every right for abi ≥ 5).
func LandlockFSRights(abi int) uint64 {
	var m uint64
	for _, r := range landlockFS {
		if r.abi <= abi {
			m |= r.bit
		}
	}
	return m
}

// LandlockNetRights returns the network rights ABI abi handles (TCP bind
// and connect from ABI 4).
func LandlockNetRights(abi int) uint64 {
	var m uint64
	for _, r := range landlockNet {
		if r.abi <= abi {
			m |= r.bit
		}
	}
	return m
}

// LandlockDirOnly are the rights that mean something only on a directory
// (a rule on a file may not grant them).
const LandlockDirOnly uint64 = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<13

// ParseLandlockFS turns right names into bits, naming the first unknown.
func ParseLandlockFS(names []string) (uint64, error) { return parseRights(names, false) }

// ParseLandlockNet turns network right names into bits.
func ParseLandlockNet(names []string) (uint64, error) { return parseRights(names, true) }

func parseRights(names []string, net bool) (uint64, error) {
	var m uint64
	for _, n := range names {
		found := false
		for _, r := range rightTable(net) {
			if r.name == n {
				m |= r.bit
				found = true
			}
		}
		if !found {
			var known []string
			for _, r := range rightTable(net) {
				known = append(known, r.name)
			}
			return 0, fmt.Errorf("unknown access right %q (want %s)", n, strings.Join(known, ", "))
		}
	}
	return m, nil
}

// LandlockFSNames and LandlockNetNames turn bits into right names, in
// the kernel's bit order.
func LandlockFSNames(m uint64) []string  { return rightNames(m, false) }
func LandlockNetNames(m uint64) []string { return rightNames(m, true) }

func rightNames(m uint64, net bool) []string {
	var out []string
	for _, r := range rightTable(net) {
		if m&r.bit != 0 {
			out = append(out, r.name)
		}
	}
	return out
}

func rightTable(net bool) []right {
	if net {
		return landlockNet
	}
	return landlockFS
}

// LandlockRuleset is a Landlock policy as the kernel takes it: the rights
// it handles (denied unless a rule grants them) and the rules.
type LandlockRuleset struct {
	HandledFS  uint64
	HandledNet uint64
	Paths      []LandlockPath
	Ports      []LandlockPort
}

// LandlockPath grants Access beneath Path (the file itself, or every
// file under a directory).
type LandlockPath struct {
	Path   string
	Access uint64
}

// LandlockPort grants Access (bind_tcp, connect_tcp) on a TCP port.
type LandlockPort struct {
	Port   uint16
	Access uint64
}

// Downgrade returns the ruleset restricted to what ABI abi handles, and
// the rights it had to drop (best effort on an older kernel).
func (r LandlockRuleset) Downgrade(abi int) (LandlockRuleset, []string) {
	out := r
	fs, net := LandlockFSRights(abi), LandlockNetRights(abi)
	dropped := append(LandlockFSNames(r.HandledFS&^fs), LandlockNetNames(r.HandledNet&^net)...)
	out.HandledFS &= fs
	out.HandledNet &= net
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
// knows (Linux 6.15 has 7; rights were last added in 5).
const LandlockABI = 7
