package issuance_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/objectstore"
)

// issueParallel issues b.N fresh approvals with `workers` goroutines,
// reports certificates/s and stored objects/s (two files per certificate)
// and returns the case of the first.
func issueParallel(b *testing.B, e *env, workers int) string {
	ctx := context.Background()
	as := sampledata.Generate(b.N, sampledata.Options{Seed: uint64(b.N), Base: registration.NewDate(2025, 6, 1), Prefix: fmt.Sprintf("B%d", b.N)})
	for i := 0; i < len(as); i += 500 {
		e.intake(b, as[i:min(i+500, len(as))])
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, machine0 := testenv.CPUTime(), testenv.MachineCPU()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(as) {
					return
				}
				if _, err := e.svc.Issue(ctx, as[i].CaseID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	if cpu := testenv.CPUTime() - cpu0; cpu > 0 {
		// This process only (with MinIO, not the servers): steadier than
		// the rate when the machine's speed drifts.
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/cert")
	}
	if m := testenv.MachineCPU() - machine0; m > 0 {
		// Every process (servers, kernel threads) together.
		b.ReportMetric(float64(m.Microseconds())/1000/float64(b.N), "machine-ms/cert")
	}
	b.ReportMetric(float64(b.N)/secs, "certs/s")
	b.ReportMetric(float64(2*b.N)/secs, "objects/s")
	return as[0].CaseID
}

// BenchmarkIssueEmbedded: render + sign + store + record, both formats, on
// the embedded defaults (filesystem objects, SQLite registry).
func BenchmarkIssueEmbedded(b *testing.B) {
	e := newEnv(b, backends{})
	issueParallel(b, e, benchWorkers(issuance.DefaultWorkers(e.store)))
}

// BenchmarkIssueMinIO is the same against MinIO, Redis and PostgreSQL. In
// the same run it measures the storage ceiling: as many plain PUTs of one
// issued PDF (same size, no rendering or signing) to the same MinIO with
// 16 writers, and reports issuance as a share of it. Measuring both back
// to back keeps the machine's drift out of the ratio.
func BenchmarkIssueMinIO(b *testing.B) {
	e := newEnv(b, productionBackendsB(b))
	first := issueParallel(b, e, benchWorkers(issuance.DefaultWorkers(e.store)))
	issued := float64(2*b.N) / b.Elapsed().Seconds()
	res, err := e.svc.Issue(context.Background(), first)
	if err != nil {
		b.Fatal(err)
	}
	pdf := e.read(b, res.Certificate.PDFKey, res.Certificate.PDFSHA256)
	machine0 := testenv.MachineCPU()
	ceiling := putRate(b, e.store, pdf, 2*b.N, ceilingWriters())
	if m := testenv.MachineCPU() - machine0; m > 0 {
		b.ReportMetric(float64(m.Microseconds())/1000/float64(2*b.N), "ceiling-machine-ms/object")
	}
	b.ReportMetric(ceiling, "ceiling-objects/s")
	b.ReportMetric(100*issued/ceiling, "%-of-ceiling")
}

// putRate PUTs data n times with the given concurrency and returns PUTs/s.
func putRate(b *testing.B, s objectstore.Store, data []byte, n, workers int) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if _, err := s.Put(ctx, fmt.Sprintf("ceiling/%d-%d.pdf", n, i), bytes.NewReader(data), int64(len(data)), objectstore.PutOptions{ContentType: "application/pdf"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkPutCeilingMinIO is the storage ceiling for BenchmarkIssueMinIO:
// plain PUTs of certificate-sized objects (same bytes every time) to the
// same MinIO with the same concurrency, no rendering or signing.
func BenchmarkPutCeilingMinIO(b *testing.B) {
	e := newEnv(b, productionBackendsB(b))
	as := sampledata.Generate(1, sampledata.Options{Seed: 5, Base: registration.NewDate(2025, 6, 1)})
	e.intake(b, as)
	res, err := e.svc.Issue(context.Background(), as[0].CaseID)
	if err != nil {
		b.Fatal(err)
	}
	pdf := e.read(b, res.Certificate.PDFKey, res.Certificate.PDFSHA256)
	b.SetBytes(int64(len(pdf)))
	b.ResetTimer()
	b.ReportMetric(putRate(b, e.store, pdf, b.N, ceilingWriters()), "objects/s")
}

// benchWorkers is the concurrency of the issue benchmarks: def, or ECERT_BENCH_WORKERS.
func benchWorkers(def int) int { return envInt("ECERT_BENCH_WORKERS", def) }

// ceilingWriters is the number of concurrent plain PUTs that measure the
// storage ceiling: 16, or ECERT_BENCH_CEILING_WRITERS. MinIO on this
// machine takes the most PUTs/s at about 16 (8: fewer, 32: no more).
func ceilingWriters() int { return envInt("ECERT_BENCH_CEILING_WRITERS", 16) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
