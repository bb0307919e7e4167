package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Memory is the in-process queue, the embedded default: many consumers in
// one process share it. Jobs live only in memory and are lost when the
// process exits; use Redis when workers run in several processes or jobs
// must survive a restart. Timing follows Redis: a delivered job is leased to
// its consumer, a failed job becomes available again after RetryAfter, and
// a job whose consumer stopped renewing its lease is taken over after
// ReclaimAfter.
type Memory struct {
	opts Options

	mu        sync.Mutex
	seq       uint64
	ready     []*memEntry // never delivered, oldest first; ready[head:] is live
	head      int
	pending   map[string]*memEntry // delivered and not yet acknowledged
	dead      []DeadLetter
	consumers uint64        // Consume calls so far
	wake      chan struct{} // closed and replaced when a job becomes available
	done      chan struct{} // closed by Close
	closed    bool
}

type memEntry struct {
	seq    uint64
	job    Job
	owner  string
	since  time.Time // last delivery or lease renewal
	reason string    // last failure
}

var _ Queue = (*Memory)(nil)

// NewMemory returns an empty in-process queue. Redis-only options
// (KeyPrefix, Group, Batch) are validated and ignored.
func NewMemory(opts Options) (*Memory, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	return &Memory{
		opts:    opts,
		pending: make(map[string]*memEntry),
		wake:    make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// broadcast wakes every waiting consumer. The caller holds m.mu.
func (m *Memory) broadcast() {
	close(m.wake)
	m.wake = make(chan struct{})
}

// Enqueue implements Queue.
func (m *Memory) Enqueue(ctx context.Context, caseID string, payload []byte) error {
	if err := checkEnqueue(caseID, payload, m.opts.MaxPayload); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("queue: enqueue %s: %w", caseID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.seq++
	e := &memEntry{seq: m.seq, job: Job{ID: strconv.FormatUint(m.seq, 10), CaseID: caseID, Payload: append([]byte(nil), payload...)}}
	m.ready = append(m.ready, e)
	m.broadcast()
	return nil
}

// next waits for a job for consumer: a new one first, else the oldest
// pending job whose lease has run out. It returns false when ctx ends.
func (m *Memory) next(ctx context.Context, consumer string) (Job, bool) {
	for {
		m.mu.Lock()
		if ctx.Err() != nil {
			m.mu.Unlock()
			return Job{}, false
		}
		now := time.Now()
		if m.head < len(m.ready) {
			e := m.ready[m.head]
			m.ready[m.head] = nil
			m.head++
			if m.head == len(m.ready) || m.head > 1024 && m.head > len(m.ready)/2 {
				m.ready = append(m.ready[:0:0], m.ready[m.head:]...)
				m.head = 0
			}
			e.job.Attempt, e.owner, e.since = 1, consumer, now
			m.pending[e.job.ID] = e
			m.mu.Unlock()
			return e.job, true
		}
		var oldest *memEntry
		wait := time.Duration(-1)
		for id, e := range m.pending {
			due := e.since.Add(m.opts.ReclaimAfter).Sub(now)
			if due > 0 {
				if wait < 0 || due < wait {
					wait = due
				}
				continue
			}
			if e.job.Attempt >= m.opts.MaxAttempts {
				// The last attempt's consumer stopped without an answer.
				delete(m.pending, id)
				m.deadLetter(e, abandonedReason(e.job.Attempt, e.reason))
				m.opts.Logger.Warn("queue: job dead-lettered after its consumer stopped", "job", id, "case", e.job.CaseID, "attempts", e.job.Attempt)
				continue
			}
			if oldest == nil || e.seq < oldest.seq {
				oldest = e
			}
		}
		if oldest != nil {
			if oldest.owner != consumer {
				m.opts.Logger.Info("queue: reclaimed job", "job", oldest.job.ID, "case", oldest.job.CaseID, "from", oldest.owner, "to", consumer)
			}
			oldest.job.Attempt++
			oldest.owner, oldest.since = consumer, now
			m.mu.Unlock()
			return oldest.job, true
		}
		wake := m.wake
		m.mu.Unlock()
		var t *time.Timer
		var timer <-chan time.Time
		if wait >= 0 {
			t = time.NewTimer(wait)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// deadLetter records e as dead. The caller holds m.mu and has removed e from pending.
func (m *Memory) deadLetter(e *memEntry, reason string) {
	m.dead = append(m.dead, DeadLetter{Job: e.job, Reason: reason, FailedAt: m.opts.Now()})
	if over := len(m.dead) - m.opts.DeadLetterMax; over > 0 {
		m.dead = append(m.dead[:0:0], m.dead[over:]...)
	}
}

// Consume implements Queue.
func (m *Memory) Consume(ctx context.Context, consumer string, handle Handler) error {
	if err := checkConsumer(consumer, handle); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.consumers++
	consumer += "#" + strconv.FormatUint(m.consumers, 10) // owner of leases: unique per call
	m.mu.Unlock()

	ctx, cancel := mergeDone(ctx, m.done)
	defer cancel()
	for {
		job, ok := m.next(ctx, consumer)
		if !ok {
			return consumeResult(ctx)
		}
		tick := time.NewTicker(m.opts.ReclaimAfter / 3)
		err := runJob(ctx, job, handle, tick.C, func() { m.renew(job.ID, consumer) }, m.opts.Logger)
		tick.Stop()
		m.finish(ctx, job, consumer, err)
	}
}

func (m *Memory) renew(id, consumer string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.pending[id]; e != nil && e.owner == consumer {
		e.since = time.Now()
	}
}

// finish acknowledges, retries, releases or dead-letters job after its handler returned err.
func (m *Memory) finish(ctx context.Context, job Job, consumer string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.pending[job.ID]
	if e == nil {
		return // acknowledged or dead-lettered by a consumer that took it over
	}
	if err == nil {
		delete(m.pending, job.ID)
		return
	}
	if stopped(ctx, err) {
		// Shut down mid-job: hand the job to another consumer now.
		if e.owner == consumer {
			e.since = time.Now().Add(-m.opts.ReclaimAfter)
			m.broadcast()
		}
		return
	}
	e.reason = reasonOf(err)
	permanent := m.opts.Permanent != nil && m.opts.Permanent(err)
	if permanent || job.Attempt >= m.opts.MaxAttempts {
		delete(m.pending, job.ID)
		m.deadLetter(e, e.reason)
		m.opts.Logger.Warn("queue: job dead-lettered", "job", job.ID, "case", job.CaseID, "attempts", job.Attempt, "permanent", permanent, "reason", e.reason)
		return
	}
	m.opts.Logger.Info("queue: job failed, will retry", "job", job.ID, "case", job.CaseID, "attempt", job.Attempt, "reason", e.reason)
	if e.owner == consumer {
		e.since = time.Now().Add(m.opts.RetryAfter - m.opts.ReclaimAfter)
		m.broadcast() // waiting consumers recompute their timers

	}
}

// stopped reports whether a handler error is the consumer's own shutdown
// rather than a failure of the job.
func stopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrClosed))
}

// DeadLetters implements Queue.
func (m *Memory) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("queue: dead letters: limit %d is not positive: %w", limit, ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	n := min(limit, len(m.dead))
	out := make([]DeadLetter, n)
	copy(out, m.dead[:n])
	return out, nil
}

// Pending implements Queue.
func (m *Memory) Pending(ctx context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	return int64(len(m.ready) - m.head + len(m.pending)), nil
}

// Ready implements Queue: an open Memory queue is always ready.
func (m *Memory) Ready(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// Close implements Queue. Jobs not yet acknowledged are dropped.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
	return nil
}
