package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ecert/ecert/internal/testenv"
)

// uniquePrefix gives each test its own keys on the shared Redis.
func uniquePrefix(t testing.TB) string {
	var b [6]byte
	rand.Read(b[:])
	return "ecert-test:queue:" + hex.EncodeToString(b[:]) + ":"
}

func newClient(t testing.TB, addr string) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 500e6, ReadTimeout: 500e6, WriteTimeout: 500e6, MaxRetries: 1})
	t.Cleanup(func() { c.Close() })
	return c
}

// dropKeys removes a test's keys when it ends.
func dropKeys(t testing.TB, c redis.UniversalClient, opts Options) {
	t.Cleanup(func() {
		o := opts
		o.setDefaults()
		base := o.KeyPrefix + "{" + o.Name + "}:"
		c.Del(context.Background(), base+"jobs", base+"dead", base+"reasons")
	})
}

func openRedis(t *testing.T, opts Options) func() Queue {
	addr := testenv.RedisAddr(t)
	opts.KeyPrefix = uniquePrefix(t)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	dropKeys(t, newClient(t, addr), opts)
	return func() Queue {
		q, err := NewRedis(newClient(t, addr), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { q.Close() })
		return q
	}
}

func TestRedisContract(t *testing.T) { runContract(t, openRedis) }
