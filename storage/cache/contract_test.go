package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backend is what the contract suite needs to know about a Cache under test.
type backend struct {
	// new returns an empty cache, cleaned up by t, and a function that lets
	// at least d pass on the cache's clock.
	new func(t *testing.T) (c Cache, advance func(d time.Duration))
}

// runContract is the one behaviour suite every Cache backend must pass.
func runContract(t *testing.T, be backend) {
	ctx := context.Background()

	t.Run("GetSetDelete", func(t *testing.T) {
		c, _ := be.new(t)
		if _, err := c.Get(ctx, "restamp:京21:pdf"); !errors.Is(err, ErrMiss) {
			t.Fatalf("Get of empty cache = %v, want ErrMiss", err)
		}
		val := []byte(`{"copy_id":"c1","digest":"ab"}`)
		if err := c.Set(ctx, "restamp:京21:pdf", val, time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := c.Get(ctx, "restamp:京21:pdf")
		if err != nil || !bytes.Equal(got, val) {
			t.Fatalf("Get = %q, %v", got, err)
		}
		got[0] = 'X' // callers own what they get
		if again, _ := c.Get(ctx, "restamp:京21:pdf"); !bytes.Equal(again, val) {
			t.Fatal("modifying a returned value changed the cache")
		}
		if err := c.Set(ctx, "restamp:京21:pdf", []byte("v2"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Get(ctx, "restamp:京21:pdf"); string(got) != "v2" {
			t.Fatalf("overwrite: %q", got)
		}
		if err := c.Delete(ctx, "restamp:京21:pdf"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "restamp:京21:pdf"); !errors.Is(err, ErrMiss) {
			t.Fatalf("after Delete: %v", err)
		}
		if err := c.Delete(ctx, "never-set"); err != nil {
			t.Fatalf("Delete missing: %v", err)
		}
		if err := c.Set(ctx, "empty", nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(ctx, "empty"); err != nil || len(got) != 0 {
			t.Fatalf("empty value: %q %v", got, err)
		}
	})

	t.Run("TTL", func(t *testing.T) {
		c, advance := be.new(t)
		if err := c.Set(ctx, "short", []byte("1"), 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "long", []byte("2"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "short"); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		advance(400 * time.Millisecond)
		if _, err := c.Get(ctx, "short"); !errors.Is(err, ErrMiss) {
			t.Fatalf("after expiry: %v, want ErrMiss", err)
		}
		if _, err := c.Get(ctx, "long"); err != nil {
			t.Fatalf("long-lived entry: %v", err)
		}
		// An expired key can be taken again with SetNX.
		if ok, err := c.SetNX(ctx, "short", []byte("3"), time.Hour); !ok || err != nil {
			t.Fatalf("SetNX on expired key = %v, %v", ok, err)
		}
	})

	t.Run("InvalidArguments", func(t *testing.T) {
		c, _ := be.new(t)
		for _, err := range []error{
			c.Set(ctx, "k", []byte("v"), 0),
			c.Set(ctx, "k", []byte("v"), -time.Second),
			c.Set(ctx, "", []byte("v"), time.Minute),
			c.Set(ctx, strings.Repeat("k", MaxKeyLen+1), []byte("v"), time.Minute),
			c.Set(ctx, "k", make([]byte, MaxValueLen+1), time.Minute),
		} {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		}
		if _, err := c.Get(ctx, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get empty key: %v", err)
		}
		if _, err := c.SetNX(ctx, "k", nil, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetNX zero ttl: %v", err)
		}
	})

	t.Run("SetNXAndCompareAndDelete", func(t *testing.T) {
		c, _ := be.new(t)
		if ok, err := c.SetNX(ctx, "nx", []byte("a"), time.Hour); !ok || err != nil {
			t.Fatalf("first SetNX = %v, %v", ok, err)
		}
		if ok, err := c.SetNX(ctx, "nx", []byte("b"), time.Hour); ok || err != nil {
			t.Fatalf("second SetNX = %v, %v", ok, err)
		}
		if got, _ := c.Get(ctx, "nx"); string(got) != "a" {
			t.Fatalf("SetNX overwrote: %q", got)
		}
		if ok, err := c.CompareAndDelete(ctx, "nx", []byte("b")); ok || err != nil {
			t.Fatalf("CompareAndDelete with wrong value = %v, %v", ok, err)
		}
		if ok, err := c.CompareAndDelete(ctx, "nx", []byte("a")); !ok || err != nil {
			t.Fatalf("CompareAndDelete = %v, %v", ok, err)
		}
		if ok, err := c.CompareAndDelete(ctx, "nx", []byte("a")); ok || err != nil {
			t.Fatalf("CompareAndDelete of missing = %v, %v", ok, err)
		}
	})

	t.Run("LockSingleFlight", func(t *testing.T) {
		c, _ := be.new(t)
		var holders, maxHolders, won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				l, err := TryLock(ctx, c, "lock:restamp:1", time.Minute)
				if errors.Is(err, ErrLocked) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				won.Add(1)
				n := holders.Add(1)
				for {
					m := maxHolders.Load()
					if n <= m || maxHolders.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				holders.Add(-1)
				if err := l.Release(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if maxHolders.Load() != 1 || won.Load() < 1 {
			t.Fatalf("lock held by %d at once, won %d times", maxHolders.Load(), won.Load())
		}
		l, err := TryLock(ctx, c, "lock:restamp:1", time.Minute)
		if err != nil {
			t.Fatalf("lock not free after release: %v", err)
		}
		l.Release(ctx)
	})

	t.Run("LockReleaseOnlyByOwner", func(t *testing.T) {
		c, advance := be.new(t)
		a, err := TryLock(ctx, c, "lock:x", 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := TryLock(ctx, c, "lock:x", time.Minute); !errors.Is(err, ErrLocked) {
			t.Fatalf("second TryLock = %v, want ErrLocked", err)
		}
		advance(400 * time.Millisecond) // a's lock expires
		b, err := TryLock(ctx, c, "lock:x", time.Minute)
		if err != nil {
			t.Fatalf("TryLock after expiry: %v", err)
		}
		if err := a.Release(ctx); !errors.Is(err, ErrLockLost) {
			t.Fatalf("stale owner Release = %v, want ErrLockLost", err)
		}
		if _, err := TryLock(ctx, c, "lock:x", time.Minute); !errors.Is(err, ErrLocked) {
			t.Fatalf("stale owner's Release freed the new owner's lock: %v", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		c, _ := be.new(t)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 50 {
					k := fmt.Sprintf("k%d", j%10)
					v := []byte(fmt.Sprintf("v%d-%d", i, j))
					if err := c.Set(ctx, k, v, time.Minute); err != nil {
						t.Error(err)
						return
					}
					if _, err := c.Get(ctx, k); err != nil && !errors.Is(err, ErrMiss) {
						t.Error(err)
						return
					}
					c.Delete(ctx, fmt.Sprintf("k%d", (j+5)%10))
				}
			})
		}
		wg.Wait()
	})

	t.Run("Ready", func(t *testing.T) {
		c, _ := be.new(t)
		if err := c.Ready(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
