package cache

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// latencyBench runs op b.N times on w goroutines, timing every call, and
// reports the 50th and 99th percentile latencies in microseconds.
func latencyBench(b *testing.B, w int, op func(i int) error) {
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range w {
		wg.Go(func() {
			for i := g; i < b.N; i += w {
				start := time.Now()
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func benchCaches(b *testing.B) map[string]Cache {
	return map[string]Cache{"redis": newTestRedis(b, RedisConfig{}), "memory": NewMemory(MemoryConfig{})}
}

// BenchmarkCacheLatency measures Get and Set of a 200-byte record (the size
// of a re-stamp cache entry) with 1 and 8 concurrent callers.
func BenchmarkCacheLatency(b *testing.B) {
	ctx := context.Background()
	val := make([]byte, 200)
	for name, c := range benchCaches(b) {
		for i := range 1000 {
			if err := c.Set(ctx, fmt.Sprintf("restamp:%d:pdf", i), val, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		for _, w := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/get/callers=%d", name, w), func(b *testing.B) {
				latencyBench(b, w, func(i int) error {
					_, err := c.Get(ctx, fmt.Sprintf("restamp:%d:pdf", i%1000))
					return err
				})
			})
			b.Run(fmt.Sprintf("%s/set/callers=%d", name, w), func(b *testing.B) {
				latencyBench(b, w, func(i int) error {
					return c.Set(ctx, fmt.Sprintf("restamp:%d:pdf", i%1000), val, time.Hour)
				})
			})
		}
	}
}
