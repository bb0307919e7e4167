package certgen

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ecert/ecert/registration"
)

const testBaseURL = "https://ecert.jst.ln.gov.cn/v"

func loadRecord(t testing.TB, name string) *Certificate {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseRecord(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func defaultRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := NewDefault(Options{VerifyBaseURL: testBaseURL})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderSmoke(t *testing.T) {
	r := defaultRenderer(t)
	for _, n := range []string{"zhang.json", "wang-copy.json"} {
		c := loadRecord(t, n)
		b, err := r.PDF(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		o, err := r.OFD(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if d := os.Getenv("CERTGEN_OUT"); d != "" {
			os.WriteFile(filepath.Join(d, n+".pdf"), b, 0o644)
			os.WriteFile(filepath.Join(d, n+".ofd"), o, 0o644)
		}
	}
}

func BenchmarkPDF(b *testing.B) {
	r := defaultRenderer(b)
	c := loadRecord(b, "zhang.json")
	ctx := context.Background()
	if _, err := r.PDF(ctx, c); err != nil { // warm: fonts parsed, seal drawn
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		out, err := r.PDF(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/doc")
}

func BenchmarkOFD(b *testing.B) {
	r := defaultRenderer(b)
	c := loadRecord(b, "zhang.json")
	ctx := context.Background()
	if _, err := r.OFD(ctx, c); err != nil {
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		out, err := r.OFD(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/doc")
}

func TestVerifyURL(t *testing.T) {
	const lid = "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K"
	cp := &UsageCopy{Serial: "C00ff", ValidFrom: registration.Date{Year: 2025, Month: 6, Day: 1}, ValidUntil: registration.Date{Year: 2025, Month: 11, Day: 27}}
	tests := []struct {
		name string
		c    Certificate
		want string
	}{
		{"no code", Certificate{LicenceID: lid}, testBaseURL + "/" + lid},
		{"code", Certificate{LicenceID: lid, VerifyCode: "K7QM9XR2HT"}, testBaseURL + "/" + lid + "?code=K7QM9XR2HT"},
		{"copy", Certificate{LicenceID: lid, Copy: cp}, testBaseURL + "/" + lid + "?copy=C00ff"},
		{"copy with code", Certificate{LicenceID: lid, VerifyCode: "K7QM9XR2HT", Copy: cp}, testBaseURL + "/" + lid + "?code=K7QM9XR2HT&copy=C00ff"},
		{"own URL kept", Certificate{LicenceID: lid, VerifyCode: "K7QM9XR2HT", VerifyURL: "https://x.example/v/1"}, "https://x.example/v/1"},
	}
	r := defaultRenderer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.VerifyURL(&tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("VerifyURL = %q, want %q", got, tt.want)
			}
		})
	}
}
