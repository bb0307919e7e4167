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

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/objectstore"
)

// benchApprovals makes n fresh approvals and takes them in, outside the timer.
func benchApprovals(b *testing.B, e *env, n int) []intake.Approval {
	as := sampledata.Generate(n, sampledata.Options{Seed: uint64(n), Base: registration.NewDate(2025, 6, 1), Prefix: fmt.Sprintf("B%d", n)})
	for i := 0; i < len(as); i += 500 {
		e.intake(b, as[i:min(i+500, len(as))])
	}
	return as
}

// cost is what a phase of a benchmark took: wall time, this process's CPU
// and the whole machine's CPU.
type cost struct{ wall, cpu, machine time.Duration }

func measure(f func()) cost {
	t0, cpu0, m0 := time.Now(), testenv.CPUTime(), testenv.MachineCPU()
	f()
	return cost{time.Since(t0), testenv.CPUTime() - cpu0, testenv.MachineCPU() - m0}
}

func (c *cost) add(d cost) { c.wall += d.wall; c.cpu += d.cpu; c.machine += d.machine }

// issueAll issues every approval in as with `workers` goroutines.
func issueAll(b *testing.B, e *env, as []intake.Approval, workers int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
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
}

// reportIssue reports certificates/s, stored objects/s (two files per
// certificate), and CPU per certificate of this process and of the machine.
func reportIssue(b *testing.B, c cost, n int) {
	if c.cpu > 0 {
		// This process only (with MinIO, not the servers): steadier than
		// the rate when the machine's speed drifts.
		b.ReportMetric(float64(c.cpu.Microseconds())/1000/float64(n), "cpu-ms/cert")
	}
	if c.machine > 0 {
		// Every process (servers, kernel threads) together.
		b.ReportMetric(float64(c.machine.Microseconds())/1000/float64(n), "machine-ms/cert")
	}
	b.ReportMetric(float64(n)/c.wall.Seconds(), "certs/s")
	b.ReportMetric(float64(2*n)/c.wall.Seconds(), "objects/s")
}

// BenchmarkIssueEmbedded: render + sign + store + record, both formats, on
// the embedded defaults (filesystem objects, SQLite registry).
func BenchmarkIssueEmbedded(b *testing.B) {
	e := newEnv(b, backends{})
	as := benchApprovals(b, e, b.N)
	b.ResetTimer()
	c := measure(func() { issueAll(b, e, as, benchWorkers(issuance.DefaultWorkers(e.store))) })
	b.StopTimer()
	reportIssue(b, c, b.N)
}

// BenchmarkIssueMinIO is the same against MinIO, Redis and PostgreSQL, and
// measures the storage ceiling in the same run: plain PUTs of one issued
// PDF (same size, no rendering or signing) to the same MinIO with 16
// writers, as many as issuing stored. Issuing and the ceiling alternate in
// four slices, so that a change in the machine's speed during the run
// (this VM's drifts by ±15 % within minutes) weighs on both alike; the
// share of the ceiling compares the summed rates.
func BenchmarkIssueMinIO(b *testing.B) {
	e := newEnv(b, productionBackendsB(b))
	as := benchApprovals(b, e, b.N)
	const slices = 4
	var issued, ceiling cost
	var pdf []byte
	b.ResetTimer()
	for k := range slices {
		part := as[k*len(as)/slices : (k+1)*len(as)/slices]
		if len(part) == 0 {
			continue
		}
		b.StartTimer()
		issued.add(measure(func() { issueAll(b, e, part, benchWorkers(issuance.DefaultWorkers(e.store))) }))
		b.StopTimer()
		if pdf == nil {
			res, err := e.svc.Issue(context.Background(), part[0].CaseID)
			if err != nil {
				b.Fatal(err)
			}
			pdf = e.read(b, res.Certificate.PDFKey, res.Certificate.PDFSHA256)
		}
		ceiling.add(measure(func() { putLoop(b, e.store, pdf, fmt.Sprintf("ceiling/%d-%d-", b.N, k), 2*len(part), ceilingWriters()) }))
	}
	reportIssue(b, issued, b.N)
	if ceiling.machine > 0 {
		b.ReportMetric(float64(ceiling.machine.Microseconds())/1000/float64(2*b.N), "ceiling-machine-ms/object")
	}
	ceilingRate := float64(2*b.N) / ceiling.wall.Seconds()
	b.ReportMetric(ceilingRate, "ceiling-objects/s")
	b.ReportMetric(100*(float64(2*b.N)/issued.wall.Seconds())/ceilingRate, "%-of-ceiling")
}

// putLoop PUTs data n times under prefix with the given concurrency.
func putLoop(b *testing.B, s objectstore.Store, data []byte, prefix string, n, workers int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if _, err := s.Put(ctx, fmt.Sprintf("%s%d.pdf", prefix, i), bytes.NewReader(data), int64(len(data)), objectstore.PutOptions{ContentType: "application/pdf"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
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
	c := measure(func() { putLoop(b, e.store, pdf, "ceiling/", b.N, ceilingWriters()) })
	b.ReportMetric(float64(b.N)/c.wall.Seconds(), "objects/s")
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
