package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// Two holders with valid ID numbers (GB 11643 check digits).
var (
	holderA = withCheck("21010219800101001")
	holderB = withCheck("11010519750315002")
)

func withCheck(s17 string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, r := range s17 {
		sum += int(r-'0') * w[i]
	}
	return s17 + string("10X98765432"[sum%11])
}

var testNow = time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)

const (
	certA      = "2025000001"
	certB      = "2025000002"
	licenceA   = "1.2.156.3005.2.11100000000013338W001.11210000000000000X.2025000001.001.7"
	goodCode   = "K7QM9XR2HT"
	pdfContent = "%PDF-1.7\n% a test certificate\n%%EOF\n"
)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

type fakeHolder struct {
	mu       sync.Mutex
	corrupt  bool
	restamps []context.Context
	block    chan struct{} // when set, Restamp waits for it
}

func (f *fakeHolder) certs() map[string]registry.Certificate {
	return map[string]registry.Certificate{
		certA: {CertificateNo: certA, Version: 1, LicenceID: licenceA, RegistrationNo: "辽2212025000001", IDNumber: holderA,
			Status: registration.CertValid, PDFKey: "k.pdf", OFDKey: "k.ofd", IssuedAt: testNow},
		certB: {CertificateNo: certB, Version: 1, RegistrationNo: "辽2212025000002", IDNumber: holderB, Status: registration.CertValid, IssuedAt: testNow},
	}
}

// Every fake registration has the same specialties and valid-until.
var (
	testSpecialties = []PublicSpecialty{
		{Name: "建筑工程", ValidUntil: registration.Date{Year: 2029, Month: 10, Day: 31}},
		{Name: "市政公用工程", ValidUntil: registration.Date{Year: 2028, Month: 6, Day: 30}},
	}
	testRegValidUntil = registration.Date{Year: 2029, Month: 10, Day: 31}
)

func (f *fakeHolder) Certificates(_ context.Context, holder string) ([]HolderCertificate, error) {
	var out []HolderCertificate
	for _, c := range f.certs() {
		if c.IDNumber == holder {
			out = append(out, HolderCertificate{Certificate: c, Specialties: testSpecialties, RegistrationValidUntil: testRegValidUntil})
		}
	}
	return out, nil
}

func (f *fakeHolder) file(format string) File {
	data := []byte(pdfContent)
	digest := sum(data)
	if f.corrupt {
		digest = strings.Repeat("0", 64)
	}
	return File{Format: format, HolderName: "张三", SHA256: digest, Size: int64(len(data)), ModTime: testNow, Body: bytes.NewReader(data)}
}

func (f *fakeHolder) CertificateFile(_ context.Context, holder, certNo, format string) (File, error) {
	c, ok := f.certs()[certNo]
	if !ok || c.IDNumber != holder {
		return File{}, issuance.ErrNotFound
	}
	return f.file(format), nil
}

// fakePreview is the fake holder's certificate picture.
const fakePreview = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 297 210"><text x="10" y="20">preview</text></svg>`

func (f *fakeHolder) Preview(_ context.Context, holder, certNo string) ([]byte, error) {
	c, ok := f.certs()[certNo]
	if !ok || c.IDNumber != holder {
		return nil, issuance.ErrNotFound
	}
	return []byte(fakePreview), nil
}

func (f *fakeHolder) Restamp(ctx context.Context, req issuance.RestampRequest) (issuance.Copy, error) {
	f.mu.Lock()
	f.restamps = append(f.restamps, ctx)
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	c, ok := f.certs()[req.CertificateNo]
	if !ok || c.IDNumber != req.Holder {
		return issuance.Copy{}, issuance.ErrNotFound
	}
	if req.Purpose == "superseded" {
		return issuance.Copy{}, &issuance.Refusal{Code: issuance.RefuseCertificateSuperseded, Message: "该证书已被新版本取代，请使用最新证书加注"}
	}
	return issuance.Copy{Source: "created", UsageCopy: registry.UsageCopy{
		CopyID: "c-1", CertificateNo: req.CertificateNo, Version: 1, Format: req.Format, Purpose: req.Purpose,
		ValidFrom: testNow, ValidUntil: testNow.Add(180 * 24 * time.Hour), Day: registration.Today(testNow), CreatedAt: testNow, SHA256: sum([]byte(pdfContent)),
	}}, nil
}

func (f *fakeHolder) CopyFile(_ context.Context, holder, copyID string) (File, error) {
	if copyID != "c-1" || holder != holderA {
		return File{}, issuance.ErrNotFound
	}
	return f.file("pdf"), nil
}

// fakeIntake decides each line: JSON with a case_id is inserted, the rest rejected.
type fakeIntake struct{ fail error }

func (f *fakeIntake) Ingest(ctx context.Context, r io.Reader, emit func(ApprovalResult) error) error {
	dec := json.NewDecoder(r)
	_ = dec
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		var v struct {
			CaseID   string `json:"case_id"`
			IDNumber string `json:"id_number"`
		}
		res := ApprovalResult{Line: i + 1}
		if err := json.Unmarshal([]byte(line), &v); err != nil || v.CaseID == "" {
			res.Outcome, res.Problems = OutcomeRejected, []string{fmt.Sprintf("line %d: not an approval (id_number %s)", i+1, v.IDNumber)}
		} else {
			res.CaseID, res.Outcome, res.Queued = v.CaseID, OutcomeInserted, true
		}
		if err := emit(res); err != nil {
			return err
		}
		if f.fail != nil && i == 0 {
			return f.fail
		}
	}
	return nil
}

type fakeCases struct{}

func (fakeCases) Case(_ context.Context, id string) (registration.Case, *registry.Certificate, error) {
	if id != "BJ-1" {
		return registration.Case{}, nil, registry.ErrNotFound
	}
	c := (&fakeHolder{}).certs()[certA]
	return registration.Case{ID: id, Type: registration.Renewal, Status: registration.CaseApproved, Account: registration.NaturalPerson, IDNumber: holderA}, &c, nil
}

type fakeEligibility struct{}

func (fakeEligibility) Check(_ context.Context, q EligibilityQuery) (EligibilityVerdict, error) {
	v := EligibilityVerdict{Verdict: registration.Verdict{Type: q.Type, SubmittedOn: q.SubmittedOn}}
	if q.Type == registration.Renewal {
		from, _ := registration.ParseDate("2027-02-04")
		to, _ := registration.ParseDate("2027-03-01")
		v.Refusals = []registration.Refusal{{Code: registration.RefuseRenewalWindow,
			Message: "延续注册仅可在注册有效期到期前5至30日内申报，即 2027-02-04 至 2027-03-01 期间", Dates: map[string]registration.Date{"window_from": from, "window_to": to}}}
		return v, nil
	}
	v.ReviewDue = q.SubmittedOn.AddDays(21)
	return v, nil
}

type fakeRevoker struct{}

func (fakeRevoker) Revoke(_ context.Context, certNo, reason, actor string) (registry.Certificate, error) {
	c, ok := (&fakeHolder{}).certs()[certNo]
	if !ok {
		return registry.Certificate{}, registry.ErrNotFound
	}
	c.Status, c.StatusReason, c.StatusChangedAt = registration.CertRevoked, reason, testNow
	return c, nil
}

type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, data []byte) (*verify.Report, error) {
	ok := bytes.Contains(data, []byte("good"))
	r := &verify.Report{Format: verify.Sniff(data), OK: ok, Verdict: verify.VerdictValid,
		Checks:   []verify.Check{{Name: "signature", OK: ok, Status: verify.StatusPass, Reason: "signed for " + holderA}},
		Metadata: map[string]string{"ecert.certificateNo": certA}}
	if !ok {
		r.Verdict, r.Checks[0].Status = verify.VerdictInvalid, verify.StatusFail
	}
	return r, nil
}

func (fakeVerifier) PublicStatus(_ context.Context, licenceID, code, _ string) (PublicStatus, error) {
	if licenceID != licenceA || code != goodCode {
		return PublicStatus{}, issuance.ErrNotFound
	}
	until, _ := registration.ParseDate("2028-01-31")
	return PublicStatus{LicenceID: licenceA, CertificateNo: certA, Version: 1, HolderName: "欧阳娜娜", IDNumber: holderA,
		RegistrationNo: "辽2212025000001", Employer: "辽宁某建设工程有限公司", IssuedAt: testNow,
		Specialties: []PublicSpecialty{{Name: "建筑工程", ValidUntil: until}},
		Status:      verify.Status{Checked: true, Certificate: verify.StateCurrent, Code: "01", Registration: verify.RegistrationActive}}, nil
}

type fakeReadiness struct{ down bool }

func (f fakeReadiness) Ready(context.Context) map[string]error {
	m := map[string]error{"registry": nil, "objectstore": nil}
	if f.down {
		m["cache"] = errors.New("dial tcp 127.0.0.1:6379: connection refused")
	} else {
		m["cache"] = nil
	}
	return m
}

type fakeAuditor struct {
	mu      sync.Mutex
	entries []string
}

func (a *fakeAuditor) Audit(_ context.Context, actor, action, subject, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, strings.Join([]string{actor, action, subject, detail}, "|"))
	return nil
}

func (a *fakeAuditor) all() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.entries, "\n")
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }
