package app

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/issuance/queue"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
)

// poolTimeouts counts the queue's "connection pool timeout" warnings.
type poolTimeouts struct{ n atomic.Int64 }

func (h *poolTimeouts) Enabled(context.Context, slog.Level) bool { return true }
func (h *poolTimeouts) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if strings.Contains(a.Value.String(), "pool timeout") {
			h.n.Add(1)
		}
		return true
	})
	return nil
}
func (h *poolTimeouts) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *poolTimeouts) WithGroup(string) slog.Handler      { return h }

// idleConsumers runs n queue consumers on an empty Redis queue for 6 s
// (longer than go-redis's 4 s wait for a pooled connection) with a pool of
// poolSize connections, and returns how often a consumer found no
// connection.
func idleConsumers(t *testing.T, addr string, n, poolSize int) int64 {
	t.Helper()
	rc, err := cache.NewRedis(cache.RedisConfig{Addrs: []string{addr},
		KeyPrefix: fmt.Sprintf("pool%d:", time.Now().UnixNano()), PoolSize: poolSize})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := &poolTimeouts{}
	opts := queueOptions(Config{Logger: slog.New(h), RedisPrefix: fmt.Sprintf("pool%d:", time.Now().UnixNano())})
	q, err := queue.NewRedis(rc.Client(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	// No job arrives, so no certificate is issued: no service is needed.
	if err := issuance.RunWorkers(ctx, q, nil, n, slog.New(h), nil); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	return h.n.Load()
}

// The default number of workers on local files (64 per core) is far more
// than go-redis's default pool (10 per core); waiting consumers each hold a
// connection, so the pool is sized for them.
func TestIdleWorkersHaveRedisConnections(t *testing.T) {
	addr := testenv.RedisAddr(t)
	fs, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	n := issuance.DefaultWorkers(fs)
	// The check can fail: with go-redis's default pool these consumers wait
	// in vain.
	if got := idleConsumers(t, addr, n, 10*runtime.GOMAXPROCS(0)); got == 0 {
		t.Fatalf("%d consumers on %d connections: no pool timeouts, so this test proves nothing", n, 10*runtime.GOMAXPROCS(0))
	}
	if got := idleConsumers(t, addr, n, redisPoolSize(Config{}, fs)); got != 0 {
		t.Fatalf("%d consumers on redisPoolSize %d connections: %d pool timeouts", n, redisPoolSize(Config{}, fs), got)
	}
}
