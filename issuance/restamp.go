package issuance

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// RestampRequest is one press of 加注 by an applicant.
type RestampRequest struct {
	// Holder is the applicant's ID number, from the portal's signed statement.
	Holder string
	// CertificateNo names the certificate (the licence serial).
	CertificateNo string
	// Format is "ofd" or "pdf".
	Format string
	// Purpose (用途) is optional free text printed on the copy (at most 40
	// characters; surrounding spaces are dropped). Presses for another
	// purpose get another copy.
	Purpose string
	// Actor is recorded as the copy's creator ("holder" when empty).
	Actor string
}

// Copy is a usage copy returned by Restamp.
type Copy struct {
	registry.UsageCopy
	// Source says where it came from: "cache", "registry" or "created".
	Source string
}

// Refusal is a domain reason an issue or a re-stamp is refused; Code is stable.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Code + ": " + r.Message }

// Refusal codes of Restamp.
const (
	RefuseCertificateSuperseded = "certificate_superseded"
	RefuseCertificateInvalid    = "certificate_invalid"
	RefuseRegistrationCancelled = "registration_cancelled"
	RefuseRegistrationExpired   = "registration_expired"
	RefuseNoticeNotEnded        = "notice_not_ended"
)

// ErrNotFound is returned for a certificate that does not exist or does not
// belong to the requesting holder: the two are indistinguishable on purpose.
var ErrNotFound = errors.New("issuance: no such certificate for this holder")

// ErrBadRequest wraps malformed re-stamp requests.
var ErrBadRequest = errors.New("issuance: bad request")

// cachedCopy is the cache value under cacheKey.
type cachedCopy struct {
	CopyID     string    `json:"copy_id"`
	Version    int       `json:"version"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
	Purpose    string    `json:"purpose,omitempty"`
	ObjectKey  string    `json:"object_key"`
	SHA256     string    `json:"sha256"`
	CreatedBy  string    `json:"created_by"`
}

// press is what makes two presses the same request: the certificate, the
// format and the purpose, on the same China-time day.
type press struct {
	certNo  string
	version int
	format  string
	purpose string
	day     registration.Date
}

// key names the request in cache, lock and single-flight keys; the purpose
// enters as a digest (free text, up to 40 characters of any script).
func (p press) key() string {
	d := sha256.Sum256([]byte(p.purpose))
	return p.certNo + ":" + p.format + ":" + hex.EncodeToString(d[:8]) + ":" + p.day.String()
}

func (p press) cacheKey() string { return "restamp:" + p.key() }

// Restamp returns a usage copy of the holder's current certificate. Presses
// for the same certificate, format and purpose on the same day (China time)
// return the same copy without re-signing: from the cache, or from the
// registry when the cache misses or is down; concurrent identical presses
// make exactly one. A different purpose or a later day makes a new copy,
// valid from now for CopyValidity (never past the registration's effective
// valid-until); earlier copies stay valid until their own end.
func (s *Service) Restamp(ctx context.Context, req RestampRequest) (Copy, error) {
	c, err := s.restamp(ctx, req)
	var ref *Refusal
	switch {
	case err == nil:
		s.m.restamps.WithLabelValues(c.Source).Inc()
	case errors.As(err, &ref):
		s.m.restamps.WithLabelValues("refused").Inc()
	default:
		s.m.restamps.WithLabelValues("failed").Inc()
	}
	return c, err
}

func (s *Service) restamp(ctx context.Context, req RestampRequest) (Copy, error) {
	if req.Format != "ofd" && req.Format != "pdf" {
		return Copy{}, fmt.Errorf("%w: format %q, want ofd or pdf", ErrBadRequest, req.Format)
	}
	req.Purpose = strings.TrimSpace(req.Purpose)
	if utf8.RuneCountInString(req.Purpose) > 40 || !utf8.ValidString(req.Purpose) {
		return Copy{}, fmt.Errorf("%w: purpose longer than 40 characters", ErrBadRequest)
	}
	holder := strings.ToUpper(strings.TrimSpace(req.Holder)) // ID numbers are stored upper-case (X)
	now := s.cfg.Clock()
	cert, reg, cached, err := s.inForceRows(ctx, req.CertificateNo, false)
	p, effective, err := s.pressFor(req, holder, cert, reg, now, err)
	if err != nil {
		return Copy{}, err
	}
	if c, ok := s.fromCache(ctx, p, now); ok {
		return c, nil
	}
	if cached { // a copy may be signed next: decide on rows read now
		cert, reg, _, err = s.inForceRows(ctx, req.CertificateNo, true)
		if p, effective, err = s.pressFor(req, holder, cert, reg, now, err); err != nil {
			return Copy{}, err
		}
	}
	// One press per request at a time in this process.
	v, err, _ := s.flights.Do(fmt.Sprintf("%s:v%d", p.key(), p.version), func() (any, error) {
		return s.restampSlow(ctx, req, p, cert, effective, now)
	})
	if err != nil {
		return Copy{}, err
	}
	return v.(Copy), nil
}

// pressFor checks that cert (read with err) is holder's and usable now, and
// names the press.
func (s *Service) pressFor(req RestampRequest, holder string, cert registry.Certificate, reg registration.Registration, now time.Time, err error) (press, registration.Date, error) {
	if errors.Is(err, registry.ErrNotFound) || (err == nil && (holder == "" || cert.IDNumber != holder)) {
		return press{}, registration.Date{}, ErrNotFound
	}
	if err != nil {
		return press{}, registration.Date{}, err
	}
	effective := registration.EffectiveValidUntil(reg, s.cfg.Policy.Extensions)
	today := registration.Today(now)
	if err := s.usable(cert, reg, effective, today); err != nil {
		return press{}, registration.Date{}, err
	}
	return press{certNo: cert.CertificateNo, version: cert.Version, format: req.Format, purpose: req.Purpose, day: today}, effective, nil
}

// usable refuses re-stamps of certificates or registrations that are no longer in force.
func (s *Service) usable(cert registry.Certificate, reg registration.Registration, effective, today registration.Date) error {
	switch {
	case reg.Status == registration.RegistrationCancelled:
		return &Refusal{RefuseRegistrationCancelled, fmt.Sprintf("注册已注销（%s），不能加注", reg.CancelReason)}
	case today.After(effective):
		return &Refusal{RefuseRegistrationExpired, fmt.Sprintf("注册有效期至 %s，已届满，不能加注；请办理重新注册", effective)}
	case cert.Status == registration.CertLapsed:
		return &Refusal{RefuseCertificateSuperseded, "该证书已被新版本取代，请使用最新版本加注"}
	case cert.Status != registration.CertValid:
		return &Refusal{RefuseCertificateInvalid, fmt.Sprintf("证书状态为“%s”，不能加注", cert.Status.Chinese())}
	case !cert.DownloadableFrom.IsZero() && today.Before(cert.DownloadableFrom):
		return &Refusal{RefuseNoticeNotEnded, fmt.Sprintf("公示期未结束，%s 起可下载和加注电子证书", cert.DownloadableFrom)}
	}
	return nil
}

// fromCache returns the copy this process or the shared cache holds for p.
func (s *Service) fromCache(ctx context.Context, p press, now time.Time) (Copy, bool) {
	if u, ok := s.answers.get(p.cacheKey(), now); ok && u.Version == p.version && u.Purpose == p.purpose {
		return Copy{Source: "cache", UsageCopy: u}, true
	}
	b, err := s.cache.Get(ctx, p.cacheKey())
	if err != nil {
		if errors.Is(err, cache.ErrUnavailable) {
			s.m.cacheDown.Inc()
		}
		return Copy{}, false
	}
	var cc cachedCopy
	if json.Unmarshal(b, &cc) != nil || cc.Version != p.version || cc.Purpose != p.purpose || !now.Before(cc.ValidUntil) {
		return Copy{}, false
	}
	u := registry.UsageCopy{
		CopyID: cc.CopyID, CertificateNo: p.certNo, Version: cc.Version, Format: p.format,
		ValidFrom: cc.ValidFrom, ValidUntil: cc.ValidUntil, Purpose: cc.Purpose, Day: p.day, CreatedBy: cc.CreatedBy,
		ObjectKey: cc.ObjectKey, SHA256: cc.SHA256,
	}
	s.answers.put(p.cacheKey(), u, answerEnd(p, u))
	return Copy{Source: "cache", UsageCopy: u}, true
}

// answerEnd is when the answer u to press p stops being the answer: the
// end of p's day, or of the copy, if that comes first.
func answerEnd(p press, u registry.UsageCopy) time.Time {
	end := p.day.AddDays(1).Time(registration.ChinaTZ)
	if u.ValidUntil.Before(end) {
		end = u.ValidUntil
	}
	return end
}

// remember keeps u as the answer to p, in this process and in the shared
// cache, until the end of p's day (or of the copy, if that comes first).
func (s *Service) remember(ctx context.Context, p press, u registry.UsageCopy, now time.Time) {
	end := answerEnd(p, u)
	ttl := end.Sub(now)
	if ttl <= 0 {
		return
	}
	s.answers.put(p.cacheKey(), u, end)
	b, _ := json.Marshal(cachedCopy{CopyID: u.CopyID, Version: u.Version, ValidFrom: u.ValidFrom, ValidUntil: u.ValidUntil,
		Purpose: u.Purpose, ObjectKey: u.ObjectKey, SHA256: u.SHA256, CreatedBy: u.CreatedBy})
	if err := s.cache.Set(ctx, p.cacheKey(), b, ttl); err != nil && errors.Is(err, cache.ErrUnavailable) {
		s.m.cacheDown.Inc()
	}
}

func (s *Service) restampSlow(ctx context.Context, req RestampRequest, p press, cert registry.Certificate, effective registration.Date, now time.Time) (Copy, error) {
	if c, err := s.fromRegistry(ctx, p, now); err == nil || !errors.Is(err, registry.ErrNotFound) {
		return c, err
	}
	lock, err := cache.TryLock(ctx, s.cache, "restamp-lock:"+p.key(), s.cfg.LockTTL)
	switch {
	case err == nil:
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			_ = lock.Release(rctx)
		}()
	case errors.Is(err, cache.ErrLocked):
		return s.waitForCopy(ctx, p)
	case errors.Is(err, cache.ErrUnavailable):
		// No cross-process lock: the registry still records one copy per request.
		s.m.cacheDown.Inc()
	default:
		return Copy{}, err
	}
	// Another process may have finished between our check and the lock.
	if c, err := s.fromRegistry(ctx, p, now); err == nil || !errors.Is(err, registry.ErrNotFound) {
		return c, err
	}
	return s.createCopy(ctx, req, p, cert, effective, now)
}

// fromRegistry returns the copy the registry holds for p and caches it.
func (s *Service) fromRegistry(ctx context.Context, p press, now time.Time) (Copy, error) {
	u, err := s.reg.CopyFor(ctx, p.certNo, p.version, p.format, p.purpose, p.day)
	if err != nil {
		return Copy{}, err
	}
	s.remember(ctx, p, u, now)
	return Copy{UsageCopy: u, Source: "registry"}, nil
}

// waitForCopy polls for the copy that the lock holder is making.
func (s *Service) waitForCopy(ctx context.Context, p press) (Copy, error) {
	deadline := time.NewTimer(s.cfg.WaitForCopy)
	defer deadline.Stop()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return Copy{}, ctx.Err()
		case <-deadline.C:
			return Copy{}, fmt.Errorf("issuance: re-stamp of %s is taking too long in another process; try again", p.certNo)
		case <-tick.C:
		}
		if c, ok := s.fromCache(ctx, p, s.cfg.Clock()); ok {
			return c, nil
		}
		if u, err := s.reg.CopyFor(ctx, p.certNo, p.version, p.format, p.purpose, p.day); err == nil {
			return Copy{UsageCopy: u, Source: "registry"}, nil
		}
	}
}

// copyWindow returns the validity of a copy made at now: now + validity,
// cut at the end (China time) of the registration's effective valid-until.
func copyWindow(now time.Time, validity time.Duration, effective registration.Date) (from, until time.Time) {
	until = now.Add(validity)
	if end := effective.AddDays(1).Time(registration.ChinaTZ); end.Before(until) {
		until = end
	}
	return now, until
}

func (s *Service) createCopy(ctx context.Context, req RestampRequest, p press, cert registry.Certificate, effective registration.Date, now time.Time) (Copy, error) {
	a, err := s.reg.CaseApproval(ctx, cert.CaseID)
	if err != nil {
		return Copy{}, err
	}
	reg, err := s.reg.Registration(ctx, cert.RegistrationNo)
	if err != nil {
		return Copy{}, err
	}
	var rb [10]byte
	if _, err := io.ReadFull(rand.Reader, rb[:]); err != nil {
		return Copy{}, err
	}
	copyID := "C" + hex.EncodeToString(rb[:])
	from, until := copyWindow(now, s.cfg.CopyValidity, effective)
	lastDay := registration.Today(until.Add(-time.Nanosecond))
	// A copy prints its certificate version's code: the public lookup
	// answers for that version, and the copy's QR URL names the copy too.
	doc := s.document(&a, &reg, cert.LicenceID, cert.VerifyCode, registration.Today(cert.IssuedAt))
	doc.Copy = &certgen.UsageCopy{Serial: copyID, ValidFrom: registration.Today(from), ValidUntil: lastDay, Purpose: req.Purpose}
	ref, err := s.reg.ReserveStatusIndex(ctx)
	if err != nil {
		return Copy{}, err
	}
	if err := s.signClaim(ctx, doc, cert.Version, ref); err != nil {
		return Copy{}, err
	}
	meta := map[string]string{
		signing.MetaCertificateNo:       cert.LicenceID,
		signing.MetaKind:                "usage-copy",
		signing.MetaCopyID:              copyID,
		signing.MetaParentCertificateNo: cert.LicenceID,
		signing.MetaUsageValidFrom:      registration.Today(from).String(),
		signing.MetaUsageValidUntil:     lastDay.String(),
	}
	files, err := s.renderAndSign(ctx, doc, now, meta, req.Format)
	if err != nil {
		return Copy{}, fmt.Errorf("copy of %s: %w", cert.CertificateNo, err)
	}
	objs, err := s.putAll(ctx, fmt.Sprintf("copies/%s/%s-", cert.CertificateNo, copyID), files)
	if err != nil {
		return Copy{}, err
	}
	actor := req.Actor
	if actor == "" {
		actor = "holder"
	}
	u := registry.UsageCopy{CopyID: copyID, CertificateNo: cert.CertificateNo, Version: cert.Version, Format: req.Format,
		ValidFrom: from.UTC(), ValidUntil: until.UTC(), Purpose: req.Purpose, Day: p.day, CreatedBy: actor,
		ObjectKey: objs[req.Format].Key, SHA256: objs[req.Format].SHA256, StatusRef: ref}
	got, recorded, err := s.reg.RecordCopyOnce(ctx, u)
	if err != nil {
		if got, recorded, err = s.settleCopy(ctx, u, objs, err); err != nil {
			return Copy{}, fmt.Errorf("copy of %s: %w", cert.CertificateNo, err)
		}
	}
	if !recorded {
		s.removeAll(objs)
		s.remember(ctx, p, got, now)
		return Copy{UsageCopy: got, Source: "registry"}, nil
	}
	s.remember(ctx, p, got, now)
	s.log.Debug("usage copy created", "certificate", cert.CertificateNo, "copy", copyID, "format", req.Format, "valid_until", until.Format(time.RFC3339))
	return Copy{UsageCopy: got, Source: "created"}, nil
}

// settleCopy finds out, after RecordCopyOnce failed with recErr, what the
// registry holds before anything is deleted: a dropped connection can hide a
// committed row, and its files must then stay. It returns the copy the
// request got and whether it is u. u's files are removed here only when the
// registry shows that no row points at them; while that cannot be told they
// stay (an unreferenced file is harmless, a row without its file is lost
// data) and the error is returned.
func (s *Service) settleCopy(ctx context.Context, u registry.UsageCopy, objs map[string]objectstore.Info, recErr error) (registry.UsageCopy, bool, error) {
	r := newRetrier(max(s.cfg.BackendRetry, time.Second))
	for {
		got, err := s.reg.UsageCopyByID(ctx, u.CopyID)
		switch {
		case err == nil:
			s.log.Info("usage copy recorded although the registry reported an error", "copy", u.CopyID, "err", recErr)
			return got, true, nil
		case errors.Is(err, registry.ErrNotFound) && registry.IsRowError(recErr):
			s.removeAll(objs)
			return registry.UsageCopy{}, false, recErr
		case errors.Is(err, registry.ErrNotFound):
			// The failed statement may still be running on the server.
			// Recording again either records u now or waits for that
			// statement and returns whichever copy holds the request.
			got, _, err := s.reg.RecordCopyOnce(ctx, u)
			if err == nil { // another copy holds the request: the caller removes u's files
				return got, got.CopyID == u.CopyID, nil
			}
			if recErr = err; registry.IsRowError(err) {
				continue
			}
		}
		if !r.sleep(ctx) {
			s.log.Warn("kept the files of a usage copy the registry may point at: unreferenced ones are left for the sweep",
				"copy", u.CopyID, "err", recErr)
			return registry.UsageCopy{}, false, recErr
		}
	}
}

// Open streams a stored certificate or copy file, verifying its digest as it is read.
func (s *Service) Open(ctx context.Context, key, wantSHA256 string) (io.ReadCloser, objectstore.Info, error) {
	rc, info, err := s.store.Get(ctx, key)
	if err != nil {
		return nil, info, err
	}
	if wantSHA256 != "" && info.SHA256 != wantSHA256 {
		rc.Close()
		return nil, info, fmt.Errorf("%s: stored digest %s differs from the registry's %s: %w", key, info.SHA256, wantSHA256, objectstore.ErrCorrupt)
	}
	return rc, info, nil
}
