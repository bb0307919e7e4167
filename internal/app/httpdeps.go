package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// APIDeps adapts the core to the interfaces the HTTP layer declares.
func (a *App) APIDeps() api.Deps {
	v := &apiVerifier{a: a}
	return api.Deps{
		Intake: apiIntake{a}, Cases: apiCases{a}, Eligibility: apiEligibility{a}, Revoker: apiRevoker{a},
		Holder: apiHolder{a}, Verifier: v, Reports: &apiReports{v: v}, Readiness: apiReadiness{a}, Auditor: a.Registry,
		Gatherer: a.Metrics, StatusLists: a.statusListsDeps(),
		Trust: a.Keys,
	}
}

func (a *App) today() registration.Date { return registration.Today(time.Now()) }

type apiIntake struct{ a *App }

// Ingest records the portal's approvals one line at a time and queues each
// new case for issuance.
func (x apiIntake) Ingest(ctx context.Context, r io.Reader, emit func(api.ApprovalResult) error) error {
	enqueue := func(ctx context.Context, caseID string) error { return x.a.Queue.Enqueue(ctx, caseID, nil) }
	return issuance.Ingest(ctx, x.a.Registry, r, issuance.IngestOptions{Batch: 1, Enqueue: enqueue}, func(l issuance.IngestedLine) error {
		return emit(approvalResult(l))
	})
}

func approvalResult(l issuance.IngestedLine) api.ApprovalResult {
	res := api.ApprovalResult{Line: l.No, CaseID: l.CaseID, Queued: l.Queued}
	var ve *intake.ValidationError
	var ce *registry.ConflictError
	switch {
	case l.Outcome == registry.Inserted:
		res.Outcome = api.OutcomeInserted
	case l.Outcome == registry.Duplicate:
		res.Outcome = api.OutcomeDuplicate
	case errors.As(l.Err, &ce):
		res.Outcome, res.Problems = api.OutcomeConflict, ce.Fields
	case errors.As(l.Err, &ve):
		res.Outcome, res.Problems = api.OutcomeRejected, ve.Problems
	default:
		res.Outcome = api.OutcomeRejected
	}
	if res.Problems == nil && l.Err != nil {
		res.Problems = []string{l.Err.Error()}
	}
	if l.Err != nil && l.Outcome == registry.Inserted { // recorded, not queued
		res.Problems = []string{l.Err.Error()}
	}
	return res
}

type apiCases struct{ a *App }

// Case returns the recorded case as the domain sees it, with its
// certificate when one was issued.
func (x apiCases) Case(ctx context.Context, caseID string) (registration.Case, *registry.Certificate, error) {
	ap, err := x.a.Registry.CaseApproval(ctx, caseID)
	if err != nil {
		return registration.Case{}, nil, err
	}
	c := registration.Case{ID: ap.CaseID, Type: ap.BusinessType, Status: registration.CaseApproved,
		Account: registration.NaturalPerson, IDNumber: ap.Person.IDNumber, RegistrationNo: ap.Registration.Number,
		DecidedOn: ap.ApprovedOn, NoticeEnd: ap.NoticeEnd}
	cert, err := x.a.Registry.CertificateByCase(ctx, caseID)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return c, nil, nil
	case err != nil:
		return c, nil, err
	}
	return c, &cert, nil
}

type apiEligibility struct{ a *App }

func (x apiEligibility) Check(ctx context.Context, q api.EligibilityQuery) (api.EligibilityVerdict, error) {
	v, due, err := issuance.CheckEligibility(ctx, x.a.Registry, x.a.Policy, issuance.EligibilityQuery{
		Type: q.Type, Account: q.Account, IDNumber: q.IDNumber, RegistrationNo: q.RegistrationNo,
		SubmittedOn: q.SubmittedOn, QuotedApprovalDate: q.QuotedApprovalDate, Specialty: q.Specialty,
	})
	return api.EligibilityVerdict{Verdict: v, ReviewDue: due}, err
}

type apiRevoker struct{ a *App }

func (x apiRevoker) Revoke(ctx context.Context, certNo, reason, actor string) (registry.Certificate, error) {
	c, err := x.a.Registry.RevokeCertificate(ctx, certNo, reason, actor)
	if err == nil {
		x.a.refreshStatusLists(ctx) // the lists say so at once
	}
	return c, err
}

type apiHolder struct{ a *App }

// Certificates lists the holder's certificates, the current version of each,
// with its registration's specialties and effective valid-until.
func (x apiHolder) Certificates(ctx context.Context, holder string) ([]api.HolderCertificate, error) {
	all, err := x.a.Registry.CertificatesOf(ctx, holder)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	regs := map[string]registration.Registration{}
	var out []api.HolderCertificate
	for _, c := range all { // newest first: the first of each number is current
		if seen[c.CertificateNo] {
			continue
		}
		seen[c.CertificateNo] = true
		reg, ok := regs[c.RegistrationNo]
		if !ok {
			reg, err = x.a.Registry.Registration(ctx, c.RegistrationNo)
			if errors.Is(err, registry.ErrNotFound) {
				// Not the holder's 404: the registry names a registration it lacks.
				return nil, fmt.Errorf("certificate %s: registration %s is not recorded", c.CertificateNo, c.RegistrationNo)
			}
			if err != nil {
				return nil, fmt.Errorf("certificate %s: %w", c.CertificateNo, err)
			}
			regs[c.RegistrationNo] = reg
		}
		hc := api.HolderCertificate{Certificate: c, RegistrationValidUntil: registration.EffectiveValidUntil(reg, x.a.Policy.Extensions),
			Specialties: make([]api.PublicSpecialty, 0, len(reg.Specialties))}
		for _, s := range reg.Specialties {
			hc.Specialties = append(hc.Specialties, api.PublicSpecialty{Name: s.Name, ValidUntil: s.ValidUntil})
		}
		out = append(out, hc)
	}
	return out, nil
}

func (x apiHolder) CertificateFile(ctx context.Context, holder, certNo, format string) (api.File, error) {
	c, err := x.a.Registry.CurrentCertificate(ctx, certNo)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && c.IDNumber != holder) {
		return api.File{}, issuance.ErrNotFound
	}
	if err != nil {
		return api.File{}, err
	}
	if today := x.a.today(); !c.DownloadableFrom.IsZero() && today.Before(c.DownloadableFrom) {
		return api.File{}, &issuance.Refusal{Code: issuance.RefuseNoticeNotEnded,
			Message: fmt.Sprintf("公示期未结束，%s 起可下载电子证书", c.DownloadableFrom)}
	}
	key, sum := c.PDFKey, c.PDFSHA256
	switch format {
	case "ofd":
		key, sum = c.OFDKey, c.OFDSHA256
	case "pdf":
	default:
		return api.File{}, fmt.Errorf("%w: format %q, want ofd or pdf", issuance.ErrBadRequest, format)
	}
	return x.open(ctx, holder, format, key, sum, c.IssuedAt)
}

func (x apiHolder) Preview(ctx context.Context, holder, certNo string) ([]byte, error) {
	return x.a.Service.Preview(ctx, holder, certNo)
}

func (x apiHolder) Restamp(ctx context.Context, req issuance.RestampRequest) (issuance.Copy, error) {
	return x.a.Service.Restamp(ctx, req)
}

func (x apiHolder) CopyFile(ctx context.Context, holder, copyID string) (api.File, error) {
	u, err := x.a.Registry.UsageCopyByID(ctx, copyID)
	if errors.Is(err, registry.ErrNotFound) {
		return api.File{}, issuance.ErrNotFound
	}
	if err != nil {
		return api.File{}, err
	}
	c, err := x.a.Registry.CertificateVersion(ctx, u.CertificateNo, u.Version)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && c.IDNumber != holder) {
		return api.File{}, issuance.ErrNotFound
	}
	if err != nil {
		return api.File{}, err
	}
	return x.open(ctx, holder, u.Format, u.ObjectKey, u.SHA256, u.CreatedAt)
}

// open reads a stored file whole (certificates are tens of kilobytes), its
// digest checked against the registry's as it is read.
func (x apiHolder) open(ctx context.Context, holder, format, key, sum string, mod time.Time) (api.File, error) {
	rc, info, err := x.a.Service.Open(ctx, key, sum)
	if err != nil {
		return api.File{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return api.File{}, err
	}
	name := ""
	if p, err := x.a.Registry.Person(ctx, holder); err == nil {
		name = p.Name
	}
	return api.File{Format: format, HolderName: name, SHA256: info.SHA256, Size: int64(len(b)), ModTime: mod,
		Body: bytes.NewReader(b)}, nil
}

type apiVerifier struct {
	a     *App
	once  sync.Once
	roots []*smx509.Certificate
	err   error
}

// trustRoots reads the key store's root once: it does not change while the
// service runs (rotation makes new issuer keys under the same root).
func (x *apiVerifier) trustRoots() ([]*smx509.Certificate, error) {
	x.once.Do(func() {
		root, err := x.a.Keys.Root()
		x.roots, x.err = []*smx509.Certificate{root}, err
	})
	return x.roots, x.err
}

// Verify checks an uploaded file against the service's root and asks the
// registry whether it is still in force.
func (x *apiVerifier) Verify(ctx context.Context, data []byte) (*verify.Report, error) {
	roots, err := x.trustRoots()
	if err != nil {
		return nil, err
	}
	return verify.File(data, verify.Options{Roots: roots, Status: issuance.StatusLookup(ctx, x.a.Registry, x.a.Policy)}), nil
}

func (x *apiVerifier) PublicStatus(ctx context.Context, licenceID, code, copyID string) (api.PublicStatus, error) {
	var p issuance.PublicCertificate
	var err error
	if copyID != "" {
		p, err = issuance.PublicCopyStatus(ctx, x.a.Registry, x.a.Policy, x.a.today(), licenceID, code, copyID)
	} else {
		p, err = issuance.PublicStatus(ctx, x.a.Registry, x.a.Policy, x.a.today(), licenceID, code)
	}
	if err != nil {
		return api.PublicStatus{}, err
	}
	out := api.PublicStatus{LicenceID: p.LicenceID, Version: p.Version, HolderName: p.HolderName, IDNumber: p.IDNumber,
		RegistrationNo: p.RegistrationNo, Employer: p.Employer, IssuedAt: p.IssueDate.Time(registration.ChinaTZ), Status: p.Status}
	if lid, err := registration.ParseLicenceID(p.LicenceID); err == nil {
		out.CertificateNo = lid.Serial
	}
	for _, s := range p.Specialties {
		out.Specialties = append(out.Specialties, api.PublicSpecialty{Name: s.Name, ValidUntil: s.ValidUntil})
	}
	if cp := p.Copy; cp != nil {
		out.Copy = &api.PublicCopy{ID: cp.ID, ValidFrom: cp.ValidFrom, ValidUntil: cp.ValidUntil, InValidity: cp.InValidity}
	}
	return out, nil
}

// apiReports verifies batches like apiVerifier and signs their reports
// with the key store's verification-service key.
type apiReports struct {
	v      *apiVerifier
	mu     sync.Mutex
	signer signing.Signer
}

func (x *apiReports) VerifyBatch(ctx context.Context, files []batchverify.File) (*batchverify.Batch, error) {
	roots, err := x.v.trustRoots()
	if err != nil {
		return nil, err
	}
	return batchverify.Verify(ctx, files, batchverify.Options{StatusList: x.v.a.statusListVersions(ctx),
		Verify: verify.Options{Roots: roots, Status: issuance.StatusLookup(ctx, x.v.a.Registry, x.v.a.Policy)}})
}

// SignReport loads the service key on first use (making it for a store
// that predates it) and keeps it once loaded.
func (x *apiReports) SignReport(ctx context.Context, b *batchverify.Batch) ([]byte, error) {
	x.mu.Lock()
	if x.signer == nil {
		s, err := x.v.a.Keys.ReportSigner(ctx)
		if err != nil {
			x.mu.Unlock()
			return nil, fmt.Errorf("verification report key: %w", err)
		}
		x.signer = s
	}
	s := x.signer
	x.mu.Unlock()
	return batchverify.Sign(ctx, b, s)
}

type apiReadiness struct{ a *App }

func (x apiReadiness) Ready(ctx context.Context) map[string]error {
	return map[string]error{
		"registry": x.a.Registry.Ready(ctx), "object_store": x.a.Store.Ready(ctx),
		"cache": x.a.Cache.Ready(ctx), "queue": x.a.Queue.Ready(ctx),
	}
}
