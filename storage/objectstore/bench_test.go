package objectstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const benchObjectSize = 60 << 10 // a typical signed certificate PDF

// runWorkers runs op(i) for i in [0, n) on w goroutines and returns the
// wall time taken.
func runWorkers(b *testing.B, n, w int, op func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	start := time.Now()
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					once.Do(func() { b.Error(err) })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func reportThroughput(b *testing.B, n int, d time.Duration) {
	b.ReportMetric(float64(n)/d.Seconds(), "objects/s")
	b.ReportMetric(float64(n)*benchObjectSize/d.Seconds()/1e6, "MB/s")
}

func benchStores(b *testing.B) map[string]Store {
	fs, err := NewFilesystem(FSConfig{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fs.Close() })
	return map[string]Store{"minio": newTestMinIO(b, MinIOConfig{}), "fs": fs}
}

// BenchmarkPut60KB stores 60 KB objects with 1, 8 and 32 concurrent writers.
func BenchmarkPut60KB(b *testing.B) {
	data := randBytes(5, benchObjectSize)
	ctx := context.Background()
	for name, s := range benchStores(b) {
		for _, w := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/writers=%d", name, w), func(b *testing.B) {
				b.ResetTimer()
				d := runWorkers(b, b.N, w, func(i int) error {
					_, err := s.Put(ctx, fmt.Sprintf("bench/put/%d/%d", w, i%1000), bytes.NewReader(data), benchObjectSize, PutOptions{ContentType: "application/pdf"})
					return err
				})
				reportThroughput(b, b.N, d)
			})
		}
	}
}

// BenchmarkGet60KB reads (and digest-checks) 60 KB objects with 1, 8 and
// 32 concurrent readers.
func BenchmarkGet60KB(b *testing.B) {
	data := randBytes(6, benchObjectSize)
	ctx := context.Background()
	const objects = 200
	for name, s := range benchStores(b) {
		runWorkers(b, objects, 8, func(i int) error {
			_, err := s.Put(ctx, fmt.Sprintf("bench/get/%d", i), bytes.NewReader(data), benchObjectSize, PutOptions{})
			return err
		})
		for _, w := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/readers=%d", name, w), func(b *testing.B) {
				buf := sync.Pool{New: func() any { return make([]byte, 32<<10) }}
				b.ResetTimer()
				d := runWorkers(b, b.N, w, func(i int) error {
					rc, _, err := s.Get(ctx, fmt.Sprintf("bench/get/%d", i%objects))
					if err != nil {
						return err
					}
					defer rc.Close()
					p := buf.Get().([]byte)
					defer buf.Put(p)
					_, err = io.CopyBuffer(io.Discard, rc, p)
					return err
				})
				reportThroughput(b, b.N, d)
			})
		}
	}
}
