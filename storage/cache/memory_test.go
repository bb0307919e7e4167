package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced clock for the memory cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var memoryBackend = backend{new: func(t *testing.T) (Cache, func(time.Duration)) {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	return NewMemory(MemoryConfig{Now: clk.Now}), clk.Advance
}}

func TestMemoryContract(t *testing.T) { runContract(t, memoryBackend) }

func TestMemoryTTLBoundary(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	m := NewMemory(MemoryConfig{Now: clk.Now})
	ctx := context.Background()
	m.Set(ctx, "k", []byte("v"), time.Minute)
	clk.Advance(time.Minute - time.Nanosecond)
	if _, err := m.Get(ctx, "k"); err != nil {
		t.Fatalf("one nanosecond before expiry: %v", err)
	}
	clk.Advance(time.Nanosecond)
	if _, err := m.Get(ctx, "k"); !errors.Is(err, ErrMiss) {
		t.Fatalf("at expiry: %v", err)
	}
}

func TestMemoryBounded(t *testing.T) {
	clk := &fakeClock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	m := NewMemory(MemoryConfig{MaxEntries: 10, Now: clk.Now})
	ctx := context.Background()
	for i := range 10 {
		m.Set(ctx, fmt.Sprintf("old%d", i), []byte("v"), time.Second)
	}
	clk.Advance(2 * time.Second) // all expired: the next Set sweeps them
	m.Set(ctx, "new", []byte("v"), time.Hour)
	if m.Len() != 1 {
		t.Fatalf("after sweep Len = %d, want 1", m.Len())
	}
	for i := range 20 {
		m.Set(ctx, fmt.Sprintf("live%d", i), []byte("v"), time.Duration(i+2)*time.Hour)
	}
	if m.Len() != 10 {
		t.Fatalf("Len = %d, want the bound 10", m.Len())
	}
	if _, err := m.Get(ctx, "live19"); err != nil {
		t.Fatalf("latest entry evicted: %v", err)
	}
}
