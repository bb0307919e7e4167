package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
)

// batchVerify posts a holder's certificates, and a tampered one, to
// POST /verify/batch as parts and as a zip: the answer is a report signed
// by the verification service that verifies as a report; too many files, a
// zip bomb and a non-zip are refused with a problem.
func (s *stack) batchVerify(t *testing.T, w world) {
	a, cert := w.approvals[1], w.certs[1]
	tok := s.token(t, a.Person.IDNumber)
	base := "/api/v1/me/certificates/" + url.PathEscape(cert.CertificateNo) + "/file?format="
	name := holderName(a)
	ofd := s.download(t, base+"ofd", tok, "ofd", "二级建造师注册证书-"+name+".ofd")
	pdf := s.download(t, base+"pdf", tok, "pdf", "二级建造师注册证书-"+name+".pdf")
	bad := bytes.Clone(pdf.data)
	bad[len(bad)/2] ^= 1
	files := []file{ofd, pdf, {name: "篡改-" + pdf.name, data: bad}}
	roots := s.roots(t)

	body, ct := multipartFiles(t, files)
	r := s.do(t, call{method: http.MethodPost, path: "/api/v1/verify/batch", body: body, header: map[string]string{"Content-Type": ct}})
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("batch: %d %q %q %.300s", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), r.Body)
	}
	rep := verify.File(r.Body, verify.Options{Roots: roots})
	if !rep.OK || rep.Document != verify.DocumentVerificationReport || !strings.Contains(rep.Signer, signing.VerificationServiceUnit) {
		t.Fatalf("the batch report does not verify as a report of the verification service: %+v", rep)
	}
	if rep.Metadata[batchverify.MetaFiles] != "3" || rep.Metadata[batchverify.MetaReportID] != r.Header.Get("X-Ecert-Report-Id") {
		t.Errorf("report metadata %v", rep.Metadata)
	}
	// The public verification says what it is.
	if up, vr := s.verifyUpload(t, "核验报告.pdf", r.Body); up.Status != http.StatusOK || vr.Document != verify.DocumentVerificationReport || !vr.OK {
		t.Errorf("POST /verify of the report: %d %+v", up.Status, vr)
	}
	tampered := bytes.Clone(r.Body)
	tampered[len(tampered)/2] ^= 1
	if verify.File(tampered, verify.Options{Roots: roots}).OK {
		t.Error("a changed byte of the report went unnoticed")
	}

	// The same files in a zip, summary as JSON.
	r = s.do(t, call{method: http.MethodPost, path: "/api/v1/verify/batch?format=json", body: zipFiles(t, files), header: map[string]string{"Content-Type": "application/zip"}})
	var sum struct {
		Files      int                `json:"files"`
		Items      []batchverify.Item `json:"items"`
		StatusList string             `json:"status_list"`
	}
	if r.Status != http.StatusOK {
		t.Fatalf("zip batch: %d %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Files != 3 || !strings.Contains(sum.StatusList, "/api/v1/status/1 (generation ") {
		t.Fatalf("zip batch summary: %s", r.Body)
	}
	for i, want := range []string{verify.VerdictValidDevelopment, verify.VerdictValidDevelopment, verify.VerdictInvalid} {
		if got := sum.Items[i]; got.Verdict != want || got.Name != files[i].name {
			t.Errorf("item %d: %s %s, want %s %s", i, got.Name, got.Verdict, files[i].name, want)
		}
	}
	if strings.Contains(string(r.Body), a.Person.IDNumber) {
		t.Error("the summary shows a full ID number")
	}

	refusals := []struct {
		name   string
		body   []byte
		ct     string
		status int
	}{
		{"too many files", nil, "", http.StatusRequestEntityTooLarge},
		{"zip bomb", batchBomb(t, false), "application/zip", http.StatusRequestEntityTooLarge},
		{"zip bomb with lying sizes", batchBomb(t, true), "application/zip", http.StatusBadRequest},
		{"not a zip", []byte("PK\x03\x04 but no archive"), "application/zip", http.StatusUnsupportedMediaType},
	}
	many := make([]file, batchverify.DefaultMaxFiles+1)
	for i := range many {
		many[i] = file{name: fmt.Sprintf("%d.pdf", i), data: []byte("%PDF-1.7")}
	}
	refusals[0].body, refusals[0].ct = multipartFiles(t, many)
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, call{method: http.MethodPost, path: "/api/v1/verify/batch", body: tc.body, header: map[string]string{"Content-Type": tc.ct}})
			p := problem(t, r, tc.status)
			if want := map[int]string{413: api.CodeTooLarge, 415: api.CodeUnsupportedMedia, 400: api.CodeBadRequest}[tc.status]; p.Code != want {
				t.Errorf("code %q, want %q", p.Code, want)
			}
		})
	}
}

// roots reads the key store's root the stack trusts.
func (s *stack) roots(t *testing.T) []*smx509.Certificate {
	t.Helper()
	b, err := os.ReadFile(s.rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	c, err := signing.ReadCertificatesPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func multipartFiles(t *testing.T, files []file) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range files {
		fw, err := mw.CreateFormFile("files", f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

func zipFiles(t *testing.T, files []file) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// batchBomb is a zip of one "PDF" that inflates to about 246 MiB; with lie
// its headers claim a kilobyte.
func batchBomb(t *testing.T, lie bool) []byte {
	t.Helper()
	bombOnce.Do(func() { bombData, bombCRC = deflateZeros(bombSize), crcZeros(bombSize) })
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	hdr := &zip.FileHeader{Name: "huge.pdf", Method: zip.Deflate, CRC32: bombCRC,
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
	return out.Bytes()
}
