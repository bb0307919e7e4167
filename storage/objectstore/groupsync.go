package objectstore

import (
	"os"
	"sync"
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
type groupSync struct {
	dir  *os.File     // any file on the filesystem: the store's root directory
	sync func() error // syncs the filesystem of dir (replaced in tests)

	mu      sync.Mutex
	cond    sync.Cond
	running bool   // a sync is in progress
	next    *round // the round new callers join; nil until one does
}

// round is one filesystem sync and the callers waiting for it.
type round struct {
	finished bool
	err      error
}

func newGroupSync(dir *os.File) *groupSync {
	g := &groupSync{dir: dir, sync: func() error { return syncFilesystem(dir) }}
	g.cond.L = &g.mu
	return g
}

// Sync blocks until everything written before the call is on stable
// storage, and reports the error of the sync that covered it.
func (g *groupSync) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.next == nil {
		g.next = &round{}
	}
	// g.next never refers to a round already started, so r's sync begins
	// after this call.
	r := g.next
	for !r.finished {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
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
