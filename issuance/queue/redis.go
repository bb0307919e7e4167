package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ecert/ecert/internal/redisutil"
)

// Redis is the issue queue in a Redis stream (Redis 7.0 or later) read by
// one consumer group that every worker process joins.
//
// Layout: jobs are entries of the stream KeyPrefix+"{Name}:jobs" with the
// fields "case" and "payload". A consumer reads new entries with XREADGROUP
// and holds them in the group's pending-entries list (PEL) while it handles
// them, renewing its lease (resetting the entry's idle time with XCLAIM
// JUSTID, which does not count a delivery) every ReclaimAfter/3. A handled
// job is acknowledged and deleted (XACK + XDEL), so the stream's length is
// the number of unfinished jobs. A failed job stays in the PEL: its reason
// goes into the hash "{Name}:reasons" under the entry id and its idle time
// is set so that it becomes claimable after RetryAfter. Every consumer
// periodically takes over entries idle longer than ReclaimAfter (XAUTOCLAIM)
// — failed jobs due for a retry and jobs of consumers that died — and reads
// their delivery count from XPENDING in the same script: the delivery count
// is the attempt number. A job that fails its MaxAttempts-th attempt, or is
// claimed after its consumer stopped during that attempt, is appended to
// the stream "{Name}:dead" (fields id, case, payload, attempts, reason,
// failed_at) and acknowledged, atomically.
//
// The group's consumer names are the names given to Consume suffixed with a
// random id per Redis value and a count per call, so that two processes, or
// two calls, may use the same name; consumers idle for 4×ReclaimAfter with
// no pending entries are removed from the group.
type Redis struct {
	c                   redis.UniversalClient
	opts                Options
	jobs, dead, reasons string
	instance            string

	groupReady atomic.Bool

	mu        sync.Mutex
	consumers uint64 // Consume calls so far
	closed    bool
	done      chan struct{}
}

var _ Queue = (*Redis)(nil)

// NewRedis returns a queue on client (single node, Sentinel or Cluster; its
// timeouts bound every command). It does not contact Redis: the consumer
// group is created by the first Consume, and a server that is down makes
// calls fail with ErrUnavailable until it is back. Close does not close
// client.
func NewRedis(client redis.UniversalClient, opts Options) (*Redis, error) {
	if client == nil {
		return nil, fmt.Errorf("queue: nil Redis client: %w", ErrInvalid)
	}
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("queue: instance id: %w", err)
	}
	base := opts.KeyPrefix + "{" + opts.Name + "}:"
	return &Redis{
		c: client, opts: opts,
		jobs: base + "jobs", dead: base + "dead", reasons: base + "reasons",
		instance: hex.EncodeToString(id[:]),
		done:     make(chan struct{}),
	}, nil
}

func (r *Redis) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Enqueue implements Queue with XADD.
func (r *Redis) Enqueue(ctx context.Context, caseID string, payload []byte) error {
	if err := checkEnqueue(caseID, payload, r.opts.MaxPayload); err != nil {
		return err
	}
	if r.isClosed() {
		return ErrClosed
	}
	err := r.c.XAdd(ctx, &redis.XAddArgs{Stream: r.jobs, Values: []any{fieldCase, caseID, fieldPayload, payload}}).Err()
	if err != nil {
		return mapErr("enqueue "+caseID, err)
	}
	return nil
}

// ensureGroup creates the consumer group (and the stream) if missing. The
// group starts at the stream's beginning, so jobs enqueued before the first
// worker started are delivered.
func (r *Redis) ensureGroup(ctx context.Context) error {
	if r.groupReady.Load() {
		return nil
	}
	err := r.c.XGroupCreateMkStream(ctx, r.jobs, r.opts.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return mapErr("create group", err)
	}
	r.groupReady.Store(true)
	return nil
}

// Consume implements Queue.
func (r *Redis) Consume(ctx context.Context, consumer string, handle Handler) error {
	if err := checkConsumer(consumer, handle); err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.consumers++
	name := consumer + "@" + r.instance + "-" + strconv.FormatUint(r.consumers, 10)
	r.mu.Unlock()

	ctx, cancel := mergeDone(ctx, r.done)
	defer cancel()
	c := &redisConsumer{r: r, name: name, handle: handle, cursor: "0-0"}
	var bo backoff
	failing := false
	for ctx.Err() == nil {
		jobs, err := c.fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if isNoGroup(err) {
				r.groupReady.Store(false) // the stream or group was removed (e.g. Redis restarted empty)
			}
			if !failing {
				r.opts.Logger.Warn("queue: cannot read jobs, retrying with backoff", "consumer", c.name, "err", err)
				failing = true
			}
			sleep(ctx, bo.next())
			continue
		}
		if failing {
			r.opts.Logger.Info("queue: reading jobs again", "consumer", c.name)
			failing = false
		}
		bo.reset()
		c.process(ctx, jobs)
	}
	return consumeResult(ctx)
}

// redisConsumer is the state of one Consume call.
type redisConsumer struct {
	r           *Redis
	name        string
	handle      Handler
	cursor      string // XAUTOCLAIM position; "0-0" starts a pass over the PEL
	nextReclaim time.Time
	nextCleanup time.Time
}

// fetched is a job read from the stream, or the reason it cannot be handled.
type fetched struct {
	job       Job
	reason    string // last failure recorded for the job
	malformed error
}

// fetch returns jobs for this consumer: jobs due for a retry or abandoned
// by their consumer first, then new ones (waiting up to Block for them).
func (c *redisConsumer) fetch(ctx context.Context) ([]fetched, error) {
	r := c.r
	if err := r.ensureGroup(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	if !now.Before(c.nextCleanup) {
		c.nextCleanup = now.Add(r.opts.ReclaimAfter)
		if err := c.cleanup(ctx); err != nil {
			return nil, err
		}
	}
	if !now.Before(c.nextReclaim) {
		jobs, next, err := c.reclaim(ctx)
		if err != nil {
			return nil, err
		}
		c.cursor = next
		if next == "0-0" { // a full pass over the PEL is done
			c.nextReclaim = now.Add(min(r.opts.RetryAfter, r.opts.ReclaimAfter) / 4)
		}
		if len(jobs) > 0 {
			return jobs, nil
		}
	}
	streams, err := r.c.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.opts.Group, Consumer: c.name, Streams: []string{r.jobs, ">"},
		Count: int64(r.opts.Batch), Block: r.opts.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("read", err)
	}
	var out []fetched
	for _, s := range streams {
		for _, m := range s.Messages {
			job, err := decodeJob(m.ID, m.Values, 1, r.opts.MaxPayload)
			out = append(out, fetched{job: job, malformed: err})
		}
	}
	return out, nil
}

// reclaimScript takes over entries idle for at least ARGV[3] ms and returns
// {next cursor, {{id, fields, delivery count, last reason or nil}...}}.
// Entries deleted from the stream while pending are dropped from the PEL by
// XAUTOCLAIM (Redis 7); their reasons are removed here.
var reclaimScript = redis.NewScript(`
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {}
for _, m in ipairs(r[2]) do
  if m then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], m[1], m[1], 1)
    local n = 0
    if p[1] then n = p[1][4] end
    out[#out+1] = {m[1], m[2], n, redis.call('HGET', KEYS[2], m[1])}
  end
end
if r[3] then
  for _, id in ipairs(r[3]) do redis.call('HDEL', KEYS[2], id) end
end
return {r[1], out}`)

func (c *redisConsumer) reclaim(ctx context.Context) ([]fetched, string, error) {
	r := c.r
	v, err := reclaimScript.Run(ctx, r.c, []string{r.jobs, r.reasons},
		r.opts.Group, c.name, r.opts.ReclaimAfter.Milliseconds(), c.cursor, r.opts.Batch).Result()
	if err != nil {
		return nil, c.cursor, mapErr("reclaim", err)
	}
	next, entries, err := decodeReclaim(v, r.opts.MaxPayload)
	if err != nil {
		return nil, "0-0", fmt.Errorf("queue: reclaim: %w", err)
	}
	for _, e := range entries {
		r.opts.Logger.Info("queue: reclaimed job", "job", e.job.ID, "case", e.job.CaseID, "attempt", e.job.Attempt, "consumer", c.name)
	}
	return entries, next, nil
}

// cleanupScript removes consumers that have no pending entries and have not
// talked to Redis for ARGV[2] ms (dead workers). The check and the removal
// are atomic, so no pending entry is ever dropped with its consumer.
var cleanupScript = redis.NewScript(`
local gone = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i+1] end
  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    gone = gone + 1
  end
end
return gone`)

func (c *redisConsumer) cleanup(ctx context.Context) error {
	r := c.r
	idle := 4 * r.opts.ReclaimAfter
	n, err := cleanupScript.Run(ctx, r.c, []string{r.jobs}, r.opts.Group, idle.Milliseconds()).Int()
	if err != nil {
		return mapErr("remove idle consumers", err)
	}
	if n > 0 {
		r.opts.Logger.Info("queue: removed idle consumers", "count", n)
	}
	return nil
}

// touchScript resets the idle time of the entries ARGV[5:] to ARGV[3] ms
// for those that the consumer ARGV[2] still owns, and returns their ids.
// ARGV[4] = "1" also takes one off the delivery count (a job given back
// without being started). XCLAIM JUSTID does not count a delivery.
var touchScript = redis.NewScript(`
local kept = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1, ARGV[2])
  if #p == 1 then
    if ARGV[4] == '1' then
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'IDLE', ARGV[3], 'RETRYCOUNT', math.max(p[1][4] - 1, 0), 'JUSTID')
    else
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'IDLE', ARGV[3], 'JUSTID')
    end
    kept[#kept+1] = id
  end
end
return kept`)

// touch sets the idle time of the entries ids that this consumer still owns
// and returns those it owns.
func (c *redisConsumer) touch(ctx context.Context, idle time.Duration, giveBack bool, ids ...string) ([]string, error) {
	r := c.r
	args := make([]any, 0, 4+len(ids))
	dec := "0"
	if giveBack {
		dec = "1"
	}
	args = append(args, r.opts.Group, c.name, idle.Milliseconds(), dec)
	for _, id := range ids {
		args = append(args, id)
	}
	kept, err := touchScript.Run(ctx, r.c, []string{r.jobs}, args...).StringSlice()
	if err != nil {
		return nil, mapErr("lease", err)
	}
	return kept, nil
}

// process handles a batch of fetched jobs one by one, renewing the leases
// of all jobs of the batch not yet finished every ReclaimAfter/3.
func (c *redisConsumer) process(ctx context.Context, batch []fetched) {
	r := c.r
	held := make(map[string]bool, len(batch))
	for _, f := range batch {
		held[f.job.ID] = true
	}
	renew := func() {
		ids := make([]string, 0, len(held))
		for id := range held {
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return
		}
		kept, err := c.touch(ctx, 0, false, ids...)
		if err != nil {
			r.opts.Logger.Warn("queue: cannot renew leases", "consumer", c.name, "err", err)
			return
		}
		still := make(map[string]bool, len(kept))
		for _, id := range kept {
			still[id] = true
		}
		for id := range held {
			if !still[id] {
				r.opts.Logger.Warn("queue: lease lost to another consumer", "job", id, "consumer", c.name)
				delete(held, id)
			}
		}
	}
	tick := time.NewTicker(r.opts.ReclaimAfter / 3)
	defer tick.Stop()
	for i, f := range batch {
		if ctx.Err() != nil {
			c.giveBack(ctx, batch[i:], held)
			return
		}
		select {
		case <-tick.C:
			renew()
		default:
		}
		if !held[f.job.ID] {
			continue
		}
		switch {
		case f.malformed != nil:
			c.deadLetter(ctx, f.job, truncate(f.malformed.Error(), MaxReasonLen))
		case f.job.Attempt > r.opts.MaxAttempts:
			f.job.Attempt-- // the count includes this claim, which is not an attempt
			c.deadLetter(ctx, f.job, abandonedReason(f.job.Attempt, f.reason))
		default:
			err := runJob(ctx, f.job, c.handle, tick.C, renew, r.opts.Logger)
			c.finish(ctx, f.job, err)
		}
		delete(held, f.job.ID)
	}
}

// giveBack makes the held, unstarted jobs of rest claimable at once without
// counting the delivery as an attempt.
func (c *redisConsumer) giveBack(ctx context.Context, rest []fetched, held map[string]bool) {
	var ids []string
	for _, f := range rest {
		if held[f.job.ID] {
			ids = append(ids, f.job.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	c.retry(ctx, "give back unstarted jobs", func(ctx context.Context) error {
		_, err := c.touch(ctx, c.r.opts.ReclaimAfter, true, ids...)
		return err
	})
}

// finish acknowledges, retries, releases or dead-letters job after its
// handler returned err.
func (c *redisConsumer) finish(ctx context.Context, job Job, err error) {
	r := c.r
	if err == nil {
		c.retry(ctx, "acknowledge", func(ctx context.Context) error {
			_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.XAck(ctx, r.jobs, r.opts.Group, job.ID)
				p.XDel(ctx, r.jobs, job.ID)
				p.HDel(ctx, r.reasons, job.ID)
				return nil
			})
			return mapErr("acknowledge", err)
		})
		return
	}
	if stopped(ctx, err) {
		// Shut down mid-job: let another consumer take it now.
		c.retry(ctx, "release", func(ctx context.Context) error {
			_, err := c.touch(ctx, r.opts.ReclaimAfter, false, job.ID)
			return err
		})
		return
	}
	reason := reasonOf(err)
	permanent := r.opts.Permanent != nil && r.opts.Permanent(err)
	if permanent || job.Attempt >= r.opts.MaxAttempts {
		c.deadLetter(ctx, job, reason)
		return
	}
	r.opts.Logger.Info("queue: job failed, will retry", "job", job.ID, "case", job.CaseID, "attempt", job.Attempt, "reason", reason)
	c.retry(ctx, "record failure", func(ctx context.Context) error {
		if err := r.c.HSet(ctx, r.reasons, job.ID, reason).Err(); err != nil {
			return mapErr("record failure", err)
		}
		_, err := c.touch(ctx, r.opts.ReclaimAfter-r.opts.RetryAfter, false, job.ID)
		return err
	})
}

// deadLetterScript acknowledges and deletes entry ARGV[2] and appends it to
// the dead-letter stream, only if it was still pending (so that two
// consumers racing on a lost lease record it once).
var deadLetterScript = redis.NewScript(`
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*',
  'id', ARGV[2], 'case', ARGV[3], 'payload', ARGV[4], 'attempts', ARGV[5], 'reason', ARGV[6], 'failed_at', ARGV[7])
return 1`)

func (c *redisConsumer) deadLetter(ctx context.Context, job Job, reason string) {
	r := c.r
	r.opts.Logger.Warn("queue: job dead-lettered", "job", job.ID, "case", job.CaseID, "attempts", job.Attempt, "reason", reason)
	now := r.opts.Now().UnixMilli()
	c.retry(ctx, "dead-letter", func(ctx context.Context) error {
		err := deadLetterScript.Run(ctx, r.c, []string{r.jobs, r.dead, r.reasons},
			r.opts.Group, job.ID, job.CaseID, job.Payload, job.Attempt, reason, now, r.opts.DeadLetterMax).Err()
		return mapErr("dead-letter", err)
	})
}

// retry runs op until it succeeds, for at most ReclaimAfter/2 (after that
// the job's lease has likely passed to another consumer, which will finish
// it). It keeps going when ctx has ended, so that a consumer being stopped
// still acknowledges the job it just finished.
func (c *redisConsumer) retry(ctx context.Context, what string, op func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.r.opts.ReclaimAfter/2)
	defer cancel()
	var bo backoff
	for {
		err := op(ctx)
		if err == nil {
			return
		}
		if !sleep(ctx, bo.next()) {
			c.r.opts.Logger.Warn("queue: giving up; the job will be delivered again", "op", what, "consumer", c.name, "err", err)
			return
		}
	}
}

// DeadLetters implements Queue: the oldest dead letters kept, up to limit.
func (r *Redis) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("queue: dead letters: limit %d is not positive: %w", limit, ErrInvalid)
	}
	if r.isClosed() {
		return nil, ErrClosed
	}
	msgs, err := r.c.XRangeN(ctx, r.dead, "-", "+", int64(limit)).Result()
	if err != nil {
		return nil, mapErr("dead letters", err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d, err := decodeDeadLetter(m.Values, r.opts.MaxPayload)
		if err != nil {
			return nil, fmt.Errorf("queue: dead letter %s: %w", m.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Pending implements Queue: the length of the job stream, since finished
// jobs are deleted from it.
func (r *Redis) Pending(ctx context.Context) (int64, error) {
	if r.isClosed() {
		return 0, ErrClosed
	}
	n, err := r.c.XLen(ctx, r.jobs).Result()
	if err != nil {
		return 0, mapErr("pending", err)
	}
	return n, nil
}

// Ready implements Queue: Redis answers PING.
func (r *Redis) Ready(ctx context.Context) error {
	if r.isClosed() {
		return ErrClosed
	}
	if err := r.c.Ping(ctx).Err(); err != nil {
		return mapErr("ping", err)
	}
	return nil
}

// Close implements Queue. Jobs stay in Redis for other workers.
func (r *Redis) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
	return nil
}

// mapErr wraps a go-redis error with the operation and, for outages,
// ErrUnavailable. It returns nil for nil.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if redisutil.IsUnavailable(err) {
		return fmt.Errorf("queue: redis %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("queue: redis %s: %w", op, err)
}

// isNoGroup reports a missing stream or group, also from inside a script.
func isNoGroup(err error) bool { return strings.Contains(err.Error(), "NOGROUP") }
