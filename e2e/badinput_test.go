package e2e

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/signing/verify"
)

// badInput: each hostile or broken request is a clear 4xx (or an invalid
// verdict) and the server keeps serving.
func (s *stack) badInput(t *testing.T) {
	t.Run("malformed JSON", func(t *testing.T) {
		for _, body := range []string{`{"business_type":`, `{"business_type":"change"} {}`, `{"unknown_field":1}`} {
			r := s.do(t, call{method: http.MethodPost, path: "/api/v1/eligibility", body: []byte(body), header: portal("application/json")})
			if p := problem(t, r, http.StatusBadRequest); p.Code != api.CodeBadRequest {
				t.Errorf("%s: code %q", body, p.Code)
			}
		}
	})
	uploads := []struct {
		name   string
		data   []byte
		status int
		code   string
	}{
		{"oversized", append([]byte("%PDF-1.7\n"), make([]byte, 10<<20)...), http.StatusRequestEntityTooLarge, api.CodeTooLarge},
		{"neither OFD nor PDF", []byte("<html><body>证书</body></html>"), http.StatusUnsupportedMediaType, api.CodeUnsupportedMedia},
	}
	for _, u := range uploads {
		t.Run(u.name, func(t *testing.T) {
			r, _ := s.verifyUpload(t, u.name, u.data)
			if p := problem(t, r, u.status); p.Code != u.code {
				t.Errorf("code %q, want %q", p.Code, u.code)
			}
		})
	}
	for _, lie := range []bool{false, true} {
		name := map[bool]string{false: "zip bomb", true: "zip bomb with lying sizes"}[lie]
		t.Run(name, func(t *testing.T) { s.zipBomb(t, bomb(t, lie)) })
	}
	t.Run("still up", func(t *testing.T) {
		if r := s.get(t, "/healthz", nil); r.Status != http.StatusOK {
			t.Errorf("healthz after bad input: %d %s", r.Status, r.Body)
		}
		if r := s.get(t, "/readyz", nil); r.Status != http.StatusOK {
			t.Errorf("readyz after bad input: %d %s", r.Status, r.Body)
		}
	})
}

// zipBomb wants a disguised bomb refused: a 4xx or an invalid verdict.
func (s *stack) zipBomb(t *testing.T, data []byte) {
	t.Helper()
	r, rep := s.verifyUpload(t, "bomb.ofd", data)
	switch {
	case r.Status == http.StatusOK:
		if rep.OK || rep.Verdict != verify.VerdictInvalid {
			t.Errorf("zip bomb verified: ok %v verdict %q", rep.OK, rep.Verdict)
		}
	case r.Status >= 400 && r.Status < 500:
		problem(t, r, r.Status)
	default:
		t.Errorf("zip bomb: %d %s", r.Status, r.Body)
	}
}

// bombSize is what the bomb's content entry inflates to: a literal and
// a million copies of 258 bytes (about 246 MiB).
const bombSize = 1 + 258*1_000_000

var (
	bombOnce sync.Once
	bombData []byte // deflated zeros
	bombCRC  uint32
)

// bomb is an OFD-looking zip whose Doc_0/Content.xml inflates to
// bombSize; with lie its headers claim a kilobyte.
func bomb(t *testing.T, lie bool) []byte {
	t.Helper()
	bombOnce.Do(func() { bombData, bombCRC = deflateZeros(bombSize), crcZeros(bombSize) })
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	ofd, err := zw.Create("OFD.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(ofd, `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0">`+
		`<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`)
	hdr := &zip.FileHeader{Name: "Doc_0/Content.xml", Method: zip.Deflate, CRC32: bombCRC,
		CompressedSize64: uint64(len(bombData)), UncompressedSize64: bombSize}
	if lie {
		hdr.UncompressedSize64 = 1 << 10
	}
	w, err := zw.CreateRaw(hdr)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bombData)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 2<<20 {
		t.Fatalf("the bomb is %d bytes, want under 2 MiB", out.Len())
	}
	return out.Bytes()
}

// deflateZeros writes a raw deflate stream (RFC 1951) of n zero bytes,
// n-1 a multiple of 258, by hand: compressing hundreds of megabytes with
// compress/flate takes long under the race detector. One block with the
// fixed Huffman codes: the literal 0, then copies of length 258 at
// distance 1, then the end of the block.
func deflateZeros(n int) []byte {
	var w bitWriter
	w.bits(1, 1) // BFINAL
	w.bits(1, 2) // BTYPE 01: fixed Huffman codes
	w.code(0x30, 8)
	for range (n - 1) / 258 {
		w.code(0xC5, 8) // length symbol 285 (258 bytes), no extra bits
		w.code(0, 5)    // distance code 0 (1 byte back)
	}
	w.code(0, 7) // end of block, symbol 256
	return w.flush()
}

// bitWriter packs deflate's bit fields, least significant bit first;
// Huffman codes go most significant bit first.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, k uint) {
	w.acc |= v << w.n
	w.n += k
	for w.n >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

func (w *bitWriter) code(c uint64, k uint) {
	var r uint64
	for i := uint(0); i < k; i++ {
		r = r<<1 | (c>>i)&1
	}
	w.bits(r, k)
}

func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	w.acc, w.n = 0, 0
	return w.out
}

func crcZeros(n int) uint32 {
	zeros := make([]byte, 1<<20)
	var sum uint32
	for n > 0 {
		k := min(n, len(zeros))
		sum = crc32.Update(sum, crc32.IEEETable, zeros[:k])
		n -= k
	}
	return sum
}

// TestDeflateZeros checks the hand-made stream with compress/flate.
func TestDeflateZeros(t *testing.T) {
	const n = 1 + 258*1000
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflateZeros(n))))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || !bytes.Equal(got, make([]byte, n)) {
		t.Fatalf("inflated %d bytes, want %d zeros", len(got), n)
	}
	if crc32.ChecksumIEEE(got) != crcZeros(n) {
		t.Fatal("crcZeros differs from crc32.ChecksumIEEE")
	}
}
