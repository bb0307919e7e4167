package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// opener returns a factory of Queue values on one fresh, empty queue. For
// Redis every call is a separate Queue value with its own client, as two
// worker processes would have; for Memory every call returns the same
// queue, since separate processes cannot share one.
type opener func(t *testing.T, opts Options) func() Queue

// fastOptions are short timings so that retries and reclaims happen within
// the test's patience.
func fastOptions() Options {
	return Options{ReclaimAfter: 300 * time.Millisecond, RetryAfter: 50 * time.Millisecond, Block: 20 * time.Millisecond, MaxAttempts: 3}
}

// waitFor polls cond until it holds or the (generous) deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// consumers runs Consume for each name on q until the test ends, failing
// the test if one returns an unexpected error.
type consumers struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

func startConsumers(t *testing.T, q Queue, handle Handler, names ...string) *consumers {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &consumers{cancel: cancel}
	for _, n := range names {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := q.Consume(ctx, n, handle); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Consume(%s): %v", n, err)
			}
		}()
	}
	t.Cleanup(c.stop)
	return c
}

func (c *consumers) stop() { c.cancel(); c.wg.Wait() }

func pending(t *testing.T, q Queue) int64 {
	t.Helper()
	n, err := q.Pending(context.Background())
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	return n
}

func deadLetters(t *testing.T, q Queue) []DeadLetter {
	t.Helper()
	d, err := q.DeadLetters(context.Background(), 1000)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	return d
}

// counter counts handled jobs per case id.
type counter struct {
	mu       sync.Mutex
	n        map[string]int
	attempts map[string][]int
	total    atomic.Int64
}

func newCounter() *counter { return &counter{n: map[string]int{}, attempts: map[string][]int{}} }

func (c *counter) add(j Job) {
	c.mu.Lock()
	c.n[j.CaseID]++
	c.attempts[j.CaseID] = append(c.attempts[j.CaseID], j.Attempt)
	c.mu.Unlock()
	c.total.Add(1)
}

func (c *counter) get(caseID string) (int, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[caseID], append([]int(nil), c.attempts[caseID]...)
}

func runContract(t *testing.T, open opener) {
	t.Run("ExactlyOnceWithFourConsumers", func(t *testing.T) { testExactlyOnce(t, open) })
	t.Run("RetryThenDeadLetter", func(t *testing.T) { testRetryDeadLetter(t, open) })
	t.Run("PermanentFailure", func(t *testing.T) { testPermanent(t, open) })
	t.Run("PanicIsAFailure", func(t *testing.T) { testPanic(t, open) })
	t.Run("ReclaimFromStoppedConsumer", func(t *testing.T) { testReclaimStuck(t, open) })
	t.Run("AbandonedLastAttempt", func(t *testing.T) { testAbandonedLastAttempt(t, open) })
	t.Run("ShutdownReleasesJob", func(t *testing.T) { testShutdownReleases(t, open) })
	t.Run("LongJobsKeepTheirLease", func(t *testing.T) { testLongJobs(t, open) })
	t.Run("PendingCounts", func(t *testing.T) { testPending(t, open) })
	t.Run("InvalidArguments", func(t *testing.T) { testInvalid(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
}

func testExactlyOnce(t *testing.T, open opener) {
	const jobs = 1000
	opts := fastOptions()
	// Not a reclaim test: a lease long enough that a starved test process
	// (-race on a loaded machine) does not lose one.
	opts.ReclaimAfter = 3 * time.Second
	peer := open(t, opts)
	q1, q2 := peer(), peer()
	c := newCounter()
	var bad atomic.Int64
	handle := func(ctx context.Context, j Job) error {
		if string(j.Payload) != "payload of "+j.CaseID || j.Attempt != 1 || j.ID == "" {
			bad.Add(1)
		}
		c.add(j)
		return nil
	}
	// Two queue values (two "processes") with two consumers each; the
	// names repeat across them, as they would in two copies of one binary.
	startConsumers(t, q1, handle, "w1", "w2")
	startConsumers(t, q2, handle, "w1", "w2")

	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := []Queue{q1, q2}[p%2]
			for i := p; i < jobs; i += 4 {
				id := fmt.Sprintf("case-%04d", i)
				if err := q.Enqueue(context.Background(), id, []byte("payload of "+id)); err != nil {
					t.Errorf("Enqueue: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "all jobs handled", func() bool { return c.total.Load() >= jobs && pending(t, q1) == 0 })
	// Leave time for a wrongful redelivery (a reclaim or a retry) to show up.
	time.Sleep(time.Second)
	if n := c.total.Load(); n != jobs {
		t.Errorf("handled %d jobs, want %d", n, jobs)
	}
	for i := range jobs {
		id := fmt.Sprintf("case-%04d", i)
		if n, _ := c.get(id); n != 1 {
			t.Errorf("%s handled %d times", id, n)
		}
	}
	if bad.Load() != 0 {
		t.Errorf("%d jobs had a wrong payload, attempt or id", bad.Load())
	}
	if d := deadLetters(t, q1); len(d) != 0 {
		t.Errorf("dead letters: %v", d)
	}
}

func testRetryDeadLetter(t *testing.T, open opener) {
	opts := fastOptions()
	failedAt := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	opts.Now = func() time.Time { return failedAt }
	q := open(t, opts)()
	c := newCounter()
	startConsumers(t, q, func(ctx context.Context, j Job) error {
		c.add(j)
		switch j.CaseID {
		case "bad":
			return fmt.Errorf("render: attempt %d: font missing", j.Attempt)
		case "flaky":
			if j.Attempt < 3 {
				return errors.New("storage unavailable")
			}
		}
		return nil
	}, "a", "b")
	for _, id := range []string{"bad", "flaky", "ok"} {
		if err := q.Enqueue(context.Background(), id, []byte("p-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "queue drained", func() bool { return pending(t, q) == 0 })
	d := deadLetters(t, q)
	if len(d) != 1 {
		t.Fatalf("dead letters = %+v, want one", d)
	}
	got := d[0]
	if got.Job.CaseID != "bad" || got.Job.Attempt != 3 || string(got.Job.Payload) != "p-bad" || got.Job.ID == "" {
		t.Errorf("dead letter job = %+v", got.Job)
	}
	if got.Reason != "render: attempt 3: font missing" {
		t.Errorf("dead letter reason = %q, want the last attempt's error", got.Reason)
	}
	if !got.FailedAt.Equal(failedAt) {
		t.Errorf("FailedAt = %v, want %v (the injected clock)", got.FailedAt, failedAt)
	}
	for id, want := range map[string][]int{"bad": {1, 2, 3}, "flaky": {1, 2, 3}, "ok": {1}} {
		if _, a := c.get(id); fmt.Sprint(a) != fmt.Sprint(want) {
			t.Errorf("%s attempts = %v, want %v", id, a, want)
		}
	}
}

var errForged = errors.New("approval signature forged")

func testPermanent(t *testing.T, open opener) {
	opts := fastOptions()
	opts.MaxAttempts = 5
	opts.Permanent = func(err error) bool { return errors.Is(err, errForged) }
	q := open(t, opts)()
	c := newCounter()
	startConsumers(t, q, func(ctx context.Context, j Job) error {
		c.add(j)
		return fmt.Errorf("case %s: %w", j.CaseID, errForged)
	}, "a")
	if err := q.Enqueue(context.Background(), "perm", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead letter", func() bool { return len(deadLetters(t, q)) == 1 })
	d := deadLetters(t, q)[0]
	if d.Job.Attempt != 1 || d.Reason != "case perm: approval signature forged" || d.Job.Payload != nil {
		t.Errorf("dead letter = %+v", d)
	}
	if n, _ := c.get("perm"); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
	if p := pending(t, q); p != 0 {
		t.Errorf("Pending = %d after dead-lettering", p)
	}
}

func testPanic(t *testing.T, open opener) {
	opts := fastOptions()
	opts.MaxAttempts = 2
	q := open(t, opts)()
	startConsumers(t, q, func(ctx context.Context, j Job) error { panic("nil template") }, "a")
	if err := q.Enqueue(context.Background(), "p", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead letter", func() bool { return len(deadLetters(t, q)) == 1 })
	d := deadLetters(t, q)[0]
	if d.Job.Attempt != 2 || !strings.Contains(d.Reason, "panicked: nil template") {
		t.Errorf("dead letter = %+v", d)
	}
}

// testReclaimStuck: consumer A takes a job and its handler never returns;
// A is stopped. Another consumer (on another Queue value) must take the job
// over after ReclaimAfter and finish it.
func testReclaimStuck(t *testing.T, open opener) {
	opts := fastOptions()
	peer := open(t, opts)
	qa, qb := peer(), peer()
	got := make(chan Job, 1)
	unblock := make(chan struct{})
	a := startConsumers(t, qa, func(ctx context.Context, j Job) error {
		got <- j
		<-unblock // ignores ctx: a hung handler
		return errors.New("too late")
	}, "a")
	t.Cleanup(func() { close(unblock) }) // runs before a's stop
	if err := qa.Enqueue(context.Background(), "stuck", []byte("x")); err != nil {
		t.Fatal(err)
	}
	first := <-got
	a.cancel() // A stops renewing its lease; its handler hangs on

	c := newCounter()
	done := make(chan Job, 1)
	startConsumers(t, qb, func(ctx context.Context, j Job) error {
		c.add(j)
		done <- j
		return nil
	}, "b")
	var second Job
	select {
	case second = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("job was not reclaimed")
	}
	if second.ID != first.ID || second.CaseID != "stuck" || second.Attempt != 2 || string(second.Payload) != "x" {
		t.Errorf("reclaimed %+v after %+v", second, first)
	}
	waitFor(t, "queue drained", func() bool { return pending(t, qb) == 0 })
	if n, _ := c.get("stuck"); n != 1 {
		t.Errorf("B handled the job %d times", n)
	}
	if d := deadLetters(t, qb); len(d) != 0 {
		t.Errorf("dead letters: %+v", d)
	}
}

// testAbandonedLastAttempt: the consumer of a job's last attempt stops
// without an answer; the job is dead-lettered by the next consumer that
// finds it, not handled again.
func testAbandonedLastAttempt(t *testing.T, open opener) {
	opts := fastOptions()
	opts.MaxAttempts = 1
	peer := open(t, opts)
	qa, qb := peer(), peer()
	got := make(chan Job, 1)
	unblock := make(chan struct{})
	a := startConsumers(t, qa, func(ctx context.Context, j Job) error {
		got <- j
		<-unblock
		return nil
	}, "a")
	t.Cleanup(func() { close(unblock) })
	if err := qa.Enqueue(context.Background(), "hang", []byte("h")); err != nil {
		t.Fatal(err)
	}
	<-got
	a.cancel()
	var handledByB atomic.Int64
	startConsumers(t, qb, func(ctx context.Context, j Job) error { handledByB.Add(1); return nil }, "b")
	waitFor(t, "dead letter", func() bool { return len(deadLetters(t, qb)) == 1 })
	d := deadLetters(t, qb)[0]
	if d.Job.CaseID != "hang" || d.Job.Attempt != 1 || string(d.Job.Payload) != "h" ||
		d.Reason != "consumer stopped without acknowledging attempt 1" {
		t.Errorf("dead letter = %+v", d)
	}
	if n := handledByB.Load(); n != 0 {
		t.Errorf("job handled again %d times after its last attempt", n)
	}
	if p := pending(t, qb); p != 0 {
		t.Errorf("Pending = %d", p)
	}
}

// testShutdownReleases: a handler that honours ctx returns when its
// consumer stops; the job goes to another consumer without a failure being
// recorded.
func testShutdownReleases(t *testing.T, open opener) {
	opts := fastOptions()
	opts.MaxAttempts = 2
	peer := open(t, opts)
	qa, qb := peer(), peer()
	got := make(chan Job, 1)
	a := startConsumers(t, qa, func(ctx context.Context, j Job) error {
		got <- j
		<-ctx.Done()
		return fmt.Errorf("render: %w", ctx.Err())
	}, "a")
	if err := qa.Enqueue(context.Background(), "s", nil); err != nil {
		t.Fatal(err)
	}
	<-got
	a.stop() // returns once the handler has returned
	done := make(chan Job, 1)
	startConsumers(t, qb, func(ctx context.Context, j Job) error { done <- j; return nil }, "b")
	select {
	case j := <-done:
		if j.Attempt != 2 {
			t.Errorf("attempt = %d, want 2", j.Attempt)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("released job was not delivered")
	}
	waitFor(t, "queue drained", func() bool { return pending(t, qb) == 0 })
	if d := deadLetters(t, qb); len(d) != 0 {
		t.Errorf("dead letters: %+v", d)
	}
}

// testLongJobs: jobs that take longer than ReclaimAfter, with other
// consumers idle and looking for jobs to reclaim, are still handled once:
// live consumers renew their leases, including those of fetched jobs that
// wait their turn in a batch.
func testLongJobs(t *testing.T, open opener) {
	opts := fastOptions()
	opts.ReclaimAfter = 150 * time.Millisecond
	opts.Batch = 8
	peer := open(t, opts)
	c := newCounter()
	handle := func(ctx context.Context, j Job) error {
		c.add(j)
		if j.CaseID == "long" {
			time.Sleep(4 * opts.ReclaimAfter)
		} else {
			time.Sleep(opts.ReclaimAfter / 4)
		}
		return nil
	}
	q1 := peer()
	if err := q1.Enqueue(context.Background(), "long", nil); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := q1.Enqueue(context.Background(), fmt.Sprint("short-", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	startConsumers(t, q1, handle, "a")
	time.Sleep(opts.ReclaimAfter / 3) // let "a" fetch a batch before the others start
	startConsumers(t, peer(), handle, "b", "c")
	waitFor(t, "queue drained", func() bool { return pending(t, q1) == 0 })
	time.Sleep(2 * opts.ReclaimAfter)
	if n := c.total.Load(); n != 13 {
		t.Errorf("handled %d jobs, want 13", n)
	}
	for _, id := range []string{"long", "short-0", "short-6", "short-11"} {
		if n, a := c.get(id); n != 1 {
			t.Errorf("%s handled %d times (attempts %v)", id, n, a)
		}
	}
}

func testPending(t *testing.T, open opener) {
	opts := fastOptions()
	q := open(t, opts)()
	if p := pending(t, q); p != 0 {
		t.Fatalf("empty queue: Pending = %d", p)
	}
	for i := range 5 {
		if err := q.Enqueue(context.Background(), fmt.Sprint("c", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if p := pending(t, q); p != 5 {
		t.Fatalf("after 5 enqueues: Pending = %d", p)
	}
	hold := make(chan struct{})
	var handled atomic.Int64
	startConsumers(t, q, func(ctx context.Context, j Job) error {
		if handled.Add(1) == 3 {
			<-hold
		}
		return nil
	}, "a")
	waitFor(t, "two acknowledged", func() bool { return handled.Load() == 3 })
	if p := pending(t, q); p != 3 {
		t.Errorf("two acknowledged, one in flight: Pending = %d, want 3", p)
	}
	close(hold)
	waitFor(t, "queue drained", func() bool { return pending(t, q) == 0 })
	if n := handled.Load(); n != 5 {
		t.Errorf("handled %d, want 5", n)
	}
}

func testInvalid(t *testing.T, open opener) {
	opts := fastOptions()
	opts.MaxPayload = 10
	q := open(t, opts)()
	ctx := context.Background()
	for _, tc := range []struct {
		caseID  string
		payload []byte
	}{
		{"", nil},
		{strings.Repeat("x", MaxCaseIDLen+1), nil},
		{"bad\xffutf8", nil},
		{"ok", make([]byte, 11)},
	} {
		if err := q.Enqueue(ctx, tc.caseID, tc.payload); !errors.Is(err, ErrInvalid) {
			t.Errorf("Enqueue(%q, %d bytes) = %v, want ErrInvalid", tc.caseID, len(tc.payload), err)
		}
	}
	if p := pending(t, q); p != 0 {
		t.Errorf("Pending = %d after refused enqueues", p)
	}
	if err := q.Enqueue(ctx, "ok", make([]byte, 10)); err != nil {
		t.Errorf("payload at the limit: %v", err)
	}
	nop := func(context.Context, Job) error { return nil }
	for _, name := range []string{"", "with space", "a@b", strings.Repeat("n", MaxConsumerLen+1)} {
		if err := q.Consume(ctx, name, nop); !errors.Is(err, ErrInvalid) {
			t.Errorf("Consume(%q) = %v, want ErrInvalid", name, err)
		}
	}
	if err := q.Consume(ctx, "n", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Consume with nil handler = %v, want ErrInvalid", err)
	}
	if _, err := q.DeadLetters(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeadLetters(0) = %v, want ErrInvalid", err)
	}
}

func testClose(t *testing.T, open opener) {
	q := open(t, fastOptions())()
	ctx := context.Background()
	if err := q.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	ret := make(chan error, 1)
	go func() { ret <- q.Consume(ctx, "a", func(context.Context, Job) error { return nil }) }()
	time.Sleep(50 * time.Millisecond)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ret:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Consume after Close = %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Consume did not return after Close")
	}
	if err := q.Enqueue(ctx, "x", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v", err)
	}
	if err := q.Ready(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ready after Close = %v", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		field string
		opts  Options
	}{
		{"MaxAttempts", Options{MaxAttempts: -1}},
		{"ReclaimAfter", Options{ReclaimAfter: time.Millisecond}},
		{"RetryAfter", Options{ReclaimAfter: time.Second, RetryAfter: 2 * time.Second}},
		{"Block", Options{RetryAfter: time.Second, Block: 2 * time.Second}},
		{"Batch", Options{Batch: 1001}},
		{"MaxPayload", Options{MaxPayload: maxPayloadCap + 1}},
		{"DeadLetterMax", Options{DeadLetterMax: -1}},
		{"Name", Options{Name: "a{b}"}},
		{"Group", Options{Group: "g 1"}},
		{"KeyPrefix", Options{KeyPrefix: strings.Repeat("p", 65)}},
	} {
		_, err := NewMemory(tc.opts)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Options."+tc.field) {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
	o := Options{}
	if err := o.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if o.MaxAttempts != 5 || o.ReclaimAfter != 30*time.Second || o.RetryAfter != 5*time.Second ||
		o.Block != time.Second || o.Batch != 16 || o.KeyPrefix != "ecert:" || o.Name != "issue" || o.Group != "workers" {
		t.Errorf("defaults = %+v", o)
	}
	o = Options{ReclaimAfter: 200 * time.Millisecond}
	if err := o.setDefaults(); err != nil || o.RetryAfter != 200*time.Millisecond || o.Block != 200*time.Millisecond {
		t.Errorf("short ReclaimAfter: RetryAfter %v, Block %v, err %v", o.RetryAfter, o.Block, err)
	}
}
