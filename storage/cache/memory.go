package cache

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// MemoryConfig configures the in-memory cache.
type MemoryConfig struct {
	// MaxEntries bounds the number of live entries (default 100000). When
	// full, expired entries are swept; if none are, Set and SetNX evict the
	// entry closest to expiry.
	MaxEntries int
	// Now is the clock deciding expiry (default time.Now).
	Now func() time.Time
}

// Memory is an in-process cache, the embedded default. Entries expire at
// their TTL (checked on access and swept as the map fills). It is not shared
// between processes: with several replicas, use Redis.
type Memory struct {
	mu      sync.Mutex
	entries map[string]memEntry
	max     int
	now     func() time.Time
}

type memEntry struct {
	value   []byte
	expires time.Time
}

var _ Cache = (*Memory)(nil)

// NewMemory returns an empty in-memory cache.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{entries: make(map[string]memEntry), max: cfg.MaxEntries, now: cfg.Now}
}

// Len returns the number of entries held, including expired ones not yet swept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// live returns the unexpired entry under key; the caller holds m.mu.
func (m *Memory) live(key string, now time.Time) (memEntry, bool) {
	e, ok := m.entries[key]
	if !ok {
		return memEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(m.entries, key)
		return memEntry{}, false
	}
	return e, true
}

// Get implements Cache.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key, m.now())
	if !ok {
		return nil, ErrMiss
	}
	return bytes.Clone(e.value), nil
}

// Set implements Cache.
func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkSet(key, value, ttl); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.store(key, value, now.Add(ttl), now)
	return nil
}

// SetNX implements Cache.
func (m *Memory) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := checkSet(key, value, ttl); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if _, ok := m.live(key, now); ok {
		return false, nil
	}
	m.store(key, value, now.Add(ttl), now)
	return true, nil
}

// store puts an entry, making room first; the caller holds m.mu.
func (m *Memory) store(key string, value []byte, expires, now time.Time) {
	if _, exists := m.entries[key]; !exists && len(m.entries) >= m.max {
		m.sweep(now)
		if len(m.entries) >= m.max {
			m.evictSoonest()
		}
	}
	m.entries[key] = memEntry{value: bytes.Clone(value), expires: expires}
}

func (m *Memory) sweep(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
}

func (m *Memory) evictSoonest() {
	var victim string
	var soonest time.Time
	first := true
	for k, e := range m.entries {
		if first || e.expires.Before(soonest) {
			victim, soonest, first = k, e.expires, false
		}
	}
	if !first {
		delete(m.entries, victim)
	}
}

// CompareAndDelete implements Cache.
func (m *Memory) CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(key, m.now())
	if !ok || !bytes.Equal(e.value, value) {
		return false, nil
	}
	delete(m.entries, key)
	return true, nil
}

// Delete implements Cache.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

// Ready implements Cache: memory is always ready.
func (m *Memory) Ready(ctx context.Context) error { return ctx.Err() }
