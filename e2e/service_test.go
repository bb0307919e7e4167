package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing/verify"
)

// TestService runs the scenarios of issue 15 over real HTTP on both backends.
func TestService(t *testing.T) {
	backends := []struct {
		name   string
		config func(*testing.T) app.Config
	}{
		{"embedded", embeddedConfig},
		{"postgres-minio-redis", productionConfig},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStack(t, b.config(t))
			w := s.ingest(t)
			t.Run("end to end", func(t *testing.T) { s.endToEnd(t, w) })
			t.Run("authorization", func(t *testing.T) { s.authorization(t, w) })
			t.Run("bad input", func(t *testing.T) { s.badInput(t) })
			t.Run("batch verification", func(t *testing.T) { s.batchVerify(t, w) })
			t.Run("no ID number in logs", func(t *testing.T) { s.noIDInLogs(t, w) })
		})
	}
}

// world is what the portal sent and what the workers issued from it.
type world struct {
	approvals []intake.Approval
	certs     []certView // certs[i] is the certificate of approvals[i]
}

// certView is a certificate as the API shows it.
type certView struct {
	CertificateNo string            `json:"certificate_no"`
	Version       int               `json:"version"`
	LicenceID     string            `json:"licence_id"`
	Status        string            `json:"status"`
	Files         map[string]string `json:"files"`
}

// goodApprovals are change approvals (no public notice) dated around
// today, each of another person.
func goodApprovals() []intake.Approval {
	as := sampledata.Generate(3, sampledata.Options{Seed: 2026, Prefix: "E2E",
		Base: registration.Today(time.Now()).AddDays(-60)})
	today := registration.Today(time.Now())
	for i := range as {
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
		redate(&as[i], today.AddDays(-60+i))
	}
	return as
}

// redate moves an approval to the day it was approved on (the sample
// spreads approvals over a year, some of them after today).
func redate(a *intake.Approval, approved registration.Date) {
	a.ApprovedOn = approved
	a.Registration.ValidFrom = approved
	a.Registration.ValidUntil = approved.AddYears(3).AddDays(-1)
	for i := range a.Registration.Specialties {
		a.Registration.Specialties[i].ValidUntil = a.Registration.ValidUntil
	}
}

// ingest posts the approvals with bad lines between them, checks the
// streamed per-line results and waits until the workers issued each good
// case.
func (s *stack) ingest(t *testing.T) world {
	t.Helper()
	w := world{approvals: goodApprovals()}
	badID := w.approvals[0]
	badID.CaseID = "E2E-BAD-ID"
	badID.Person.IDNumber = flipLast(badID.Person.IDNumber)
	lines := []struct {
		v       any
		outcome string
	}{
		{w.approvals[0], api.OutcomeInserted},
		{json.RawMessage(`{"case_id": "E2E-BROKEN", `), api.OutcomeRejected},
		{w.approvals[1], api.OutcomeInserted},
		{map[string]string{"case_id": "E2E-EMPTY"}, api.OutcomeRejected},
		{w.approvals[2], api.OutcomeInserted},
		{badID, api.OutcomeRejected},
	}
	var body bytes.Buffer
	for _, l := range lines {
		b, err := json.Marshal(l.v)
		if raw, ok := l.v.(json.RawMessage); ok {
			b, err = raw, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		body.Write(append(b, '\n'))
	}
	r := s.do(t, call{method: http.MethodPost, path: "/api/v1/approvals", body: body.Bytes(), header: portal("application/x-ndjson")})
	results, summary := approvalResults(t, r)
	if len(results) != len(lines) {
		t.Fatalf("%d results for %d lines: %s", len(results), len(lines), r.Body)
	}
	for i, res := range results {
		wantQueued := lines[i].outcome == api.OutcomeInserted
		if res.Line != i+1 || res.Outcome != lines[i].outcome || res.Queued != wantQueued {
			t.Errorf("line %d: %+v, want outcome %s queued %v", i+1, res, lines[i].outcome, wantQueued)
		}
		if res.Outcome == api.OutcomeRejected && len(res.Problems) == 0 {
			t.Errorf("line %d rejected without a reason", i+1)
		}
	}
	if summary.Inserted != 3 || summary.Rejected != 3 || summary.Queued != 3 || summary.Lines != 6 {
		t.Errorf("summary %+v, want 6 lines, 3 inserted and queued, 3 rejected", summary)
	}
	if bytes.Contains(r.Body, []byte(badID.Person.IDNumber)) {
		t.Errorf("approvals response shows a full ID number: %s", r.Body)
	}
	for _, a := range w.approvals {
		w.certs = append(w.certs, s.waitIssued(t, a.CaseID))
	}
	return w
}

type approvalsSummary struct {
	Lines, Inserted, Duplicate, Conflict, Rejected, Queued int
}

// approvalResults splits the NDJSON answer into its result lines and its
// summary line.
func approvalResults(t *testing.T, r response) ([]api.ApprovalResult, approvalsSummary) {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("approvals: %d %s: %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var results []api.ApprovalResult
	var summary *approvalsSummary
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var line struct {
			api.ApprovalResult
			Summary *approvalsSummary `json:"summary"`
			Error   *api.Problem      `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("approvals line %q: %v", sc.Text(), err)
		}
		if line.Summary != nil {
			if line.Error != nil {
				t.Fatalf("approvals stream failed: %+v", line.Error)
			}
			summary = line.Summary
			continue
		}
		results = append(results, line.ApprovalResult)
	}
	if summary == nil {
		t.Fatalf("approvals: no summary line: %s", r.Body)
	}
	return results, *summary
}

// waitIssued polls the case until the workers have issued its certificate.
func (s *stack) waitIssued(t *testing.T, caseID string) certView {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := s.get(t, "/api/v1/cases/"+url.PathEscape(caseID), portal(""))
		c := decode[struct {
			Certificate *certView `json:"certificate"`
		}](t, r, http.StatusOK)
		if c.Certificate != nil {
			return *c.Certificate
		}
		if err := s.issueError(caseID); err != nil {
			t.Fatalf("case %s: the workers failed: %v", caseID, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s: no certificate after 60 s", caseID)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// flipLast changes the last character of s (a check digit, a code).
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('1')
	if last == '1' {
		repl = '2'
	}
	return s[:len(s)-1] + string(repl)
}

func (s *stack) noIDInLogs(t *testing.T, w world) {
	logs := s.logs.String()
	if logs == "" {
		t.Fatal("the api logged nothing")
	}
	for _, a := range w.approvals {
		if strings.Contains(logs, a.Person.IDNumber) {
			t.Errorf("the access or audit log holds the full ID number of %s", registration.MaskID(a.Person.IDNumber))
		}
	}
}

// file is a downloaded document.
type file struct {
	name string
	data []byte
}

// download fetches path as the holder and checks the download headers and
// a Range request on it.
func (s *stack) download(t *testing.T, path, tok, format, wantName string) file {
	t.Helper()
	r := s.get(t, path, bearer(tok))
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/"+format {
		t.Errorf("GET %s: Content-Type %q, want application/%s", path, ct, format)
	}
	cd := r.Header.Get("Content-Disposition")
	_, params, err := mime.ParseMediaType(cd)
	if err != nil || params["filename"] != wantName || !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("GET %s: Content-Disposition %q (%v), want the UTF-8 name %q", path, cd, err, wantName)
	}
	sum := sha256.Sum256(r.Body)
	if etag := r.Header.Get("ETag"); etag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("GET %s: ETag %q, want the quoted SHA-256 of the body", path, etag)
	}
	h := bearer(tok)
	h["Range"] = "bytes=0-99"
	rr := s.get(t, path, h)
	want := fmt.Sprintf("bytes 0-99/%d", len(r.Body))
	if rr.Status != http.StatusPartialContent || rr.Header.Get("Content-Range") != want || !bytes.Equal(rr.Body, r.Body[:100]) {
		t.Errorf("GET %s with Range: %d %q (%d bytes), want 206 %q with the first 100 bytes",
			path, rr.Status, rr.Header.Get("Content-Range"), len(rr.Body), want)
	}
	return file{name: wantName, data: r.Body}
}

// verifyUpload posts data to the public verification and returns the report.
func (s *stack) verifyUpload(t *testing.T, name string, data []byte) (response, verify.Report) {
	t.Helper()
	body, ct := multipartFile(t, name, data)
	r := s.do(t, call{method: http.MethodPost, path: "/api/v1/verify", body: body, header: map[string]string{"Content-Type": ct}})
	if r.Status != http.StatusOK {
		return r, verify.Report{}
	}
	return r, decode[verify.Report](t, r, http.StatusOK)
}

func multipartFile(t *testing.T, name string, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// cliVerify runs `ecert verify` on the files with the app's root trusted.
func (s *stack) cliVerify(t *testing.T, files []file) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"verify", "--trust", s.rootPEM, "--allow-development"}
	for i, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", i, f.name))
		if err := os.WriteFile(p, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.Command(cli(t), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("ecert verify: %v\n%s", err, out)
	}
}

// holderName is the name the download's file name carries.
func holderName(a intake.Approval) string { return a.Person.Name }

func restampPath(no, format, purpose string) string {
	return "/api/v1/me/certificates/" + url.PathEscape(no) + "/restamp?format=" + format + "&purpose=" + url.QueryEscape(purpose)
}

// copyView is a usage copy as the API shows it.
type copyView struct {
	CopyID   string `json:"copy_id"`
	Format   string `json:"format"`
	Purpose  string `json:"purpose"`
	Download string `json:"download"`
}

func (s *stack) restamp(t *testing.T, tok, no, format, purpose string) copyView {
	t.Helper()
	r := s.do(t, call{method: http.MethodPost, path: restampPath(no, format, purpose), header: bearer(tok)})
	cp := decode[copyView](t, r, http.StatusOK)
	if cp.CopyID == "" || cp.Format != format || cp.Purpose != purpose || cp.Download == "" {
		t.Errorf("restamp %s %s %s: %+v", no, format, purpose, cp)
	}
	return cp
}

// refusalCodes are the problem codes a re-stamp of a revoked certificate may carry.
var refusalCodes = map[string]bool{issuance.RefuseCertificateInvalid: true}
