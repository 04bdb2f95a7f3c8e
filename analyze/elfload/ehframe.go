package elfload

import (
	"encoding/binary"
	"errors"
)

// EHFrameRanges returns the [start, end) code ranges of the FDEs in an
// .eh_frame section loaded at addr: in a stripped library these are the
// only bounds of the functions that are not exported.
func EHFrameRanges(b []byte, addr uint64) ([]Span, error) {
	var out []Span
	fdeEnc := map[int]byte{} // CIE offset → FDE pointer encoding
	for off := 0; off+4 <= len(b); {
		length := uint64(binary.LittleEndian.Uint32(b[off:]))
		hdr := 4
		if length == 0 {
			break
		}
		if length == 0xffffffff {
			if off+12 > len(b) {
				return out, errors.New("truncated 64-bit length")
			}
			length = binary.LittleEndian.Uint64(b[off+4:])
			hdr = 12
		}
		start := off + hdr
		end := start + int(length)
		if end > len(b) || end < start || length < 4 {
			return out, errors.New("entry overruns section")
		}
		id := binary.LittleEndian.Uint32(b[start:])
		if id == 0 {
			enc, err := parseCIE(b[start+4 : end])
			if err == nil {
				fdeEnc[off] = enc
			}
		} else {
			cie := start - int(id)
			enc, ok := fdeEnc[cie]
			if ok {
				p := start + 4
				begin, n, ok1 := readEncoded(b[p:end], enc, addr+uint64(p))
				if ok1 {
					rng, _, ok2 := readEncoded(b[p+n:end], enc&0x0f, 0)
					if ok2 && begin != 0 && rng != 0 {
						out = append(out, Span{Start: begin, End: begin + rng})
					}
				}
			}
		}
		off = end
	}
	return out, nil
}

func parseCIE(b []byte) (byte, error) {
	if len(b) < 2 {
		return 0, errors.New("short CIE")
	}
	version := b[0]
	p := 1
	augEnd := p
	for augEnd < len(b) && b[augEnd] != 0 {
		augEnd++
	}
	if augEnd >= len(b) {
		return 0, errors.New("unterminated augmentation")
	}
	aug := string(b[p:augEnd])
	p = augEnd + 1
	// rest is what follows p: nothing once a damaged CIE has led p
	// past its end.
	rest := func() []byte { return b[min(p, len(b)):] }
	if len(aug) >= 2 && aug[:2] == "eh" {
		p += 8
	}
	_, n := uleb(rest()) // code alignment
	p += n
	_, n = uleb(rest()) // data alignment (sleb, same length)
	p += n
	if version == 1 {
		p++
	} else {
		_, n = uleb(rest())
		p += n
	}
	enc := byte(0) // absptr when there is no 'R'
	if len(aug) == 0 || aug[0] != 'z' {
		return enc, nil
	}
	_, n = uleb(rest())
	p += n
	for _, c := range aug[1:] {
		if p >= len(b) {
			return 0, errors.New("short augmentation data")
		}
		switch c {
		case 'R':
			enc = b[p]
			p++
		case 'L':
			p++
		case 'P':
			penc := b[p]
			p++
			_, m, ok := readEncoded(b[p:], penc&^0x80, 0)
			if !ok {
				return 0, errors.New("bad personality")
			}
			p += m
		case 'S', 'B', 'G':
		default:
			return enc, nil
		}
	}
	return enc, nil
}

// readEncoded reads a DW_EH_PE-encoded pointer; pc is the address of the
// field, for pc-relative encodings.
func readEncoded(b []byte, enc byte, pc uint64) (uint64, int, bool) {
	if enc == 0xff {
		return 0, 0, false
	}
	var v uint64
	var n int
	switch enc & 0x0f {
	case 0x00, 0x04, 0x0c:
		if len(b) < 8 {
			return 0, 0, false
		}
		v, n = binary.LittleEndian.Uint64(b), 8
	case 0x01:
		v, n = uleb(b)
	case 0x02:
		if len(b) < 2 {
			return 0, 0, false
		}
		v, n = uint64(binary.LittleEndian.Uint16(b)), 2
	case 0x0a:
		if len(b) < 2 {
			return 0, 0, false
		}
		v, n = uint64(int64(int16(binary.LittleEndian.Uint16(b)))), 2
	case 0x03:
		if len(b) < 4 {
			return 0, 0, false
		}
		v, n = uint64(binary.LittleEndian.Uint32(b)), 4
	case 0x0b:
		if len(b) < 4 {
			return 0, 0, false
		}
		v, n = uint64(int64(int32(binary.LittleEndian.Uint32(b)))), 4
	case 0x09:
		var s int64
		s, n = sleb(b)
		v = uint64(s)
	default:
		return 0, 0, false
	}
	if n == 0 {
		return 0, 0, false
	}
	switch enc & 0x70 {
	case 0x00:
	case 0x10:
		v += pc
	default: // datarel, textrel, funcrel: not used for FDE addresses on Linux
		return 0, 0, false
	}
	return v, n, true
}

func uleb(b []byte) (uint64, int) {
	var v uint64
	var shift uint
	for i, c := range b {
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, i + 1
		}
		shift += 7
		if shift > 63 {
			return 0, 0
		}
	}
	return 0, 0
}

func sleb(b []byte) (int64, int) {
	var v int64
	var shift uint
	for i, c := range b {
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1
		}
		if shift > 63 {
			return 0, 0
		}
	}
	return 0, 0
}
