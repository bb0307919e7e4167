package issuance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Outcome says what Issue did.
type Outcome string

const (
	// Issued: a new certificate version was signed, stored and recorded.
	Issued Outcome = "issued"
	// AlreadyIssued: the case already had its certificate; nothing changed.
	AlreadyIssued Outcome = "already_issued"
	// Invalidated: a cancellation case; the registration's certificates were marked 04 注销.
	Invalidated Outcome = "invalidated"
)

// Result reports one Issue call.
type Result struct {
	Outcome     Outcome
	Certificate registry.Certificate
}

// ErrPermanent marks failures that retrying cannot fix (the queue may dead-letter at once).
var ErrPermanent = errors.New("permanent failure")

// CertificateNo derives the stable certificate number (the licence serial)
// of a registration from its registration number: the digits after the
// province abbreviation. Registration numbers are unique, so serials are
// unique per issuer and need no shared sequence.
func CertificateNo(regNo string) (string, error) {
	s := strings.TrimLeftFunc(regNo, func(r rune) bool { return !unicode.IsDigit(r) })
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return "", fmt.Errorf("registration number %q: no serial digits: %w", regNo, ErrPermanent)
	}
	return s, nil
}

// Issue turns the approved case caseID (already recorded by intake) into its
// certificate. It is idempotent: a case that has its certificate returns
// AlreadyIssued. Concurrent calls for the same case record one certificate;
// the loser removes the objects it wrote. While the registry or the object
// store is unavailable, Issue retries for up to Config.BackendRetry and says
// so on the log once per outage.
func (s *Service) Issue(ctx context.Context, caseID string) (Result, error) {
	start := s.cfg.Clock()
	res, err := s.issueRetrying(ctx, caseID)
	s.m.observeIssue(res.Outcome, err, time.Since(start))
	return res, err
}

// issueRetrying runs issue again after transient backend errors; issue is
// idempotent, so an attempt cut short by an outage is simply repeated.
func (s *Service) issueRetrying(ctx context.Context, caseID string) (Result, error) {
	r := newRetrier(s.cfg.BackendRetry)
	for {
		res, err := s.issue(ctx, caseID)
		backend := unavailableBackend(err)
		switch {
		case err == nil:
			s.down.recovered()
			return res, nil
		case backend == "":
			return res, err
		}
		s.down.failed(backend, err)
		if !r.sleep(ctx) {
			return res, fmt.Errorf("%w (%s unavailable for %s)", err, backend, time.Since(r.start).Round(time.Millisecond))
		}
	}
}

func (s *Service) issue(ctx context.Context, caseID string) (Result, error) {
	// One query for the approval and whether it was issued, one for the
	// registration and its latest version: round trips are most of what
	// PostgreSQL spends per certificate.
	a, issued, err := s.reg.CaseToIssue(ctx, caseID)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return Result{}, fmt.Errorf("issue %s: %w: %w", caseID, err, ErrPermanent)
		}
		return Result{}, err
	}
	if issued {
		c, err := s.reg.CertificateByCase(ctx, caseID)
		if err == nil {
			return Result{Outcome: AlreadyIssued, Certificate: c}, nil
		}
		if !errors.Is(err, registry.ErrNotFound) {
			return Result{}, err
		}
	}
	if a.BusinessType == registration.Cancellation {
		n, err := s.reg.SetCertificatesStatus(ctx, a.Registration.Number, registration.CertCancelled,
			"注销注册（办件 "+caseID+"）", "issuer")
		if err != nil {
			return Result{}, err
		}
		s.log.Info("certificates invalidated by cancellation", "case", caseID, "registration", a.Registration.Number, "count", n)
		return Result{Outcome: Invalidated}, nil
	}
	if !a.BusinessType.IssuesCertificate() {
		return Result{}, fmt.Errorf("issue %s: %s issues no certificate: %w", caseID, a.BusinessType, ErrPermanent)
	}
	certNo, err := CertificateNo(a.Registration.Number)
	if err != nil {
		return Result{}, err
	}
	reg, version, err := s.reg.RegistrationToIssue(ctx, a.Registration.Number, certNo)
	if err != nil {
		return Result{}, err
	}
	if ref := s.inForce(&reg, registration.Today(s.cfg.Clock())); ref != nil {
		return Result{}, fmt.Errorf("issue %s: %w: %w", caseID, ref, ErrPermanent)
	}
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			if version, err = s.reg.LatestVersion(ctx, certNo); err != nil {
				return Result{}, err
			}
		}
		c, err := s.issueVersion(ctx, &a, &reg, certNo, version+1)
		if err == nil {
			s.log.Debug("certificate issued", "case", caseID, "licence", c.LicenceID, "holder", registration.MaskID(a.Person.IDNumber))
			return Result{Outcome: Issued, Certificate: c}, nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return Result{}, err
		}
		// Someone recorded first: either this very case (then we are done) or
		// another version of the same certificate (then take the next version).
		if c, err := s.reg.CertificateByCase(ctx, caseID); err == nil {
			return Result{Outcome: AlreadyIssued, Certificate: c}, nil
		}
	}
	return Result{}, fmt.Errorf("issue %s: version conflicts did not settle", caseID)
}

// inForce refuses to issue for a registration that has ended by the issue
// date: cancelled (注销), or past its effective valid-until (policy
// extensions applied). A certificate signed today must not attest a
// registration that no longer exists.
func (s *Service) inForce(reg *registration.Registration, today registration.Date) *Refusal {
	if reg.Status == registration.RegistrationCancelled {
		on := ""
		if !reg.CancelledOn.IsZero() {
			on = "已于 " + reg.CancelledOn.String() + " "
		}
		reason := ""
		if reg.CancelReason != "" {
			reason = "（" + reg.CancelReason + "）"
		}
		return &Refusal{RefuseRegistrationCancelled,
			fmt.Sprintf("注册（注册编号 %s）%s注销%s，%s 不能签发电子注册证书", reg.Number, on, reason, today)}
	}
	base, eff := registration.BaseValidUntil(*reg), registration.EffectiveValidUntil(*reg, s.cfg.Policy.Extensions)
	if eff.IsZero() || !today.After(eff) {
		return nil
	}
	until := "注册有效期至 " + eff.String()
	if base != eff {
		until += "（原有效期至 " + base.String() + "，已按政策延期）"
	}
	return &Refusal{RefuseRegistrationExpired,
		fmt.Sprintf("%s，已届满，%s 不能签发电子注册证书；只能申报重新注册", until, today)}
}

// document builds the rendering input of a certificate version with its
// verification code (printed, and in the QR URL).
func (s *Service) document(a *intake.Approval, reg *registration.Registration, licence, code string, issued registration.Date) *certgen.Certificate {
	id, _ := registration.ParseIDNumber(a.Person.IDNumber)
	doc := &certgen.Certificate{
		HolderName:         a.Person.Name,
		Gender:             id.Gender.Chinese(),
		BirthDate:          id.BirthDate,
		IDNumber:           id.String(),
		RegistrationNo:     reg.Number,
		Employer:           reg.Employer.Name,
		EmployerCreditCode: reg.Employer.CreditCode,
		Authority:          s.cfg.Authority.Name,
		IssueDate:          issued,
		LicenceID:          licence,
		VerifyCode:         code,
	}
	for _, sp := range reg.Specialties {
		doc.Specialties = append(doc.Specialties, certgen.Specialty{Name: sp.Name, ValidUntil: sp.ValidUntil})
	}
	return doc
}

func (s *Service) issueVersion(ctx context.Context, a *intake.Approval, reg *registration.Registration, certNo string, version int) (registry.Certificate, error) {
	now := s.cfg.Clock()
	lid := registration.LicenceID{TypeCode: s.cfg.Authority.LicenceType, IssuerCode: s.cfg.Authority.Code, Serial: certNo, Version: version}
	if err := lid.Validate(); err != nil {
		return registry.Certificate{}, fmt.Errorf("licence id for %s: %w: %w", certNo, err, ErrPermanent)
	}
	// A fresh code per version, drawn before rendering: it is printed and
	// signed with the certificate, and recorded with its row.
	code, err := registration.NewVerifyCode()
	if err != nil {
		return registry.Certificate{}, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	doc := s.document(a, reg, lid.String(), code, registration.Today(now))
	ref, err := s.reg.ReserveStatusIndex(ctx)
	if err != nil {
		return registry.Certificate{}, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	if err := s.signClaim(ctx, doc, version, ref); err != nil {
		return registry.Certificate{}, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	meta := map[string]string{signing.MetaCertificateNo: lid.String(), signing.MetaKind: "original"}
	files, err := s.renderAndSign(ctx, doc, now, meta)
	if err != nil {
		return registry.Certificate{}, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	// One directory per certificate number (a filesystem store creates
	// one directory per new certificate, not two).
	prefix := fmt.Sprintf("certificates/%s/v%03d-", certNo, version)
	keys, err := s.putAll(ctx, prefix, files)
	if err != nil {
		return registry.Certificate{}, err
	}
	c := registry.Certificate{
		CertificateNo: certNo, Version: version, LicenceID: lid.String(), RegistrationNo: reg.Number, CaseID: a.CaseID,
		IDNumber: a.Person.IDNumber, Status: registration.CertValid,
		OFDKey: keys["ofd"].Key, OFDSHA256: keys["ofd"].SHA256, PDFKey: keys["pdf"].Key, PDFSHA256: keys["pdf"].SHA256,
		SignerSerial: s.signerSN, IssuedAt: now.UTC(), VerifyCode: code, StatusRef: ref,
	}
	if a.BusinessType.NeedsPublicNotice() {
		c.DownloadableFrom = a.NoticeEnd.AddDays(1)
	}
	if err := s.reg.RecordCertificate(ctx, c); err != nil {
		return s.settleRecord(ctx, c, keys, err)
	}
	return c, nil
}

// settleRecord finds out what a failed RecordCertificate left behind before
// anything is deleted. A dropped connection can hide a committed row: the
// objects it points at must then stay, and the certificate is issued. The
// objects are removed only when the registry shows that no row points at
// them; while that cannot be told, they stay (an unreferenced object is
// harmless, a row without its object is lost data) and the error is returned.
func (s *Service) settleRecord(ctx context.Context, c registry.Certificate, keys map[string]objectstore.Info, recErr error) (registry.Certificate, error) {
	r := newRetrier(max(s.cfg.BackendRetry, time.Second))
	for {
		got, err := s.reg.CertificateVersion(ctx, c.CertificateNo, c.Version)
		switch {
		case err == nil && got.OFDKey == c.OFDKey && got.PDFKey == c.PDFKey:
			s.log.Info("certificate recorded although the registry reported an error",
				"certificate", c.CertificateNo, "version", c.Version, "err", recErr)
			return got, nil
		case err == nil: // the version is someone else's: ours is unreferenced
			s.removeAll(keys)
			return registry.Certificate{}, recErr
		case errors.Is(err, registry.ErrNotFound) && registry.IsRowError(recErr):
			s.removeAll(keys)
			return registry.Certificate{}, recErr
		case errors.Is(err, registry.ErrNotFound):
			// The failed statement may still be running on the server.
			// Recording again either commits the row now or waits for that
			// statement and conflicts with it; the next lookup tells which.
			if recErr = s.reg.RecordCertificate(ctx, c); recErr == nil {
				return c, nil
			}
			if registry.IsRowError(recErr) {
				continue
			}
		}
		if !r.sleep(ctx) {
			s.log.Warn("kept objects the registry may point at: unreferenced ones are left for the sweep",
				"certificate", c.CertificateNo, "version", c.Version, "err", recErr)
			return registry.Certificate{}, recErr
		}
	}
}

// signedFile is one signed document ready to store.
type signedFile struct {
	format string // "ofd" or "pdf"
	data   []byte
}

// renderAndSign renders doc from one layout and signs the formats wanted
// ("ofd", "pdf"; both when none are named) with metadata.
func (s *Service) renderAndSign(ctx context.Context, doc *certgen.Certificate, now time.Time, meta map[string]string, formats ...string) ([]signedFile, error) {
	want := func(f string) bool { return len(formats) == 0 || slices.Contains(formats, f) }
	out, err := s.rnd.RenderOutput(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("render: %w: %w", err, ErrPermanent)
	}
	var files []signedFile
	if want("ofd") {
		f, err := s.signOFD(ctx, out, now, meta)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if want("pdf") {
		f, err := s.signPDF(ctx, out, now, meta)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

func (s *Service) signPDF(ctx context.Context, out *certgen.Output, now time.Time, meta map[string]string) (signedFile, error) {
	r := s.rnd.SealRectPDF()
	signedPDF, err := pdfsig.Sign(ctx, out.PDF, s.sig, pdfsig.Options{
		Rect:         [4]float64{r.X, r.Y, r.X + r.W, r.Y + r.H},
		Reason:       "电子注册证书签发",
		Location:     s.cfg.Authority.Location,
		Name:         s.cfg.Authority.Name,
		Time:         now,
		Appearance:   pdfsig.PageSeal(), // the rendered page shows the seal
		ContentsSize: s.pdfRoom,
		Metadata:     meta,
	})
	if err != nil {
		return signedFile{}, fmt.Errorf("sign pdf: %w", err)
	}
	return signedFile{"pdf", signedPDF}, nil
}

// signOFD seals the rendered OFD package before it is zipped, so the
// package is zipped once and never read back.
func (s *Service) signOFD(ctx context.Context, out *certgen.Output, now time.Time, meta map[string]string) (signedFile, error) {
	files := out.OFD.Files()
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	b := s.rnd.SealRect()
	if err := ofdsig.SignContainer(ctx, out.OFD, names, s.sig, s.sealDER, ofdsig.Options{
		Time:     now,
		Boundary: [4]float64{b.X, b.Y, b.W, b.H},
		Metadata: meta,
	}); err != nil {
		return signedFile{}, fmt.Errorf("sign ofd: %w", err)
	}
	signed, err := out.OFD.Bytes()
	if err != nil {
		return signedFile{}, fmt.Errorf("zip ofd: %w", err)
	}
	return signedFile{"ofd", signed}, nil
}

var contentTypes = map[string]string{"ofd": "application/ofd", "pdf": "application/pdf"}

// putAll stores files under prefix + a digest-derived name, so that
// concurrent attempts never overwrite each other's objects. The files are
// written at the same time: each write waits mostly for the store (a
// round trip to MinIO, a sync of the filesystem), and concurrent writes
// share that wait.
func (s *Service) putAll(ctx context.Context, prefix string, files []signedFile) (map[string]objectstore.Info, error) {
	infos := make([]objectstore.Info, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			// The store trusts a digest it computed itself and does not
			// hash the bytes again.
			r, digest := objectstore.Digested(f.data)
			key := prefix + digest[:16] + "." + f.format
			infos[i], errs[i] = s.store.Put(ctx, key, r, int64(len(f.data)),
				objectstore.PutOptions{ContentType: contentTypes[f.format], SHA256: digest})
			if errs[i] != nil {
				errs[i] = fmt.Errorf("store %s: %w", key, errs[i])
			}
		})
	}
	wg.Wait()
	out := make(map[string]objectstore.Info, len(files))
	for i, f := range files {
		if errs[i] == nil {
			out[f.format] = infos[i]
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.removeAll(out)
		return nil, err
	}
	return out, nil
}

// removeAll deletes objects this attempt wrote but will not record (best effort, detached from a cancelled ctx).
func (s *Service) removeAll(objs map[string]objectstore.Info) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, o := range objs {
		if err := s.store.Delete(ctx, o.Key); err != nil {
			s.log.Warn("could not remove unrecorded object", "key", o.Key, "err", err)
		}
	}
}
