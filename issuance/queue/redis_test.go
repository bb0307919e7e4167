package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/internal/testsvc"
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

// newRedisQueue opens a queue on addr with fresh keys and returns it with a
// separate client for poking at the keys directly.
func newRedisQueue(t *testing.T, addr string, opts Options) (*Redis, redis.UniversalClient) {
	t.Helper()
	opts.KeyPrefix = uniquePrefix(t)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	raw := newClient(t, addr)
	dropKeys(t, raw, opts)
	q, err := NewRedis(newClient(t, addr), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q, raw
}

// TestRedisReclaimFromKilledWorker: a worker read a job with XREADGROUP and
// was killed before acknowledging (here: a bare client that never answers).
// A running consumer takes it over after ReclaimAfter, and the dead
// worker's consumer entry is removed from the group later.
func TestRedisReclaimFromKilledWorker(t *testing.T) {
	ctx := context.Background()
	q, raw := newRedisQueue(t, testenv.RedisAddr(t), fastOptions())
	if err := q.ensureGroup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, "orphan", []byte("data")); err != nil {
		t.Fatal(err)
	}
	got, err := raw.XReadGroup(ctx, &redis.XReadGroupArgs{Group: q.opts.Group, Consumer: "killed@0-1", Streams: []string{q.jobs, ">"}, Count: 1, Block: -1}).Result()
	if err != nil || len(got) != 1 || len(got[0].Messages) != 1 {
		t.Fatalf("XREADGROUP as the doomed worker: %v %v", got, err)
	}
	id := got[0].Messages[0].ID

	done := make(chan Job, 2)
	startConsumers(t, q, func(ctx context.Context, j Job) error { done <- j; return nil }, "survivor")
	select {
	case j := <-done:
		if j.ID != id || j.CaseID != "orphan" || j.Attempt != 2 || string(j.Payload) != "data" {
			t.Errorf("reclaimed job = %+v, want id %s attempt 2", j, id)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("orphaned job was not reclaimed")
	}
	waitFor(t, "queue drained", func() bool { return pending(t, q) == 0 })
	waitFor(t, "dead consumer removed", func() bool {
		cs, err := raw.XInfoConsumers(ctx, q.jobs, q.opts.Group).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Name == "killed@0-1" {
				return false
			}
		}
		return len(cs) > 0 // the survivor is still there
	})
	if n, _ := raw.HLen(ctx, q.reasons).Result(); n != 0 {
		t.Errorf("%d reasons left behind", n)
	}
}

// TestRedisMalformedEntries: entries written by something else (or
// corrupted) are dead-lettered with the reason, never handed to the handler.
func TestRedisMalformedEntries(t *testing.T) {
	ctx := context.Background()
	opts := fastOptions()
	opts.MaxPayload = 8
	q, raw := newRedisQueue(t, testenv.RedisAddr(t), opts)
	for _, v := range [][]any{
		{"payload", "no case"},
		{"case", "", "payload", "x"},
		{"case", "big", "payload", "123456789"},
		{"case", "ok", "payload", "12345678"},
	} {
		if err := raw.XAdd(ctx, &redis.XAddArgs{Stream: q.jobs, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var handled []string
	var mu sync.Mutex
	startConsumers(t, q, func(ctx context.Context, j Job) error {
		mu.Lock()
		handled = append(handled, j.CaseID)
		mu.Unlock()
		return nil
	}, "a")
	waitFor(t, "queue drained", func() bool { return pending(t, q) == 0 })
	mu.Lock()
	if fmt.Sprint(handled) != "[ok]" {
		t.Errorf("handled %v, want only [ok]", handled)
	}
	mu.Unlock()
	d := deadLetters(t, q)
	if len(d) != 3 {
		t.Fatalf("dead letters = %+v, want 3", d)
	}
	for i, want := range []string{`no "case" field`, "case id must be", "payload of 9 bytes exceeds 8"} {
		if !strings.HasPrefix(d[i].Reason, "malformed queue entry") || !strings.Contains(d[i].Reason, want) {
			t.Errorf("dead letter %d reason = %q, want %q", i, d[i].Reason, want)
		}
	}
	if d[2].Job.CaseID != "big" || d[2].Job.Payload != nil {
		t.Errorf("oversize entry dead-lettered as %+v", d[2].Job)
	}
}

// countingHook counts commands sent to Redis.
type countingHook struct{ n atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// TestRedisOutage: when Redis goes away, Consume backs off instead of
// spinning, comes back by itself (recreating the group on a Redis that
// restarted empty), and returns promptly when its context ends.
func TestRedisOutage(t *testing.T) {
	srv := testsvc.StartRedis(t, testenv.RedisBinary(t))
	ctx := context.Background()
	opts := fastOptions()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	hook := &countingHook{}
	client.AddHook(hook)
	q, err := NewRedis(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()

	handled := make(chan string, 10)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ret := make(chan error, 1)
	go func() {
		ret <- q.Consume(cctx, "w", func(ctx context.Context, j Job) error { handled <- j.CaseID; return nil })
	}()
	if err := q.Enqueue(ctx, "before", nil); err != nil {
		t.Fatal(err)
	}
	if got := <-handled; got != "before" {
		t.Fatalf("handled %q", got)
	}

	srv.Stop()
	time.Sleep(200 * time.Millisecond)
	before := hook.n.Load()
	time.Sleep(2 * time.Second)
	calls := hook.n.Load() - before
	t.Logf("commands tried in 2 s without Redis: %d", calls)
	if calls > 40 {
		t.Errorf("%d commands in 2 s while Redis was down: not backing off", calls)
	}
	if err := q.Ready(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ready with Redis down = %v, want ErrUnavailable", err)
	}
	if err := q.Enqueue(ctx, "lost", nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Enqueue with Redis down = %v, want ErrUnavailable", err)
	}

	srv.Start() // empty: no persistence, so the stream and group are gone
	waitFor(t, "Redis back", func() bool { return q.Enqueue(ctx, "after", nil) == nil })
	select {
	case got := <-handled:
		if got != "after" {
			t.Errorf("handled %q after the restart", got)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("job enqueued after the restart was not handled")
	}
	waitFor(t, "acknowledged", func() bool { n, err := q.Pending(ctx); return err == nil && n == 0 })

	srv.Stop()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-ret:
		if err != nil {
			t.Errorf("Consume returned %v after its context ended", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Consume did not return after its context ended while Redis was down")
	}
}
