package issuance

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Backend names used in outage logs.
const (
	backendRegistry = "registry"
	backendStore    = "object store"
)

// DefaultBackendRetry is how long a transient backend error is retried by default.
const DefaultBackendRetry = 30 * time.Second

// Backoff bounds of the retries of a transient backend error.
const (
	retryFirstWait = 50 * time.Millisecond
	retryMaxWait   = 2 * time.Second
)

// unavailableBackend names the backend a transient error came from, or ""
// when err is not one a retry can cure.
func unavailableBackend(err error) string {
	switch {
	case err == nil, errors.Is(err, ErrPermanent), errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, objectstore.ErrUnavailable):
		return backendStore
	case registry.IsTransient(err):
		return backendRegistry
	}
	return ""
}

// retrier paces the attempts of one operation: exponential backoff with
// jitter, for at most budget in total (no retries when budget <= 0).
type retrier struct {
	budget time.Duration
	start  time.Time
	wait   time.Duration
}

func newRetrier(budget time.Duration) *retrier {
	return &retrier{budget: budget, start: time.Now(), wait: retryFirstWait}
}

// sleep waits before the next attempt and reports whether one is due:
// false once the budget is spent or ctx has ended.
func (r *retrier) sleep(ctx context.Context) bool {
	left := r.budget - time.Since(r.start)
	if left <= 0 {
		return false
	}
	// Full jitter in [wait/2, wait): concurrent workers hit by the same
	// outage do not come back in step.
	d := min(r.wait/2+rand.N(r.wait/2+1), left)
	r.wait = min(2*r.wait, retryMaxWait)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// outages says on the log when a backend becomes unavailable and when it
// is back: once per outage, however many workers and attempts meet it.
type outages struct {
	log   *slog.Logger
	retry time.Duration
	down  map[string]*atomic.Int64 // backend → start of the outage (unix nanoseconds), 0 when up
}

func newOutages(log *slog.Logger, retry time.Duration) *outages {
	return &outages{log: log, retry: retry, down: map[string]*atomic.Int64{
		backendRegistry: new(atomic.Int64), backendStore: new(atomic.Int64),
	}}
}

// failed records a transient error of backend.
func (o *outages) failed(backend string, err error) {
	if o.down[backend].CompareAndSwap(0, time.Now().UnixNano()) {
		o.log.Warn(backend+" unavailable, retrying", "retry_for", o.retry, "err", err)
	}
}

// settleOutage is how long an outage lasts at the least before a success
// ends it: a case whose statements ran just before the first failure can
// finish a moment after it, and would otherwise end the outage at once (the
// log said "unavailable", "available again after 1ms", "unavailable").
const settleOutage = 250 * time.Millisecond

// recovered records that every backend answered again.
func (o *outages) recovered() {
	for name, since := range o.down {
		t := since.Load()
		if t == 0 || time.Since(time.Unix(0, t)) < settleOutage {
			continue
		}
		if since.CompareAndSwap(t, 0) {
			o.log.Info(name+" available again", "after", time.Since(time.Unix(0, t)).Round(time.Millisecond))
		}
	}
}
