package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/internal/testsvc"
)

var prefixSeq = time.Now().UnixNano()

// newTestRedis returns a cache on the shared test Redis under a key prefix
// of its own, so tests do not see each other's keys.
func newTestRedis(t testing.TB, cfg RedisConfig) *Redis {
	t.Helper()
	if cfg.Addrs == nil {
		cfg.Addrs = []string{testenv.RedisAddr(t)}
	}
	if cfg.KeyPrefix == "" {
		prefixSeq++
		cfg.KeyPrefix = fmt.Sprintf("ecert-test:%d:", prefixSeq)
	}
	r, err := NewRedis(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

var redisBackend = backend{new: func(t *testing.T) (Cache, func(time.Duration)) {
	return newTestRedis(t, RedisConfig{}), time.Sleep
}}

func TestRedisContract(t *testing.T) { runContract(t, redisBackend) }

func TestRedisKeyPrefix(t *testing.T) {
	ctx := context.Background()
	a := newTestRedis(t, RedisConfig{})
	b := newTestRedis(t, RedisConfig{})
	if err := a.Set(ctx, "k", []byte("a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, ErrMiss) {
		t.Fatalf("other prefix sees the key: %v", err)
	}
	raw, err := a.Client().Get(ctx, a.prefix+"k").Result()
	if err != nil || raw != "a" {
		t.Fatalf("raw key %q: %q %v", a.prefix+"k", raw, err)
	}
	ttl, _ := a.Client().PTTL(ctx, a.prefix+"k").Result()
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL in Redis = %v", ttl)
	}
}

func TestRedisConfigValidationNamesField(t *testing.T) {
	cases := []struct {
		field string
		cfg   RedisConfig
	}{
		{"Addrs", RedisConfig{}},
		{"Addrs", RedisConfig{Addrs: []string{"localhost"}}},
		{"DB", RedisConfig{Addrs: []string{"a:1"}, DB: -1}},
		{"DB", RedisConfig{Addrs: []string{"a:1", "b:1"}, DB: 2}},
		{"KeyPrefix", RedisConfig{Addrs: []string{"a:1"}, KeyPrefix: strings.Repeat("p", 65)}},
		{"ReadTimeout", RedisConfig{Addrs: []string{"a:1"}, ReadTimeout: -time.Second}},
		{"PoolSize", RedisConfig{Addrs: []string{"a:1"}, PoolSize: -1}},
		{"MaxRetries", RedisConfig{Addrs: []string{"a:1"}, MaxRetries: -2}},
	}
	for _, c := range cases {
		_, err := NewRedis(c.cfg)
		if err == nil || !strings.Contains(err.Error(), "RedisConfig."+c.field) {
			t.Errorf("%+v: error %v does not name %s", c.cfg, err, c.field)
		}
	}
	for _, cfg := range []RedisConfig{
		{Addrs: []string{"127.0.0.1:1"}},
		{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}},
		{Addrs: []string{"127.0.0.1:1"}, MasterName: "mymaster", DB: 1},
	} {
		r, err := NewRedis(cfg)
		if err != nil {
			t.Errorf("%+v: %v", cfg, err)
			continue
		}
		r.Close()
	}
}

// burst runs n concurrent cache calls against c and returns their errors
// and the slowest call's duration.
func burst(c Cache, n int) ([]error, time.Duration) {
	ctx := context.Background()
	errs := make([]error, n)
	durs := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			switch i % 4 {
			case 0:
				_, errs[i] = c.Get(ctx, "k")
			case 1:
				errs[i] = c.Set(ctx, "k", []byte("v"), time.Minute)
			case 2:
				_, errs[i] = TryLock(ctx, c, fmt.Sprintf("lock%d", i), time.Minute)
			case 3:
				errs[i] = c.Delete(ctx, "k")
			}
			durs[i] = time.Since(start)
		})
	}
	wg.Wait()
	var slowest time.Duration
	for _, d := range durs {
		slowest = max(slowest, d)
	}
	return errs, slowest
}

// settledGoroutines waits for goroutines started by finished calls to exit
// and returns the count, stopping early once it is at most want.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 40 && n > want; i++ {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// waitRecovered retries a Set until the same client succeeds again.
func waitRecovered(t *testing.T, c Cache) {
	t.Helper()
	ctx := context.Background()
	var err error
	for range 100 {
		if err = c.Set(ctx, "after", []byte("ok"), time.Minute); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("client did not recover after Redis came back: %v", err)
	}
	if got, err := c.Get(ctx, "after"); err != nil || string(got) != "ok" {
		t.Fatalf("after recovery Get = %q, %v", got, err)
	}
}

// faultBound is a generous ceiling on a single call while Redis is down;
// the configured timeouts put the real figure far below it. It is a
// liveness check (calls return at all), not a speed target.
const faultBound = 5 * time.Second

func TestRedisStoppedFailsFastAndRecovers(t *testing.T) {
	srv := testsvc.StartRedis(t, testenv.RedisBinary(t))
	c := newTestRedis(t, RedisConfig{Addrs: []string{srv.Addr()}, PoolSize: 8})
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	burst(c, 16) // warm the pool
	before := settledGoroutines(0)

	srv.Stop()
	for round := range 3 {
		errs, slowest := burst(c, 200)
		for i, err := range errs {
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("round %d call %d with Redis stopped: %v, want ErrUnavailable", round, i, err)
			}
		}
		if slowest > faultBound {
			t.Fatalf("round %d: a call took %v with Redis stopped", round, slowest)
		}
		t.Logf("Redis stopped, round %d: 200 calls failed with ErrUnavailable, slowest %v", round, slowest)
	}
	if err := c.Ready(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready with Redis stopped: %v", err)
	}
	if after := settledGoroutines(before + 3); after > before+3 {
		t.Fatalf("goroutines grew from %d to %d while Redis was down", before, after)
	} else {
		t.Logf("goroutines: %d before, %d after", before, after)
	}

	srv.Start()
	waitRecovered(t, c)
}

func TestRedisFrozenFailsFastAndRecovers(t *testing.T) {
	srv := testsvc.StartRedis(t, testenv.RedisBinary(t))
	c := newTestRedis(t, RedisConfig{Addrs: []string{srv.Addr()}, PoolSize: 8, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, PoolTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	burst(c, 16)
	before := settledGoroutines(0)

	srv.Freeze() // connections accepted by the kernel, never answered
	for round := range 2 {
		errs, slowest := burst(c, 100)
		for i, err := range errs {
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("round %d call %d with Redis frozen: %v, want ErrUnavailable", round, i, err)
			}
		}
		if slowest > faultBound {
			t.Fatalf("round %d: a call took %v with Redis frozen", round, slowest)
		}
		t.Logf("Redis frozen, round %d: 100 calls failed with ErrUnavailable, slowest %v", round, slowest)
	}
	if after := settledGoroutines(before + 3); after > before+3 {
		t.Fatalf("goroutines grew from %d to %d while Redis was frozen", before, after)
	} else {
		t.Logf("goroutines: %d before, %d after", before, after)
	}

	srv.Thaw()
	waitRecovered(t, c)
}

// TestRedisClusterContract runs the contract against a private three-node
// Redis Cluster, selected by giving several addresses.
func TestRedisClusterContract(t *testing.T) {
	addrs := testsvc.StartRedisCluster(t, testenv.RedisBinary(t), 3)
	runContract(t, backend{new: func(t *testing.T) (Cache, func(time.Duration)) {
		c := newTestRedis(t, RedisConfig{Addrs: addrs})
		if _, ok := c.Client().(*redis.ClusterClient); !ok {
			t.Fatalf("several Addrs gave a %T, want a cluster client", c.Client())
		}
		return c, time.Sleep
	}})
}

// TestRedisSentinelContract runs the contract through a private Sentinel,
// selected by MasterName.
func TestRedisSentinelContract(t *testing.T) {
	sentinel, _ := testsvc.StartRedisSentinel(t, testenv.RedisBinary(t), "ecert-primary")
	runContract(t, backend{new: func(t *testing.T) (Cache, func(time.Duration)) {
		return newTestRedis(t, RedisConfig{Addrs: []string{sentinel}, MasterName: "ecert-primary"}), time.Sleep
	}})
}
