package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopped is the cause of a context that a signal cancelled.
type stopped struct{ sig os.Signal }

func (s stopped) Error() string { return fmt.Sprintf("stopped (%v)", s.sig) }

// StopOnSignal returns a context that the first SIGINT or SIGTERM
// cancels (after calling onStop with it), as a request to stop and still
// write what was learnt. The signals then get their default action back, so a
// second one ends sysrec at once wherever it is (writing to a FIFO no
// one reads, waiting for a target that ignores SIGTERM). The returned
// function releases the signals.
func StopOnSignal(ctx context.Context, onStop func(os.Signal)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			onStop(s)
			cancel(stopped{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
