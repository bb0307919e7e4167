package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ecert/ecert/storage/registry"
)

// Concurrent audit entries, committed in groups on SQLite, all land, each
// exactly once, whatever the callers' contexts do afterwards.
func TestConcurrentAuditEntriesAllLand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				errs <- r.Audit(ctx, "load", "restamp", "A1", fmt.Sprintf("copy=%d", i))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		log, err := r.AuditLog(context.Background(), "A1")
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range log {
			if seen[e.Detail] {
				t.Fatalf("%s twice", e.Detail)
			}
			seen[e.Detail] = true
		}
		if len(seen) != n {
			t.Fatalf("%d entries, want %d", len(seen), n)
		}
	})
}
