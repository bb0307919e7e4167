package loadgen

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var r Result
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := r.Percentile(c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
}

// A service that stalls once must show the stall in the latencies of the
// requests scheduled during it, not only in the one that met it.
func TestOpenLoopCountsTimeFromTheSchedule(t *testing.T) {
	stall := make(chan struct{})
	go func() { time.Sleep(200 * time.Millisecond); close(stall) }()
	r := OpenLoop(context.Background(), 100, 500*time.Millisecond, func(ctx context.Context, i int) error {
		<-stall
		if i == 3 {
			return errors.New("boom")
		}
		return nil
	})
	if r.Requests != 50 || len(r.Latencies) != 50 || r.Errors != 1 || r.FirstErr == nil {
		t.Fatalf("requests %d, latencies %d, errors %d (%v)", r.Requests, len(r.Latencies), r.Errors, r.FirstErr)
	}
	// Requests 0–19 were scheduled during the 200 ms stall and waited for
	// its end, 10–200 ms; measured from when they were sent, all but the
	// first would look instant.
	if got := r.Percentile(0.9); got < 100*time.Millisecond {
		t.Errorf("p90 = %v: the stall was hidden", got)
	}
}

func TestClosedLoopRunsEachClientBackToBack(t *testing.T) {
	r := ClosedLoop(context.Background(), 2, 100*time.Millisecond, func(ctx context.Context, i int) error {
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	if r.Requests < 10 || r.Requests > 22 || r.Errors != 0 {
		t.Fatalf("requests %d errors %d", r.Requests, r.Errors)
	}
}

func TestCPUTimes(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		// The generator reads CPU times from /proc: on Linux, where ecert
		// is measured, its absence is a failure, not a reason to skip.
		t.Fatalf("no /proc/self/stat: %v", err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	p, err := ProcessCPU(os.Getpid())
	if err != nil || p <= 0 || SelfCPU() <= 0 || MachineCPU() <= 0 {
		t.Fatalf("process %v (%v), self %v, machine %v", p, err, SelfCPU(), MachineCPU())
	}
}
