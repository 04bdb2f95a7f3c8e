package pipeline

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopOnSignal: the first SIGTERM cancels the context with the
// signal as its cause, after onStop has seen it.
func TestStopOnSignal(t *testing.T) {
	seen := make(chan os.Signal, 1)
	ctx, stop := StopOnSignal(context.Background(), func(s os.Signal) { seen <- s })
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	if s := <-seen; s != syscall.SIGTERM {
		t.Errorf("onStop saw %v", s)
	}
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "stopped (terminated)") {
		t.Errorf("cause %v", cause)
	}
}
