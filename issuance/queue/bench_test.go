package queue

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
)

// BenchmarkThroughput enqueues b.N jobs from 4 producers while 4 consumers
// handle them (with a no-op handler), and reports jobs/s from the first
// enqueue to the last acknowledgement: the queue's own ceiling, far above
// what issuance (render + sign + store) needs.
func BenchmarkThroughput(b *testing.B) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprint("redis/batch=", batch), func(b *testing.B) {
			addr := testenv.RedisAddr(b)
			opts := Options{KeyPrefix: uniquePrefix(b), Batch: batch}
			dropKeys(b, newClient(b, addr), opts)
			q, err := NewRedis(newClient(b, addr), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer q.Close()
			benchThroughput(b, q)
		})
	}
	b.Run("memory", func(b *testing.B) {
		q, err := NewMemory(Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer q.Close()
		benchThroughput(b, q)
	})
}

func benchThroughput(b *testing.B, q Queue) {
	const producers, workers = 4, 4
	payload := []byte(`{"case":"LN-2025-000001","type":"initial"}`)
	var done atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.Consume(ctx, fmt.Sprint("bench-", w), func(context.Context, Job) error {
				if done.Add(1) == n {
					close(all)
				}
				return nil
			})
		}()
	}
	b.ResetTimer()
	start := time.Now()
	var pw sync.WaitGroup
	for p := range producers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := p; i < b.N; i += producers {
				if err := q.Enqueue(ctx, fmt.Sprint("case-", i), payload); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	pw.Wait()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("handled %d of %d jobs", done.Load(), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
}
