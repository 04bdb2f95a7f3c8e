package recorder

import (
	"encoding/binary"
	"fmt"

	"github.com/sysrec/sysrec/bpfprog"
	"github.com/sysrec/sysrec/linuxabi"
	"github.com/sysrec/sysrec/profiles"
)

// arrayCounts calls f with the key and count of every nonzero entry of
// the calls array: calls[(slot*KeyPhases+phase)*MaxNr+nr] counts call
// nr, without its arguments, of the exe the slots map gave that slot,
// made in phase.
func arrayCounts(s *session, f func(bpfprog.Key, uint64)) error {
	names := map[uint32]bpfprog.ExeName{}
	var name bpfprog.ExeName
	var slot uint32
	it := s.maps["slots"].Iterate()
	for it.Next(&name, &slot) {
		names[slot] = name
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read exe slots: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	mem, err := s.maps["calls"].Memory()
	if err != nil {
		return fmt.Errorf("map calls: %w", err)
	}
	buf := make([]byte, 8*bpfprog.MaxNr*bpfprog.KeyPhases)
	for slot, name := range names {
		if _, err := mem.ReadAt(buf, int64(slot)*int64(len(buf))); err != nil {
			return fmt.Errorf("read calls of slot %d: %w", slot, err)
		}
		for i := range uint32(bpfprog.MaxNr * bpfprog.KeyPhases) {
			if v := binary.NativeEndian.Uint64(buf[8*i:]); v != 0 {
				f(bpfprog.Key{Nr: i % bpfprog.MaxNr, Phase: uint16(i / bpfprog.MaxNr), Exe: name.Name}, v)
			}
		}
	}
	return nil
}

func lostCount(s *session) (uint64, error) {
	return statSum(s, bpfprog.StatLostKeys, bpfprog.StatLostErrnos, bpfprog.StatLostExes, bpfprog.StatLostLeft, bpfprog.StatLostPhases)
}

// statSum adds up the recording's per-CPU stats counters idx.
func statSum(s *session, idx ...uint32) (uint64, error) {
	var sum uint64
	for _, i := range idx {
		var perCPU []uint64
		if err := s.stats.Lookup(s.id*bpfprog.StatCount+i, &perCPU); err != nil {
			return 0, fmt.Errorf("read stats: %w", err)
		}
		for _, v := range perCPU {
			sum += v
		}
	}
	return sum, nil
}

// readMaps turns the kernel's aggregates into samples; calls of the
// compat ABI become samples of its arch (Sample.Arch), and each sample
// of a recording that tracked phases (rec.Transition) has the phase it
// was counted in.
func readMaps(s *session, arch *linuxabi.Arch, rec *Recording) error {
	native := argMasks(arch)
	compat, hasCompat := compatArch(arch)
	var compatMasks *[bpfprog.MaxNr]bpfprog.ArgMask
	if hasCompat {
		compatMasks = argMasks(compat)
	}
	index := map[bpfprog.Key]int{}
	add := func(k bpfprog.Key, v uint64) {
		a, masks, sampleArch := arch, native, ""
		if k.Abi != 0 && hasCompat {
			a, masks, sampleArch = compat, compatMasks, compat.Name
		}
		s := profiles.Sample{Arch: sampleArch, Nr: int(int32(k.Nr)), Name: a.SyscallName(int(int32(k.Nr))), Args: k.Args, Count: v, Exe: k.ExeName()}
		if rec.Transition != nil {
			s.Phase = profiles.PhaseInit
			if k.Phase == bpfprog.KeyServing {
				s.Phase = profiles.PhaseServing
			}
		}
		if k.Nr < bpfprog.MaxNr {
			for i, m := range masks[k.Nr].Mask {
				s.Recorded[i] = m != 0
			}
		}
		index[k] = len(rec.Samples)
		rec.Samples = append(rec.Samples, s)
	}
	var k bpfprog.Key
	var v uint64
	it := s.maps["counts"].Iterate()
	for it.Next(&k, &v) {
		add(k, v)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	// The calls array holds other keys (calls without recorded
	// arguments of an exe with a slot) than the hash map.
	if err := arrayCounts(s, add); err != nil {
		return err
	}
	var ek bpfprog.ErrKey
	eit := s.maps["errnos"].Iterate()
	for eit.Next(&ek, &v) {
		i, ok := index[ek.Key]
		if !ok {
			// Only when a thread's serving mark could not be read at the
			// call's exit (its storage busy on that CPU): rare.
			continue
		}
		s := &rec.Samples[i]
		if s.Errors == nil {
			s.Errors = map[uint16]uint64{}
		}
		s.Errors[uint16(ek.Err)] += v
	}
	if err := eit.Err(); err != nil {
		return fmt.Errorf("read errnos: %w", err)
	}
	lost, err := lostCount(s)
	if err != nil {
		return err
	}
	rec.Lost += lost
	compatCalls, err := statSum(s, bpfprog.StatCompat)
	if err != nil {
		return err
	}
	rec.Compat += compatCalls
	var name bpfprog.ExeName
	var left []profiles.ExeCount
	lit := s.maps["exes_left"].Iterate()
	for lit.Next(&name, &v) {
		left = append(left, profiles.ExeCount{Exe: bpfprog.CString(name.Name), Count: v})
	}
	if err := lit.Err(); err != nil {
		return fmt.Errorf("read processes that left: %w", err)
	}
	rec.Left = profiles.AddExeCounts(rec.Left, left)
	return nil
}
