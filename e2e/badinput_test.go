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

// bombSize is what the bomb's content entry inflates to.
const bombSize = 256 << 20

var (
	bombOnce sync.Once
	bombData []byte // deflated zeros
	bombCRC  uint32
)

// bomb is an OFD-looking zip whose Doc_0/Content.xml inflates to
// bombSize; with lie its headers claim a kilobyte.
func bomb(t *testing.T, lie bool) []byte {
	t.Helper()
	bombOnce.Do(func() {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		h := crc32.NewIEEE()
		zeros := make([]byte, 1<<20)
		for range bombSize / len(zeros) {
			fw.Write(zeros)
			h.Write(zeros)
		}
		fw.Close()
		bombData, bombCRC = b.Bytes(), h.Sum32()
	})
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
	if len(out.Bytes()) > 1<<20 {
		t.Fatalf("the bomb is %d bytes, want under 1 MiB", out.Len())
	}
	return out.Bytes()
}
