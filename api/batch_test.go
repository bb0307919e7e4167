package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/signing/verify"
)

type fakeReports struct{}

func (fakeReports) VerifyBatch(_ context.Context, files []batchverify.File) (*batchverify.Batch, error) {
	b, _ := batchverify.New(batchverify.Options{})
	for _, f := range files {
		r := &verify.Report{Format: verify.Sniff(f.Data), OK: true, Verdict: verify.VerdictValid, Checks: []verify.Check{{Name: verify.CheckFormat, OK: true, Status: verify.StatusPass}}}
		if !strings.Contains(string(f.Data), "good") {
			r = &verify.Report{Format: verify.FormatPDF, Verdict: verify.VerdictInvalid, Checks: []verify.Check{{Name: verify.CheckIntegrity, Status: verify.StatusFail}}}
		}
		b.Add(f.Name, f.Data, r)
	}
	return b, nil
}

func (fakeReports) SignReport(_ context.Context, b *batchverify.Batch) ([]byte, error) {
	return fmt.Appendf(nil, "%%PDF-1.7 report %s of %d files", b.ID, len(b.Items)), nil
}

func batchBody(t *testing.T, files map[string][]byte) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, data := range files {
		w, err := mw.CreateFormFile("files", name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func zipBytes(t *testing.T, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func TestPostVerifyBatch(t *testing.T) {
	e := newEnv(t, func(c *Config, d *Deps) {
		d.Reports = fakeReports{}
		c.Batch = batchverify.Limits{MaxFiles: 3, MaxFileBytes: 4096, MaxTotalBytes: 8192, MaxZipEntries: 4}
	})
	three := map[string][]byte{"good.pdf": []byte("%PDF- good"), "证书.ofd": []byte("PK\x03\x04 good"), "bad.pdf": []byte("%PDF- bad")}
	tests := []struct {
		name   string
		body   func() (io.Reader, string)
		query  string
		status int
		code   string
		files  int
	}{
		{"multipart files, PDF", func() (io.Reader, string) { return batchBody(t, three) }, "", 200, "", 3},
		{"multipart files, JSON", func() (io.Reader, string) { return batchBody(t, three) }, "?format=json", 200, "", 3},
		{"one zip part", func() (io.Reader, string) {
			return batchBody(t, map[string][]byte{"batch.zip": zipBytes(t, three)})
		}, "?format=json", 200, "", 3},
		{"zip body", func() (io.Reader, string) { return bytes.NewReader(zipBytes(t, three)), "application/zip" }, "?format=json", 200, "", 3},
		{"too many files", func() (io.Reader, string) {
			return batchBody(t, map[string][]byte{"a": {1}, "b": {2}, "c": {3}, "d": {4}})
		}, "", 413, CodeTooLarge, 0},
		{"zip bomb", func() (io.Reader, string) {
			return bytes.NewReader(zipBytes(t, map[string][]byte{"bomb.pdf": make([]byte, 1<<20)})), "application/zip"
		}, "", 413, CodeTooLarge, 0},
		{"not a zip", func() (io.Reader, string) { return strings.NewReader("PK\x03\x04 no archive"), "application/zip" }, "", 415, CodeUnsupportedMedia, 0},
		{"raw pdf body", func() (io.Reader, string) { return strings.NewReader("%PDF-"), "application/pdf" }, "", 415, CodeUnsupportedMedia, 0},
		{"no file", func() (io.Reader, string) { return batchBody(t, nil) }, "", 400, CodeBadRequest, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := tc.body()
			w := e.do(req{method: "POST", path: "/api/v1/verify/batch" + tc.query, body: body, header: map[string]string{"Content-Type": ct}})
			if w.Code != tc.status {
				t.Fatalf("%d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.code != "" {
				if p := problemOf(t, w); p.Code != tc.code {
					t.Errorf("code %q, want %q", p.Code, tc.code)
				}
				return
			}
			if tc.query == "" {
				cd := w.Header().Get("Content-Disposition")
				if w.Header().Get("Content-Type") != "application/pdf" || !strings.Contains(cd, "filename*=UTF-8''%E6%A0%B8%E9%AA%8C%E6%8A%A5%E5%91%8A-") ||
					!strings.Contains(w.Body.String(), fmt.Sprintf("of %d files", tc.files)) {
					t.Fatalf("PDF answer: %s %q %s", w.Header().Get("Content-Type"), cd, w.Body)
				}
				return
			}
			var sum struct {
				Files, Valid, Invalid int
				Items                 []batchverify.Item
			}
			if err := json.Unmarshal(w.Body.Bytes(), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Files != tc.files || sum.Valid != 2 || sum.Invalid != 1 || len(sum.Items[0].SM3) != 64 {
				t.Fatalf("summary: %s", w.Body)
			}
		})
	}
	// Accept: application/json negotiates the summary too.
	body, ct := batchBody(t, three)
	w := e.do(req{method: "POST", path: "/api/v1/verify/batch", body: body, header: map[string]string{"Content-Type": ct, "Accept": "application/json"}})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("Accept: application/json: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

func FuzzReadBatch(f *testing.F) {
	f.Add([]byte("PK\x03\x04 no archive"), true)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary("B")
	w, _ := mw.CreateFormFile("files", "a.pdf")
	w.Write([]byte("%PDF- good"))
	mw.Close()
	f.Add(buf.Bytes(), false)
	_, pub, err := GenerateDevPortalKey()
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{RateLimit: RateLimit{PerSecond: 1e6, Burst: 1e6}, Logger: slog.New(slog.DiscardHandler),
		Tokens:  TokenConfig{PublicKeysPEM: pub, Issuer: testIssuer, Audience: testAudience},
		APIKeys: []APIKey{NewAPIKey("portal", testAPIKey)},
		Batch:   batchverify.Limits{MaxFiles: 4, MaxFileBytes: 1 << 14, MaxTotalBytes: 1 << 15, MaxZipEntries: 8}},
		Deps{Verifier: fakeVerifier{}, Reports: fakeReports{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, zipBody bool) {
		ct := `multipart/form-data; boundary=B`
		if zipBody {
			ct = "application/zip"
		}
		hr := httptestRequest(context.Background(), "POST", "/api/v1/verify/batch?format=json", map[string]string{"Content-Type": ct})
		hr.Body = io.NopCloser(bytes.NewReader(body))
		rec := newDiscardRecorder()
		srv.Handler().ServeHTTP(rec, hr)
		if rec.Code >= 500 {
			t.Fatalf("%d: %s", rec.Code, rec.Body)
		}
	})
}

// A batch costs one rate-limit token per file (at most a full burst).
func TestVerifyBatchCostsATokenPerFile(t *testing.T) {
	e := newEnv(t, func(c *Config, d *Deps) {
		d.Reports = fakeReports{}
		c.RateLimit = RateLimit{PerSecond: 0.001, Burst: 4}
	})
	three := map[string][]byte{"a.pdf": []byte("%PDF- good"), "b.pdf": []byte("%PDF- good"), "c.pdf": []byte("%PDF- good")}
	body, ct := batchBody(t, three)
	if w := e.do(req{method: "POST", path: "/api/v1/verify/batch", body: body, header: map[string]string{"Content-Type": ct}}); w.Code != 200 {
		t.Fatalf("first batch: %d %s", w.Code, w.Body)
	}
	body, ct = batchBody(t, three)
	w := e.do(req{method: "POST", path: "/api/v1/verify/batch", body: body, header: map[string]string{"Content-Type": ct}})
	if p := problemOf(t, w); w.Code != 429 || p.Code != CodeRateLimited || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second batch of 3 with 1 token left: %d %+v", w.Code, p)
	}
}
