package certgen

import (
	"context"
	"strconv"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
)

// distinct returns a copy of c with the i-th licence identifier, so its
// QR code, document ID and text differ from every other iteration's (the
// QR cache never hits, as in a batch of new certificates).
func distinct(c *Certificate, i int) *Certificate {
	d := *c
	d.LicenceID = c.LicenceID + "." + strconv.Itoa(i)
	d.VerifyURL = "" // derived from the renderer's base URL and the new identifier
	return &d
}

// distinctSeq numbers distinct certificates across benchmark runs, so a
// repeated run (-count) never meets a cached QR code.
var distinctSeq int

func benchRender(b *testing.B, fresh bool, render func(context.Context, *Certificate) (int, error)) {
	c := loadRecord(b, "zhang.json")
	ctx := context.Background()
	if _, err := render(ctx, c); err != nil { // warm: fonts parsed, seal drawn
		b.Fatal(err)
	}
	var n int
	cpu0 := testenv.CPUTime()
	for b.Loop() {
		cc := c
		if fresh {
			distinctSeq++
			cc = distinct(c, distinctSeq)
		}
		size, err := render(ctx, cc)
		if err != nil {
			b.Fatal(err)
		}
		n = size
	}
	if cpu := testenv.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.ReportMetric(float64(n), "bytes/doc")
}

// BenchmarkRender renders both formats from one layout (Renderer.Render),
// the issuance path.
func BenchmarkRender(b *testing.B) {
	r := defaultRenderer(b)
	both := func(ctx context.Context, c *Certificate) (int, error) {
		p, o, err := r.Render(ctx, c)
		return len(p) + len(o), err
	}
	b.Run("same", func(b *testing.B) { benchRender(b, false, both) })
	b.Run("distinct", func(b *testing.B) { benchRender(b, true, both) })
}

// BenchmarkSame renders each format alone, always the same certificate
// (like BenchmarkPDF and BenchmarkOFD, with the CPU-time metric).
func BenchmarkSame(b *testing.B) {
	r := defaultRenderer(b)
	b.Run("PDF", func(b *testing.B) {
		benchRender(b, false, func(ctx context.Context, c *Certificate) (int, error) {
			p, err := r.PDF(ctx, c)
			return len(p), err
		})
	})
	b.Run("OFD", func(b *testing.B) {
		benchRender(b, false, func(ctx context.Context, c *Certificate) (int, error) {
			o, err := r.OFD(ctx, c)
			return len(o), err
		})
	})
}

// BenchmarkDistinct renders each format alone for a new certificate every time.
func BenchmarkDistinct(b *testing.B) {
	r := defaultRenderer(b)
	b.Run("PDF", func(b *testing.B) {
		benchRender(b, true, func(ctx context.Context, c *Certificate) (int, error) {
			p, err := r.PDF(ctx, c)
			return len(p), err
		})
	})
	b.Run("OFD", func(b *testing.B) {
		benchRender(b, true, func(ctx context.Context, c *Certificate) (int, error) {
			o, err := r.OFD(ctx, c)
			return len(o), err
		})
	})
}

// TestQRCacheReturnsSameModules checks that a cached QR code is the one the
// encoder gives and that the cache stays bounded.
func TestQRCacheReturnsSameModules(t *testing.T) {
	u := testBaseURL + "/cache-test"
	a, err := qrModules(u)
	if err != nil {
		t.Fatal(err)
	}
	for i := range qrCacheSize + 10 {
		if _, err := qrModules(u + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	qrCache.Lock()
	n := len(qrCache.m)
	qrCache.Unlock()
	if n > qrCacheSize {
		t.Errorf("QR cache holds %d entries, limit %d", n, qrCacheSize)
	}
	b, err := qrModules(u) // evicted: encoded again
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("QR size %d then %d", len(a), len(b))
	}
	for y := range a {
		for x := range a[y] {
			if a[y][x] != b[y][x] {
				t.Fatalf("module (%d,%d) differs between encodings", x, y)
			}
		}
	}
}
