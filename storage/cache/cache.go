// Package cache keeps short-lived values (re-stamped usage copies by
// certificate number, single-flight locks) behind one small Cache interface
// with two backends: in-process memory (the embedded default) and Redis
// (single node, Sentinel or Cluster through redis.UniversalClient).
//
// A cache is an optimisation, never the record: callers must treat
// ErrUnavailable like a miss and fall back to the source of truth. The Redis
// backend bounds every call with short timeouts so that a Redis outage costs
// callers milliseconds, not a pile-up of blocked goroutines.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Errors returned by every backend, wrapped with context: test with errors.Is.
var (
	// ErrMiss: no value under the key (never set, expired or deleted).
	ErrMiss = errors.New("cache: miss")
	// ErrUnavailable: the backend cannot be reached in time. Callers fall back.
	ErrUnavailable = errors.New("cache: backend unavailable")
	// ErrLocked: TryLock found the lock held by someone else.
	ErrLocked = errors.New("cache: lock held by another owner")
	// ErrLockLost: Release found the lock expired or taken over; the work done
	// under it may have overlapped with another owner's.
	ErrLockLost = errors.New("cache: lock no longer owned")
	// ErrInvalid: a bad key, value or TTL.
	ErrInvalid = errors.New("cache: invalid argument")
)

// Limits on what is stored.
const (
	// MaxKeyLen bounds a key in bytes (before the backend's prefix).
	MaxKeyLen = 512
	// MaxValueLen bounds a value in bytes; the cache holds references and
	// small records, not documents.
	MaxValueLen = 1 << 20
)

// Cache is a key-value cache with expiry. Implementations are safe for
// concurrent use. Values are copied in and out.
type Cache interface {
	// Get returns the value under key, or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (ttl > 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX stores value under key for ttl only if the key holds nothing,
	// and reports whether it did.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// CompareAndDelete deletes key only if it currently holds value, in one
	// atomic step, and reports whether it did.
	CompareAndDelete(ctx context.Context, key string, value []byte) (bool, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ready reports whether the cache can serve requests (for /readyz).
	Ready(ctx context.Context) error
}

// Lock is a single-flight lock held in a cache: while it is held, other
// callers of TryLock with the same key get ErrLocked. It expires on its own
// after its TTL, so a crashed owner cannot block others for longer.
type Lock struct {
	// Key is the cache key of the lock.
	Key string
	// Token identifies this owner; only it can release the lock.
	Token string
	c     Cache
}

// TryLock takes the lock named key for ttl, or returns ErrLocked if another
// owner holds it.
func TryLock(ctx context.Context, c Cache, key string, ttl time.Duration) (*Lock, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("cache: lock %s: token: %w", key, err)
	}
	tok := hex.EncodeToString(b)
	ok, err := c.SetNX(ctx, key, []byte(tok), ttl)
	if err != nil {
		return nil, fmt.Errorf("cache: lock %s: %w", key, err)
	}
	if !ok {
		return nil, fmt.Errorf("cache: lock %s: %w", key, ErrLocked)
	}
	return &Lock{Key: key, Token: tok, c: c}, nil
}

// Release frees the lock if this owner still holds it, and returns
// ErrLockLost if it had expired or been taken by someone else (whose lock is
// left alone).
func (l *Lock) Release(ctx context.Context) error {
	ok, err := l.c.CompareAndDelete(ctx, l.Key, []byte(l.Token))
	if err != nil {
		return fmt.Errorf("cache: release %s: %w", l.Key, err)
	}
	if !ok {
		return fmt.Errorf("cache: release %s: %w", l.Key, ErrLockLost)
	}
	return nil
}

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: key must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	return nil
}

func checkSet(key string, value []byte, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueLen {
		return fmt.Errorf("%w: value of %d bytes exceeds %d", ErrInvalid, len(value), MaxValueLen)
	}
	if ttl <= 0 {
		return fmt.Errorf("%w: ttl %v must be positive", ErrInvalid, ttl)
	}
	return nil
}
