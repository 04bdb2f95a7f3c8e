package cimod

import "testing"

func TestHostname(t *testing.T) {
	h, err := Hostname()
	if err != nil || h == "" {
		t.Fatalf("Hostname() = %q, %v", h, err)
	}
}
