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
	var written atomic.Int64 // "writes" done so far; a sync covers those done when it starts
	var syncs atomic.Int64
	g := newGroupSync(nil)
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
	g := newGroupSync(nil)
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
