package recorder

import (
	"bufio"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
)

// MaxMaxKeys bounds Options.MaxKeys: 2^24 keys take about 3.0 GiB of
// kernel memory, and real programs use a few thousand at most.
const MaxMaxKeys = 1 << 24

// Validate checks the options before anything runs: the target is named
// once, durations are not negative, and the in-kernel maps fit in the
// memory this machine has available. It needs no privilege; errors name
// options as words ("max keys"), never as command-line flags.
func (o Options) Validate() error {
	return o.validate(memAvailable)
}

func (o Options) validate(available func() (uint64, error)) error {
	n := 0
	if len(o.Command) > 0 || o.Cgroup != "" {
		n++
	}
	if o.PID != 0 {
		n++
	}
	if n != 1 {
		return ErrNoTarget
	}
	if o.PID < 0 {
		return fmt.Errorf("pid %d is negative", o.PID)
	}
	switch {
	case o.Duration < 0:
		return fmt.Errorf("duration %s is negative", o.Duration)
	case o.StopTimeout < 0:
		return fmt.Errorf("stop timeout %s is negative", o.StopTimeout)
	case o.ProgressInterval < 0:
		return fmt.Errorf("progress interval %s is negative", o.ProgressInterval)
	}
	if o.Transition != nil {
		if err := o.Transition.Check(allArches()); err != nil {
			return fmt.Errorf("transition: %w", err)
		}
	}
	if o.MaxKeys < 0 {
		return fmt.Errorf("max keys %d: want at least 1 (0 means the default, %d)", o.MaxKeys, DefaultMaxKeys)
	}
	keys := o.maxKeys()
	need := mapMemory(keys)
	if keys > MaxMaxKeys {
		return fmt.Errorf("max keys %d needs about %s of kernel memory; at most %d keys (about %s) are allowed", keys, gib(need), MaxMaxKeys, gib(mapMemory(MaxMaxKeys)))
	}
	avail, err := available()
	if err != nil {
		// Without /proc/meminfo the kernel still refuses what it cannot
		// give; only the early, clear answer is lost.
		return nil
	}
	if need > avail {
		return fmt.Errorf("max keys %d needs about %s of kernel memory; this machine has %s available", keys, gib(need), gib(avail))
	}
	return nil
}

// allArches are the arches whose syscall names a transition may use.
func allArches() []*linuxabi.Arch {
	var out []*linuxabi.Arch
	for _, name := range linuxabi.ArchNames() {
		if a, err := linuxabi.LookupArch(name); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// maxKeys is the size of the counts map.
func (o Options) maxKeys() int {
	if o.MaxKeys == 0 {
		return DefaultMaxKeys
	}
	return o.MaxKeys
}

// errnoKeys sizes the errnos map for a counts map of keys entries: only
// failed calls have errnos.
func errnoKeys(keys int) int { return max(keys/4, 64) }

// mapMemory estimates the kernel memory of the counts and errnos maps
// of keys entries when full. Both are hash maps allocated as used (a
// recording takes the memory of the keys it saw, not of its maximum):
// each element a 48-byte htab_elem header and an 8-byte free-list node
// plus key and value rounded up to 8 bytes, and the bucket array, made
// at once, a power of two of 16-byte buckets (Linux 6.18; older kernels
// differ by a few bytes an element). TestMapMemory checks the estimate
// against the kernel's own count (memlock in /proc/self/fdinfo).
func mapMemory(keys int) uint64 {
	hash := func(n int, key, value uintptr) uint64 {
		const header, bucket = 48 + 8, 16
		elem := header + (key+7)&^7 + (value+7)&^7
		buckets := uint64(1) << bits.Len64(uint64(n)-1)
		return uint64(n)*uint64(elem) + buckets*bucket
	}
	return hash(keys, unsafe.Sizeof(bpfprog.Key{}), 8) + hash(errnoKeys(keys), unsafe.Sizeof(bpfprog.ErrKey{}), 8)
}

// gib formats a byte count for a person.
func gib(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
}

// memAvailable reads MemAvailable from /proc/meminfo.
func memAvailable() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse /proc/meminfo: %w", err)
			}
			return kb << 10, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}
