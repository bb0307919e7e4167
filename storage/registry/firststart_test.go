package registry_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/storage/registry"
)

// TestConcurrentOpensOfAFreshDatabase opens one fresh database from many
// connections pools at once (as processes started together do), round
// after round, on both engines: every Open must succeed, with the schema
// migrated exactly once.
func TestConcurrentOpensOfAFreshDatabase(t *testing.T) {
	const rounds, opens = 5, 8
	fresh := map[string]func(t *testing.T, round int) string{
		"sqlite":   func(t *testing.T, _ int) string { return filepath.Join(t.TempDir(), "ecert.db") },
		"postgres": func(t *testing.T, _ int) string { return testenv.PostgresSchema(t) },
	}
	for name, newDSN := range fresh {
		t.Run(name, func(t *testing.T) {
			for round := range rounds {
				dsn := newDSN(t, round)
				start := make(chan struct{})
				errs := make([]error, opens)
				var wg sync.WaitGroup
				for i := range opens {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						r, err := registry.Open(context.Background(), dsn, registry.Options{})
						if err == nil {
							_, err = r.Counts(context.Background())
							r.Close()
						}
						errs[i] = err
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d, open %d: %v", round, i, err)
					}
				}
			}
		})
	}
}
