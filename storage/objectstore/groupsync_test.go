package objectstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every Sync must be covered by a sync that started after it was called,
// and concurrent callers must share syncs.
func TestGroupSyncCoversEachCallerAndShares(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("delay=%v", delay), func(t *testing.T) { testGroupSyncCovers(t, delay) })
	}
}

func testGroupSyncCovers(t *testing.T, delay time.Duration) {
	var written atomic.Int64 // "writes" done so far; a sync covers those done when it starts
	var syncs atomic.Int64
	g := newGroupSync(nil, delay, 16)
	g.sync = func() error {
		syncs.Add(1)
		covered := written.Load()
		time.Sleep(2 * time.Millisecond) // a device flush
		return fmt.Errorf("covered %d", covered)
	}
	const callers = 64
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range callers {
		wg.Go(func() {
			mine := written.Add(1)
			var covered int64
			if _, err := fmt.Sscanf(g.Sync().Error(), "covered %d", &covered); err != nil || covered < mine {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d callers returned before a sync covering their write", bad.Load())
	}
	if n := syncs.Load(); n >= callers/2 {
		t.Fatalf("%d syncs for %d concurrent callers: not shared", n, callers)
	}
	t.Logf("%d syncs for %d callers", syncs.Load(), callers)
}

// A failed sync fails every caller it covered, and the next one can succeed.
func TestGroupSyncReportsErrors(t *testing.T) {
	g := newGroupSync(nil, 0, 0)
	fail := errors.New("device gone")
	g.sync = func() error { return fail }
	if err := g.Sync(); !errors.Is(err, fail) {
		t.Fatalf("got %v, want %v", err, fail)
	}
	g.sync = func() error { return nil }
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
}

// A round that reaches the batch size syncs at once: with an hour's delay,
// batch callers still finish, with one sync between them.
func TestGroupSyncFullBatchStartsAtOnce(t *testing.T) {
	const batch = 20
	var syncs atomic.Int64
	g := newGroupSync(nil, time.Hour, batch)
	g.sync = func() error { syncs.Add(1); return nil }
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		for i := range batch {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 100 * time.Microsecond)
				if err := g.Sync(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a full batch waited for the delay")
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs for one batch of %d callers, want 1", n, batch)
	}
}

// A lone caller waits out the delay (so later writes could join), then
// gets its own sync; callers arriving during the delay share it.
func TestGroupSyncDelayGathersLateCallers(t *testing.T) {
	const delay = 300 * time.Millisecond
	var syncs atomic.Int64
	g := newGroupSync(nil, delay, 1000)
	g.sync = func() error { syncs.Add(1); return nil }
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { g.Sync() })
	time.Sleep(10 * time.Millisecond) // well within the first caller's window
	for range 4 {
		wg.Go(func() { g.Sync() })
	}
	wg.Wait()
	if el := time.Since(start); el < delay {
		t.Fatalf("returned after %v, before the %v gathering delay", el, delay)
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs; callers arriving within the delay should share one", n)
	}
}
