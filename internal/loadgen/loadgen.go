// Package loadgen drives a service with requests and reports what it saw:
// at a constant rate whatever the service does (open loop), or with a fixed
// number of clients each waiting for its answer (closed loop).
//
// In the open loop every request has a scheduled start time and its latency
// is measured from that time, not from when it was actually sent, so a
// stalled service (or a stalled generator) shows up in the percentiles
// instead of silently lowering the request rate ("coordinated omission").
// It must never be pointed at anything but a test service.
package loadgen

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Request sends request number i and reports whether the answer was the
// one expected.
type Request func(ctx context.Context, i int) error

// Result is what one run saw.
type Result struct {
	Requests int           // started
	Errors   int           // failed or unexpected answers
	FirstErr error         // the first of them
	Wall     time.Duration // first scheduled start to last completion
	// Latencies are every request's latency, sorted: from its scheduled
	// start (open loop) or from its actual start (closed loop).
	Latencies []time.Duration
	// MaxLag is how late the generator started its latest request
	// (open loop only): the generator's own delay, included in Latencies.
	MaxLag time.Duration
}

// Rate is completed requests per second of wall time.
func (r Result) Rate() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Wall.Seconds()
}

// Percentile returns the latency at or below which the fraction p (0–1)
// of requests completed, by the nearest-rank method.
func (r Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	k := int(p*float64(n)+0.999999999) - 1
	return r.Latencies[min(max(k, 0), n-1)]
}

// errs counts failures and keeps the first.
type errs struct {
	n     atomic.Int64
	once  sync.Once
	first error
}

func (e *errs) add(err error) {
	if err == nil {
		return
	}
	e.n.Add(1)
	e.once.Do(func() { e.first = err })
}

// OpenLoop starts rate requests per second for d: request i at
// start + i/rate, each in its own goroutine, whether or not earlier ones
// have finished.
func OpenLoop(ctx context.Context, rate float64, d time.Duration, do Request) Result {
	n := int(rate * d.Seconds())
	period := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, n)
	var e errs
	var wg sync.WaitGroup
	var maxLag time.Duration
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * period)
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		maxLag = max(maxLag, time.Since(at))
		wg.Go(func() {
			e.add(do(ctx, i))
			lat[i] = time.Since(at)
		})
	}
	wg.Wait()
	slices.Sort(lat)
	return Result{Requests: n, Errors: int(e.n.Load()), FirstErr: e.first, Wall: time.Since(start),
		Latencies: lat, MaxLag: maxLag}
}

// ClosedLoop runs clients goroutines for d, each sending its next request
// as soon as the previous one is answered.
func ClosedLoop(ctx context.Context, clients int, d time.Duration, do Request) Result {
	var e errs
	var next atomic.Int64
	per := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(end) {
				i := int(next.Add(1)) - 1
				t0 := time.Now()
				e.add(do(ctx, i))
				per[c] = append(per[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	lat := slices.Concat(per...)
	slices.Sort(lat)
	return Result{Requests: len(lat), Errors: int(e.n.Load()), FirstErr: e.first, Wall: time.Since(start), Latencies: lat}
}
