package pipeline

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sysrec/sysrec/analyze"
)

// A stop request during the analysis of the target (a big binary takes
// seconds) ends Reachable at once with its cause.
func TestReachableStops(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	analyzeBinary = func(string, analyze.Options) (*analyze.Result, error) {
		close(started)
		<-release // slower than any deadline below
		return &analyze.Result{}, nil
	}
	t.Cleanup(func() { analyzeBinary = analyze.Binary })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() {
		_, err := Reachable(ctx, []string{exe}, 0)
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the analysis did not start")
	}
	stop := errors.New("stopped (terminated)")
	cancel(stop)
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Errorf("got %v, want the stop request", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reachable still analysing 10 s after the stop request")
	}
}
