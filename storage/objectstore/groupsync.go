package objectstore

import (
	"os"
	"sync"
	"time"
)

// groupSync makes writes durable for many concurrent writers at once. A
// Put needs two barriers (its file's bytes before the rename, the rename
// before it returns); fsyncing each file and directory costs a device
// cache flush per call, four per issued certificate, which capped
// issuance on the embedded defaults. Sync instead returns once a
// filesystem-wide sync (syncfs(2) on Linux) that *began after the call*
// has finished, so every Put waiting at that moment shares one flush.
//
// The guarantees per Put are the same as with fsync: the bytes are on
// stable storage before the rename, the rename before Put returns. The cost
// is that a sync also writes back whatever else is dirty on the same
// filesystem, so the store wants a data directory on a filesystem of its
// own or shared with light writers only (FSConfig.SyncEachFile otherwise).
//
// A round that is about to start with fewer than batch callers first
// waits up to delay for more to join (the group-commit delay of MySQL's
// binlog_group_commit_sync_delay / _no_delay_count, or PostgreSQL's
// commit_delay / commit_siblings). Without it a round starts the moment
// the previous one ends and covers whoever happens to be waiting: during
// issuance that was 2.3 callers per syncfs, 1.8 syncfs per certificate,
// and every syncfs walks the filesystem's dirty inodes and commits the
// journal. The wait costs each Put at most delay per barrier.
type groupSync struct {
	dir   *os.File     // any file on the filesystem: the store's root directory
	sync  func() error // syncs the filesystem of dir (replaced in tests)
	delay time.Duration
	batch int

	mu      sync.Mutex
	cond    sync.Cond
	running bool   // a sync is in progress
	next    *round // the round new callers join; nil until one does
}

// round is one filesystem sync and the callers waiting for it.
type round struct {
	callers  int
	full     chan struct{} // closed when callers reaches the batch size
	finished bool
	err      error
}

// newGroupSync shares syncs of dir's filesystem; a round waits up to delay
// (0: not at all) for batch callers.
func newGroupSync(dir *os.File, delay time.Duration, batch int) *groupSync {
	g := &groupSync{dir: dir, sync: func() error { return syncFilesystem(dir) }, delay: delay, batch: batch}
	g.cond.L = &g.mu
	return g
}

// Sync blocks until everything written before the call is on stable
// storage, and reports the error of the sync that covered it.
func (g *groupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		g.next = &round{full: make(chan struct{})}
	}
	// g.next never refers to a round already started, so r's sync begins
	// after this call.
	r := g.next
	r.callers++
	if r.callers == g.batch {
		close(r.full)
	}
	for !r.finished {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		if g.delay > 0 && r.callers < g.batch {
			// Gather: g.next is still r, so callers arriving meanwhile join it.
			g.mu.Unlock()
			t := time.NewTimer(g.delay)
			select {
			case <-r.full:
			case <-t.C:
			}
			t.Stop()
			g.mu.Lock()
		}
		g.next = nil // later callers need a later sync
		g.mu.Unlock()
		err := g.sync()
		g.mu.Lock()
		r.err, r.finished = err, true
		g.running = false
		g.cond.Broadcast()
	}
	return r.err
}
