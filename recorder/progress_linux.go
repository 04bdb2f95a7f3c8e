package recorder

import (
	"time"

	"github.com/sysrec/sysrec/bpfprog"
)

// startProgress calls opts.Progress every interval with what the
// recording's maps hold so far, until the returned stop is called.
func startProgress(s *session, start time.Time, opts Options) (stop func()) {
	if opts.Progress == nil {
		return func() {}
	}
	interval := opts.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := Progress{Elapsed: time.Since(start)}
				var k bpfprog.Key
				var v uint64
				it := s.maps["counts"].Iterate()
				for it.Next(&k, &v) {
					p.Calls += v
					p.Keys++
				}
				arrayCounts(s, func(_ bpfprog.Key, v uint64) {
					p.Calls += v
					p.Keys++
				})
				p.Lost, _ = lostCount(s)
				opts.Progress(p)
			}
		}
	}()
	return func() { close(done); <-finished }
}
