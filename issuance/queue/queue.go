// Package queue is the issue queue: approved cases waiting to become
// certificates. It delivers each job at least once to one of many consumers,
// retries a failing job after a delay, hands a job held by a consumer that
// stopped (crashed, killed, or cancelled) to another consumer after
// Options.ReclaimAfter, and moves a job that failed Options.MaxAttempts times
// to a dead-letter list with the last failure reason.
//
// Two implementations share one contract: Memory, the embedded default, for a
// single process, and Redis, a Redis Streams consumer group shared by any
// number of worker processes. Delivery is at-least-once, so handlers must be
// idempotent (the issuance pipeline is, by case id); in normal operation,
// without crashes or lost leases, no job is handled twice.
//
// The queue never interprets payloads and never logs them: they may carry
// personal data.
package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// Job is one delivery of an enqueued case.
type Job struct {
	// ID is assigned by the queue when the job is enqueued and stays the same
	// on every redelivery (a Redis stream entry id for Redis).
	ID string
	// CaseID is the case the job is for: the handler's idempotency key.
	CaseID string
	// Attempt counts deliveries of this job, starting at 1.
	Attempt int
	// Payload is the opaque data given to Enqueue (may be empty).
	Payload []byte
}

// DeadLetter is a job that was given up after Options.MaxAttempts failed
// attempts (or at once, for a permanent failure or a malformed entry).
type DeadLetter struct {
	// Job is the job as last delivered; Job.Attempt is the number of attempts made.
	Job Job
	// Reason is the last failure's error text.
	Reason string
	// FailedAt is when the job was dead-lettered.
	FailedAt time.Time
}

// Handler processes one job. A nil return acknowledges the job; an error
// leaves it for a retry after Options.RetryAfter, with the error text kept
// as its reason. The context ends when the consumer is stopped.
type Handler func(ctx context.Context, job Job) error

// Queue is the issue queue. Implementations are safe for concurrent use.
type Queue interface {
	// Enqueue adds a job for caseID. Delivery is at least once: the
	// consumer must be idempotent by case id.
	Enqueue(ctx context.Context, caseID string, payload []byte) error
	// Consume runs the consumer named consumer, calling handle for one job
	// at a time, until ctx ends (it then returns nil) or the queue is
	// closed (ErrClosed). The consumer name labels the worker in logs and
	// in Redis; names may repeat. A job still being handled when ctx ends is
	// waited for. Outages of the backing store are retried with backoff.
	Consume(ctx context.Context, consumer string, handle Handler) error
	// DeadLetters returns up to limit dead letters, oldest first.
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)
	// Pending counts jobs enqueued and not yet acknowledged or
	// dead-lettered, including those being handled or waiting for a retry.
	Pending(ctx context.Context) (int64, error)
	// Ready reports whether the queue can accept and deliver jobs.
	Ready(ctx context.Context) error
	// Close stops every Consume call (they return ErrClosed) and makes
	// later calls fail with ErrClosed. It does not close a Redis client it
	// was given.
	Close() error
}

var (
	// ErrClosed is returned by calls on a closed queue.
	ErrClosed = errors.New("queue: closed")
	// ErrInvalid marks bad arguments (empty case id, oversize payload, bad consumer name, bad Options).
	ErrInvalid = errors.New("queue: invalid argument")
	// ErrUnavailable marks a backing store that does not answer (Redis down or too slow).
	ErrUnavailable = errors.New("queue: unavailable")
)

// Limits on what the queue accepts and decodes.
const (
	// MaxCaseIDLen bounds a case id in bytes.
	MaxCaseIDLen = 256
	// MaxConsumerLen bounds a consumer name in bytes.
	MaxConsumerLen = 128
	// MaxReasonLen bounds a kept failure reason in bytes; longer reasons are cut.
	MaxReasonLen  = 2048
	maxPayloadCap = 64 << 20
)

// Options configure a queue. The zero value of every field takes the
// documented default; NewMemory and NewRedis name the first bad field.
type Options struct {
	// KeyPrefix is put before every Redis key (default "ecert:"). Redis only.
	KeyPrefix string
	// Name names the queue (default "issue"). Redis keys are
	// KeyPrefix+"{"+Name+"}:jobs", ":dead" and ":reasons"; the braces keep
	// them in one Redis Cluster slot.
	Name string
	// Group is the Redis consumer group shared by all workers (default "workers").
	Group string
	// MaxAttempts is how many deliveries a job gets before it is
	// dead-lettered (default 5).
	MaxAttempts int
	// ReclaimAfter is how long a delivered job may go without its consumer
	// renewing its lease (consumers renew every ReclaimAfter/3 while they
	// are alive) before another consumer takes it over (default 30 s).
	ReclaimAfter time.Duration
	// RetryAfter is the delay before a failed job is delivered again
	// (default 5 s, at most ReclaimAfter).
	RetryAfter time.Duration
	// Batch is how many jobs a Redis consumer fetches per read (default 16).
	// Fetched jobs are leased to the consumer until handled.
	Batch int
	// Block is how long a consumer waits for new jobs per read before it
	// looks for jobs to reclaim (default 1 s, at most RetryAfter). It also
	// bounds how long Consume takes to return after ctx ends, when idle.
	Block time.Duration
	// MaxPayload bounds a payload in bytes (default 1 MiB, at most 64 MiB).
	MaxPayload int
	// DeadLetterMax is about how many dead letters are kept; the oldest go
	// first (default 100000).
	DeadLetterMax int
	// Permanent, if set, reports handler errors that no retry can fix: such
	// a job is dead-lettered at once.
	Permanent func(error) bool
	// Logger receives warnings about outages and abandoned jobs (default:
	// discarded). Payloads are never logged.
	Logger *slog.Logger
	// Now is the clock for FailedAt (default time.Now). Lease and retry
	// timing uses the monotonic clock (memory) or the Redis server's clock.
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("queue: Options.%s: %s: %w", field, fmt.Sprintf(format, a...), ErrInvalid)
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = "ecert:"
	}
	if len(o.KeyPrefix) > 64 {
		return bad("KeyPrefix", "longer than 64 bytes")
	}
	if o.Name == "" {
		o.Name = "issue"
	}
	if o.Group == "" {
		o.Group = "workers"
	}
	for field, v := range map[string]string{"Name": o.Name, "Group": o.Group} {
		if len(v) > 64 || strings.ContainsAny(v, "{} \t\r\n") || !utf8.ValidString(v) {
			return bad(field, "%q: at most 64 bytes of UTF-8 without braces or spaces", v)
		}
	}
	switch {
	case o.MaxAttempts == 0:
		o.MaxAttempts = 5
	case o.MaxAttempts < 0 || o.MaxAttempts > 1000:
		return bad("MaxAttempts", "%d is not in 1..1000", o.MaxAttempts)
	}
	if o.ReclaimAfter == 0 {
		o.ReclaimAfter = 30 * time.Second
	}
	if o.ReclaimAfter < 30*time.Millisecond {
		return bad("ReclaimAfter", "%v is shorter than 30ms", o.ReclaimAfter)
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = min(5*time.Second, o.ReclaimAfter)
	}
	if o.RetryAfter < time.Millisecond || o.RetryAfter > o.ReclaimAfter {
		return bad("RetryAfter", "%v is not in 1ms..ReclaimAfter (%v)", o.RetryAfter, o.ReclaimAfter)
	}
	switch {
	case o.Batch == 0:
		o.Batch = 16
	case o.Batch < 0 || o.Batch > 1000:
		return bad("Batch", "%d is not in 1..1000", o.Batch)
	}
	if o.Block == 0 {
		o.Block = min(time.Second, o.RetryAfter)
	}
	if o.Block < time.Millisecond || o.Block > o.RetryAfter {
		return bad("Block", "%v is not in 1ms..RetryAfter (%v)", o.Block, o.RetryAfter)
	}
	switch {
	case o.MaxPayload == 0:
		o.MaxPayload = 1 << 20
	case o.MaxPayload < 0 || o.MaxPayload > maxPayloadCap:
		return bad("MaxPayload", "%d is not in 1..%d", o.MaxPayload, maxPayloadCap)
	}
	switch {
	case o.DeadLetterMax == 0:
		o.DeadLetterMax = 100000
	case o.DeadLetterMax < 0:
		return bad("DeadLetterMax", "%d is negative", o.DeadLetterMax)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

func checkEnqueue(caseID string, payload []byte, maxPayload int) error {
	if caseID == "" || len(caseID) > MaxCaseIDLen || !utf8.ValidString(caseID) {
		return fmt.Errorf("queue: enqueue: case id must be 1..%d bytes of UTF-8: %w", MaxCaseIDLen, ErrInvalid)
	}
	if len(payload) > maxPayload {
		return fmt.Errorf("queue: enqueue %s: payload of %d bytes exceeds %d: %w", caseID, len(payload), maxPayload, ErrInvalid)
	}
	return nil
}

func checkConsumer(name string, handle Handler) error {
	if handle == nil {
		return fmt.Errorf("queue: consume: nil handler: %w", ErrInvalid)
	}
	if name == "" || len(name) > MaxConsumerLen || !utf8.ValidString(name) || strings.ContainsAny(name, " \t\r\n@") {
		return fmt.Errorf("queue: consume: consumer name %q must be 1..%d bytes of UTF-8 without spaces or '@': %w", name, MaxConsumerLen, ErrInvalid)
	}
	return nil
}

// reasonOf returns the text kept for a handler error, cut to MaxReasonLen
// on a rune boundary.
func reasonOf(err error) string {
	s := err.Error()
	if s == "" {
		s = fmt.Sprintf("%T with empty message", err)
	}
	return truncate(s, MaxReasonLen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// abandonedReason is kept for a job whose consumer stopped without
// answering on its last attempt.
func abandonedReason(attempts int, last string) string {
	r := fmt.Sprintf("consumer stopped without acknowledging attempt %d", attempts)
	if last != "" {
		r += "; last error: " + last
	}
	return truncate(r, MaxReasonLen)
}

// runJob calls handle in its own goroutine and calls renew on every tick
// while ctx is alive, until handle returns. A panicking handler is turned
// into an error so that one bad job cannot kill the worker.
func runJob(ctx context.Context, job Job, handle Handler, tick <-chan time.Time, renew func(), log *slog.Logger) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				log.Error("queue: handler panicked", "job", job.ID, "case", job.CaseID, "panic", r)
				done <- fmt.Errorf("queue: handler panicked: %v", r)
			}
		}()
		done <- handle(ctx, job)
	}()
	for {
		select {
		case err := <-done:
			return err
		case <-tick:
			if ctx.Err() == nil {
				renew()
			}
		}
	}
}

// backoff is a capped exponential backoff with full jitter.
type backoff struct{ n int }

func (b *backoff) reset() { b.n = 0 }

func (b *backoff) next() time.Duration {
	d := 50 * time.Millisecond << min(b.n, 6) // 50ms .. 3.2s
	b.n++
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends, reporting whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// mergeDone returns a context that ends when ctx ends or done is closed.
func mergeDone(ctx context.Context, done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-done:
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// consumeResult is what Consume returns when its loop ends.
func consumeResult(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return nil
}
