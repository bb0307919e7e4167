package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

func TestApprovalsStream(t *testing.T) {
	e := newEnv(t)
	body := `{"case_id":"BJ-1"}` + "\n" + `{"case_id":` + "\n" + `{"id_number":"` + holderA + `"}` + "\n" + `{"case_id":"BJ-2"}` + "\n"
	w := e.do(req{method: "POST", path: "/api/v1/approvals", body: strings.NewReader(body),
		header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/x-ndjson"}})
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("%d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 4 results and a summary:\n%s", len(lines), w.Body)
	}
	var last summaryLine
	if err := json.Unmarshal([]byte(lines[4]), &last); err != nil {
		t.Fatal(err)
	}
	want := approvalsSummary{Lines: 4, Inserted: 2, Rejected: 2, Queued: 2}
	if last.Summary != want || last.Error != nil {
		t.Errorf("summary %+v, want %+v", last, want)
	}
	if strings.Contains(w.Body.String(), holderA) {
		t.Error("a result echoes a full ID number")
	}
	if !strings.Contains(e.auditor.all(), "apikey:portal|approvals") {
		t.Errorf("audit: %s", e.auditor.all())
	}
}

func TestApprovalsBackendFailsMidStream(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) { d.Intake = &fakeIntake{fail: errors.New("registry down")} })
	w := e.do(req{method: "POST", path: "/api/v1/approvals", body: strings.NewReader("{\"case_id\":\"A\"}\n{\"case_id\":\"B\"}\n"),
		header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/x-ndjson"}})
	lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	var last summaryLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Error == nil || last.Error.Code != CodeInternal {
		t.Fatalf("last line %s (%v)", lines[len(lines)-1], err)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.MaxApprovalsBytes = 64 })
	jsonKey := map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/json"}
	tests := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"malformed JSON", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":`), header: jsonKey}, 400, CodeBadRequest},
		{"unknown field", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"renewal","id_number":"x","x":1}`), header: jsonKey}, 400, CodeBadRequest},
		{"trailing data", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"renewal","id_number":"x"} {}`), header: jsonKey}, 400, CodeBadRequest},
		{"bad business type", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"party","id_number":"x"}`), header: jsonKey}, 400, CodeBadRequest},
		{"bad date", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"renewal","id_number":"x","submitted_on":"2026-13-01"}`), header: jsonKey}, 400, CodeBadRequest},
		{"not JSON content type", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{}`), header: apiKey()}, 415, CodeUnsupportedMedia},
		{"JSON body too large", req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"specialty":"` + strings.Repeat("a", 70<<10) + `"}`), header: jsonKey}, 413, CodeTooLarge},
		{"approvals too large", req{method: "POST", path: "/api/v1/approvals", body: strings.NewReader(strings.Repeat("x", 100)), header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/x-ndjson"}}, 413, CodeTooLarge},
		{"approvals not NDJSON", req{method: "POST", path: "/api/v1/approvals", body: strings.NewReader("a,b"), header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "text/csv"}}, 415, CodeUnsupportedMedia},
		{"revoke without reason", req{method: "POST", path: "/api/v1/certificates/" + certA + "/revoke", body: strings.NewReader(`{"reason":"  "}`), header: jsonKey}, 400, CodeBadRequest},
		{"revoke unknown", req{method: "POST", path: "/api/v1/certificates/999/revoke", body: strings.NewReader(`{"reason":"伪造"}`), header: jsonKey}, 404, CodeNotFound},
		{"unknown case", req{method: "GET", path: "/api/v1/cases/nope", header: apiKey()}, 404, CodeNotFound},
		{"bad format", req{method: "GET", path: "/api/v1/me/certificates/" + certA + "/file?format=docx", header: bearer(token(t, holderA))}, 400, CodeBadRequest},
		{"wrong method", req{method: "DELETE", path: "/api/v1/me/certificates", header: bearer(token(t, holderA))}, 405, CodeMethodNotAllowed},
		{"no such route", req{method: "GET", path: "/api/v1/nothing"}, 404, CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(tc.r)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if p := problemOf(t, w); p.Code != tc.code {
				t.Errorf("code %q, want %q", p.Code, tc.code)
			}
		})
	}
}

func TestPortalHappyPaths(t *testing.T) {
	e := newEnv(t)
	jsonKey := map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/json"}
	w := e.get("/api/v1/cases/BJ-1", apiKey())
	if w.Code != 200 || strings.Contains(w.Body.String(), holderA) || !strings.Contains(w.Body.String(), registration.MaskID(holderA)) {
		t.Errorf("case: %d %s", w.Code, w.Body)
	}
	w = e.do(req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"renewal","id_number":"` + holderA + `","submitted_on":"2027-01-01"}`), header: jsonKey})
	var v struct {
		Allowed  bool                   `json:"allowed"`
		Refusals []registration.Refusal `json:"refusals"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != 200 || v.Allowed || len(v.Refusals) != 1 ||
		v.Refusals[0].Code != registration.RefuseRenewalWindow || v.Refusals[0].Dates["window_from"].String() != "2027-02-04" {
		t.Errorf("eligibility: %d %s", w.Code, w.Body)
	}
	w = e.do(req{method: "POST", path: "/api/v1/eligibility", body: strings.NewReader(`{"business_type":"initial","id_number":"` + holderA + `","submitted_on":"2026-05-04"}`), header: jsonKey})
	if !strings.Contains(w.Body.String(), `"allowed":true`) || !strings.Contains(w.Body.String(), `"review_due":"2026-05-25"`) {
		t.Errorf("eligibility allowed: %s", w.Body)
	}
	w = e.do(req{method: "POST", path: "/api/v1/certificates/" + certA + "/revoke", body: strings.NewReader(`{"reason":"以欺骗手段取得注册"}`), header: jsonKey})
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"status":"07"`) {
		t.Errorf("revoke: %d %s", w.Code, w.Body)
	}
	if a := e.auditor.all(); !strings.Contains(a, "apikey:portal|revoke|"+certA+"|version=1 reason=以欺骗手段取得注册") {
		t.Errorf("audit: %s", a)
	}
}

// TestMyCertificates: the holder's list carries each certificate's
// specialties with their valid-until and the registration's valid-until.
func TestMyCertificates(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/me/certificates", bearer(token(t, holderA)))
	var list struct {
		Certificates []struct {
			CertificateNo          string          `json:"certificate_no"`
			Specialties            []specialtyView `json:"specialties"`
			RegistrationValidUntil string          `json:"registration_valid_until"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 || len(list.Certificates) != 1 {
		t.Fatalf("%d %s (%v)", w.Code, w.Body, err)
	}
	c := list.Certificates[0]
	want := []specialtyView{{Name: "建筑工程", ValidUntil: "2029-10-31"}, {Name: "市政公用工程", ValidUntil: "2028-06-30"}}
	if c.CertificateNo != certA || fmt.Sprint(c.Specialties) != fmt.Sprint(want) || c.RegistrationValidUntil != "2029-10-31" {
		t.Errorf("got %+v, want %s with specialties %v and registration valid until 2029-10-31", c, certA, want)
	}
	// Other views of a certificate do not carry them.
	w = e.get("/api/v1/cases/BJ-1", apiKey())
	if strings.Contains(w.Body.String(), "specialties") || strings.Contains(w.Body.String(), "registration_valid_until") {
		t.Errorf("case shows the holder's fields: %s", w.Body)
	}
}

func TestDownload(t *testing.T) {
	e := newEnv(t)
	tok := token(t, holderA)
	w := e.get("/api/v1/me/certificates/"+certA+"/file?format=pdf", bearer(tok))
	if w.Code != 200 || w.Body.String() != pdfContent {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	wantCD := `attachment; filename="ecert-` + certA + `.pdf"; filename*=UTF-8''%E4%BA%8C%E7%BA%A7%E5%BB%BA%E9%80%A0%E5%B8%88%E6%B3%A8%E5%86%8C%E8%AF%81%E4%B9%A6-%E5%BC%A0%E4%B8%89.pdf`
	h := w.Header()
	for k, want := range map[string]string{
		"Content-Type": "application/pdf", "Content-Disposition": wantCD, "ETag": `"` + sum([]byte(pdfContent)) + `"`,
		"Cache-Control": "private, no-store", "Accept-Ranges": "bytes",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(e.auditor.all(), "|download|"+certA+"|format=pdf") {
		t.Errorf("audit: %s", e.auditor.all())
	}

	ranges := []struct {
		name, rng, ifRange string
		status             int
		body               string
	}{
		{"first bytes", "bytes=0-7", "", 206, pdfContent[:8]},
		{"suffix", "bytes=-6", "", 206, pdfContent[len(pdfContent)-6:]},
		{"if-range matches", "bytes=0-3", `"` + sum([]byte(pdfContent)) + `"`, 206, pdfContent[:4]},
		{"if-range stale: whole file", "bytes=0-3", `"0000"`, 200, pdfContent},
		{"unsatisfiable", "bytes=1000-", "", 416, ""},
	}
	for _, tc := range ranges {
		t.Run(tc.name, func(t *testing.T) {
			hd := bearer(tok)
			hd["Range"] = tc.rng
			if tc.ifRange != "" {
				hd["If-Range"] = tc.ifRange
			}
			w := e.get("/api/v1/me/certificates/"+certA+"/file?format=pdf", hd)
			if w.Code != tc.status || (tc.body != "" && w.Body.String() != tc.body) {
				t.Errorf("%d %q, want %d %q", w.Code, w.Body, tc.status, tc.body)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t)
	w := e.get("/api/v1/me/certificates/"+certA+"/preview", bearer(token(t, holderA)))
	if w.Code != 200 || w.Body.String() != fakePreview {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	for k, want := range map[string]string{
		"Content-Type": "image/svg+xml", "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	w = e.get("/api/v1/me/certificates/"+certB+"/preview", bearer(token(t, holderA)))
	if p := problemOf(t, w); w.Code != 404 || p.Code != CodeNotFound || strings.Contains(w.Body.String(), "<svg") {
		t.Errorf("another holder's certificate: %d %s", w.Code, w.Body)
	}
}

func TestDownloadCorruptFile(t *testing.T) {
	e := newEnv(t)
	e.holder.corrupt = true
	w := e.get("/api/v1/me/certificates/"+certA+"/file?format=ofd", bearer(token(t, holderA)))
	if p := problemOf(t, w); w.Code != 500 || p.Code != CodeFileCorrupt || strings.Contains(w.Body.String(), "%PDF") {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

func TestRestampAndCopy(t *testing.T) {
	e := newEnv(t)
	tok := token(t, holderA)
	w := e.do(req{method: "POST", path: "/api/v1/me/certificates/" + certA + "/restamp?format=pdf&purpose=%E6%8A%95%E6%A0%87", header: bearer(tok)})
	var cp copyView
	if err := json.Unmarshal(w.Body.Bytes(), &cp); err != nil || w.Code != 200 || cp.Purpose != "投标" || cp.Download != "/api/v1/me/copies/c-1/file" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = e.get(cp.Download, bearer(tok))
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Disposition"), "%E5%8A%A0%E6%B3%A8%E4%BB%B6.pdf") {
		t.Errorf("copy: %d %v", w.Code, w.Header())
	}
	w = e.do(req{method: "POST", path: "/api/v1/me/certificates/" + certA + "/restamp?format=pdf&purpose=superseded", header: bearer(tok)})
	if p := problemOf(t, w); w.Code != 409 || p.Code != issuance.RefuseCertificateSuperseded || p.Message != "该证书已被新版本取代，请使用最新证书加注" {
		t.Errorf("refusal: %d %+v", w.Code, p)
	}
}

// TestRestampDetachedFromClient: the context given to the core survives
// the client hanging up, and is still bounded.
func TestRestampDetachedFromClient(t *testing.T) {
	e := newEnv(t)
	e.holder.block = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptestRequest(ctx, "POST", "/api/v1/me/certificates/"+certA+"/restamp?format=pdf", bearer(token(t, holderA)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.srv.Handler().ServeHTTP(newDiscardRecorder(), r)
	}()
	for {
		e.holder.mu.Lock()
		n := len(e.holder.restamps)
		e.holder.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	e.holder.mu.Lock()
	coreCtx := e.holder.restamps[0]
	e.holder.mu.Unlock()
	if coreCtx.Err() != nil {
		t.Error("the core's context ended with the client")
	}
	if _, ok := coreCtx.Deadline(); !ok {
		t.Error("the core's context has no deadline")
	}
	close(e.holder.block)
	<-done
}

func TestPublicVerify(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.MaxUploadBytes = 1024 })
	tests := []struct {
		name    string
		content []byte
		field   string
		status  int
		code    string
	}{
		{"pdf", []byte("%PDF-1.7 good"), "file", 200, ""},
		{"ofd", []byte("PK\x03\x04 bad"), "file", 200, ""},
		{"not a document", []byte("<html>"), "file", 415, CodeUnsupportedMedia},
		{"oversized", append([]byte("%PDF-"), bytes.Repeat([]byte("x"), 2048)...), "file", 413, CodeTooLarge},
		{"no file part", []byte("%PDF-"), "upload", 400, CodeBadRequest},
		{"empty", nil, "file", 400, CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.field, tc.content)
			w := e.do(req{method: "POST", path: "/api/v1/verify", body: body, header: map[string]string{"Content-Type": ct}})
			if w.Code != tc.status {
				t.Fatalf("%d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.code != "" {
				if p := problemOf(t, w); p.Code != tc.code {
					t.Errorf("code %q", p.Code)
				}
				return
			}
			if strings.Contains(w.Body.String(), holderA) || !strings.Contains(w.Body.String(), registration.MaskID(holderA)) {
				t.Errorf("report not masked: %s", w.Body)
			}
		})
	}
	w := e.do(req{method: "POST", path: "/api/v1/verify", body: strings.NewReader("x"), header: map[string]string{"Content-Type": "application/pdf"}})
	if w.Code != 415 {
		t.Errorf("raw body: %d", w.Code)
	}
	m := e.get("/metrics", nil).Body.String()
	if !strings.Contains(m, `ecert_verify_failures_total{check="signature"} 1`) {
		t.Errorf("metrics lack the failure by check:\n%s", m)
	}
}

func TestPublicStatusLookup(t *testing.T) {
	e := newEnv(t)
	ok := e.get("/api/v1/verify/"+licenceA+"?code="+goodCode, nil)
	if ok.Code != 200 {
		t.Fatalf("%d %s", ok.Code, ok.Body)
	}
	var v publicView
	_ = json.Unmarshal(ok.Body.Bytes(), &v)
	if v.IDNumber != registration.MaskID(holderA) || v.HolderName != "欧***" || v.Status.Certificate != "current" {
		t.Errorf("%+v", v)
	}
	unknown := e.get("/api/v1/verify/1.2.156.3005.2.X?code="+goodCode, nil)
	var ref Problem
	_ = json.Unmarshal(unknown.Body.Bytes(), &ref)
	for _, path := range []string{
		"/api/v1/verify/" + licenceA,
		"/api/v1/verify/" + licenceA + "?code=AAAAAAAAAA",
		"/api/v1/verify/" + licenceA + "?code=" + strings.ToLower(goodCode),
		"/api/v1/verify/" + licenceA + "?code=" + strings.Repeat("A", 100),
	} {
		w := e.get(path, nil)
		p := problemOf(t, w)
		if w.Code != 404 || p.Code != ref.Code || p.Detail != ref.Detail || p.Message != ref.Message || p.Title != ref.Title {
			t.Errorf("%s: %d %+v, want the unknown 404 %+v", path, w.Code, p, ref)
		}
		if b := w.Body.String(); strings.Contains(b, "欧") || strings.Contains(b, "辽宁") || strings.Contains(b, registration.MaskID(holderA)) {
			t.Errorf("%s leaks: %s", path, w.Body)
		}
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.RateLimit = RateLimit{PerSecond: 0.5, Burst: 2, MaxClients: 2} })
	path := "/api/v1/verify/" + licenceA + "?code=" + goodCode
	for i := 0; i < 2; i++ {
		if w := e.get(path, nil); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := e.get(path, nil)
	if p := problemOf(t, w); w.Code != 429 || p.Code != CodeRateLimited || w.Header().Get("Retry-After") != "2" {
		t.Errorf("%d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	// Other clients have their own buckets; the table stays bounded.
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		r := httptestRequest(context.Background(), "GET", path, nil)
		r.RemoteAddr = ip + ":1234"
		rec := newDiscardRecorder()
		e.srv.Handler().ServeHTTP(rec, r)
		if rec.Code != 200 {
			t.Errorf("%s: %d", ip, rec.Code)
		}
	}
	if n := e.srv.limiter.len(); n != 2 {
		t.Errorf("limiter holds %d clients, want at most 2", n)
	}
	// Authenticated routes are not limited.
	if w := e.get("/api/v1/cases/BJ-1", apiKey()); w.Code != 200 {
		t.Errorf("portal route limited: %d", w.Code)
	}
}

func TestOperations(t *testing.T) {
	e := newEnv(t)
	if w := e.get("/healthz", nil); w.Code != 200 {
		t.Errorf("healthz %d", w.Code)
	}
	if w := e.get("/readyz", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"cache":"ok"`) {
		t.Errorf("readyz %d %s", w.Code, w.Body)
	}
	down := newEnv(t, func(_ *Config, d *Deps) { d.Readiness = fakeReadiness{down: true} })
	if w := down.get("/readyz", nil); w.Code != 503 || !strings.Contains(w.Body.String(), "connection refused") {
		t.Errorf("readyz down %d %s", w.Code, w.Body)
	}
	e.get("/api/v1/me/certificates/"+certA+"/file", bearer(token(t, holderA)))
	m := e.get("/metrics", nil).Body.String()
	for _, want := range []string{
		`ecert_http_requests_total{code="200",method="GET",route="/api/v1/me/certificates/:no/file"} 1`,
		`ecert_http_request_duration_seconds_count{method="GET",route="/healthz"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, certA) {
		t.Error("metrics label a raw path")
	}
	if w := e.get("/api/v1/openapi.json", nil); w.Code != 200 || !json.Valid(w.Body.Bytes()) {
		t.Errorf("openapi.json %d", w.Code)
	}
}

func TestUnconfiguredServiceIs503(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) { d.Verifier = nil })
	w := e.get("/api/v1/verify/"+licenceA+"?code="+goodCode, nil)
	if p := problemOf(t, w); w.Code != 503 || p.Code != CodeUnavailable {
		t.Errorf("%d %+v", w.Code, p)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, in string
		kept     bool
	}{
		{"well formed", "req-0123456789abcdef", true},
		{"too short", "abc", false},
		{"header injection", "abc\r\ndef-0000", false},
		{"an ID number", holderA, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get("/healthz", map[string]string{"X-Request-ID": tc.in})
			got := w.Header().Get("X-Request-ID")
			if (got == tc.in) != tc.kept || got == "" {
				t.Errorf("echoed %q for %q", got, tc.in)
			}
		})
	}
	w := e.get("/api/v1/cases/nope", map[string]string{"X-API-Key": testAPIKey, "X-Request-ID": "trace-42424242"})
	if p := problemOf(t, w); p.RequestID != "trace-42424242" {
		t.Errorf("problem request id %q", p.RequestID)
	}
}

// TestProblemFor is the table of the one error mapping.
func TestProblemFor(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{issuance.ErrNotFound, 404, CodeNotFound},
		{fmt.Errorf("x: %w", registry.ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("%w: format", issuance.ErrBadRequest), 400, CodeBadRequest},
		{&issuance.Refusal{Code: "notice_not_ended", Message: "公示期未满"}, 409, "notice_not_ended"},
		{fmt.Errorf("wrapped: %w", &issuance.Refusal{Code: "registration_expired", Message: "注册已过期"}), 409, "registration_expired"},
		{registration.Verdict{Refusals: []registration.Refusal{{Code: "age_over_65"}}}.Err(), 422, CodeRefused},
		{fmt.Errorf("get: %w", objectstore.ErrCorrupt), 500, CodeFileCorrupt},
		{fmt.Errorf("get: %w", objectstore.ErrNotFound), 500, CodeFileMissing},
		{context.DeadlineExceeded, 504, CodeTimeout},
		{context.Canceled, 499, CodeClientClosed},
		{&http.MaxBytesError{Limit: 10}, 413, CodeTooLarge},
		{fmt.Errorf("registry: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), 503, CodeUnavailable},
		{errors.New("secret internals of " + holderA), 500, CodeInternal},
		{newError(429, CodeRateLimited, "slow down"), 429, CodeRateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			p := ProblemFor(tc.err)
			if p.Status != tc.status || p.Code != tc.code || p.Message == "" || p.Type != problemTypeBase+tc.code {
				t.Errorf("%+v, want %d %s", p, tc.status, tc.code)
			}
			if strings.Contains(p.Detail, holderA) || (tc.code == CodeInternal && p.Detail != "internal error") {
				t.Errorf("detail leaks: %q", p.Detail)
			}
		})
	}
	if p := ProblemFor(&issuance.Refusal{Code: "c", Message: "中文"}); p.Message != "中文" {
		t.Errorf("refusal message %q", p.Message)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct{ holder, suffix, want string }{
		{"张三", "", "二级建造师注册证书-张三.pdf"},
		{"", "", "二级建造师注册证书.pdf"},
		{"王\"/\\\n𠮷", "-加注件", "二级建造师注册证书-王𠮷-加注件.pdf"},
	}
	for _, tc := range tests {
		if got := fileName(tc.holder, tc.suffix, "pdf"); got != tc.want {
			t.Errorf("fileName(%q) = %q, want %q", tc.holder, got, tc.want)
		}
	}
	if got := rfc5987("a b-张.pdf"); got != "a%20b-%E5%BC%A0.pdf" {
		t.Errorf("rfc5987: %q", got)
	}
	if got := asciiName(`12"; x=y`); got != "12x" && got != "12xy" {
		t.Errorf("asciiName %q", got)
	}
}

func multipartBody(t *testing.T, field string, content []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile(field, "doc.bin")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	return &b, mw.FormDataContentType()
}
