package deflate

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"io"
	"os"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// sample is font-like and text-like data: the start of a shipped font
// and a repeated XML fragment.
func sample(t testing.TB) []byte {
	f, err := os.ReadFile("../../../templates/fonts/DejaVuSans.ttf")
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), f[100000:130000]...)
	for range 100 {
		b = append(b, `<ofd:TextObject ID="12" Boundary="30 59.77 21.667 5.503" Font="3" Size="4.233"><ofd:FillColor Value="90 74 42"/>`...)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	src := sample(t)
	s := Compress(src)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(s.Deflated)))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("raw DEFLATE does not inflate back: %v", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.Zlib()))
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(zr) // checks the Adler-32 too
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("zlib stream does not inflate back: %v", err)
	}
	if len(s.Deflated) >= len(src)*3/4 {
		t.Errorf("compressed %d bytes to %d", len(src), len(s.Deflated))
	}
}

func BenchmarkStdlib(b *testing.B) {
	src := sample(b)
	w, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		w.Reset(&buf)
		w.Write(src)
		w.Close()
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}

func BenchmarkKlauspost(b *testing.B) {
	src := sample(b)
	for _, lvl := range []int{1, 2, kflate.HuffmanOnly} {
		b.Run(map[int]string{1: "level1", 2: "level2", kflate.HuffmanOnly: "huffman"}[lvl], func(b *testing.B) {
			w, _ := kflate.NewWriter(io.Discard, lvl)
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(src)
				w.Close()
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
