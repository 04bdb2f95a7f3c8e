package testenv

import (
	"testing"
	"time"
)

// Within runs f and fails the test if it has not returned after d:
// for code that must not block (a FIFO, a stop request). f keeps
// running after a failure; the test binary's exit ends it.
func Within[T any](t testing.TB, d time.Duration, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		panic("unreachable")
	}
}
