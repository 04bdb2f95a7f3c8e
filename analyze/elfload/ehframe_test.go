package elfload

import "testing"

// CIEs cut short after their augmentation string: an error or an
// encoding, never a read past the end (the "eh" augmentation's 8 bytes,
// version 1's return-address byte used to take the offset past it).
func TestParseCIEDamaged(t *testing.T) {
	for _, b := range [][]byte{
		{1, 'e', 'h', 0},
		{1, 'z', 'R', 0},
		{1, 'z', 'P', 0, 0x80},
		{3, 'z', 'R', 0, 0x80, 0x80},
		{1, 'e', 'h', 'z', 'R', 0, 1, 2, 3},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("parseCIE(%v): panic: %v", b, r)
				}
			}()
			if _, err := parseCIE(b); err != nil {
				t.Logf("parseCIE(%v): %v", b, err)
			}
		}()
	}
}
