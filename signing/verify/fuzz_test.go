package verify_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/ecert/ecert/signing/verify"
)

// zipBomb is a zip whose one entry declares 1 GiB uncompressed.
func zipBomb(t testing.TB) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("OFD.xml")
	w.Write(bytes.Repeat([]byte{0}, 1<<20))
	zw.Close()
	return b.Bytes()
}

func FuzzVerifyPDF(f *testing.F) {
	fx := newFixture(f)
	doc := fx.pdf(f, fx.ca.Signer, map[string]string{"ecert.usageValidFrom": "2026-01-01"})
	f.Add(doc)
	f.Add(doc[:len(doc)/2])
	f.Add([]byte("%PDF-1.7\n1 0 obj << /ByteRange [0 10 20 5] /Contents <3082ffff> >> endobj"))
	f.Add([]byte("%PDF-1.7\n1 0 obj << /ByteRange [0 1 2 3] /Contents <30> /X [[[[[[[[ >> endobj"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := verify.PDF(data, fx.opts)
		if r.OK && !bytes.Equal(data, doc) {
			// Only byte-identical (or signature-padding-equivalent) files may pass.
			if len(data) != len(doc) {
				t.Fatalf("a modified PDF of %d bytes passed", len(data))
			}
		}
	})
}

func FuzzVerifyOFD(f *testing.F) {
	fx := newFixture(f)
	doc := fx.ofd(f, fx.ca.Signer, fx.seal, map[string]string{"ecert.usageValidUntil": "2026-12-31"})
	f.Add(doc)
	f.Add(doc[:len(doc)-30])
	f.Add(zipBomb(f))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := verify.OFD(data, fx.opts)
		_ = r.OK
	})
}
