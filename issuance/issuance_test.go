package issuance_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// clock is an injectable, settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var (
	sharedOnce     sync.Once
	sharedRenderer *certgen.Renderer
	sharedKeys     *signing.Store
	sharedErr      error
	keyDir         string
)

// parts returns the process-wide renderer and development keys (fonts are parsed once).
func parts(t testing.TB) (*certgen.Renderer, *signing.Store) {
	sharedOnce.Do(func() {
		sharedRenderer, sharedErr = certgen.NewDefault(certgen.Options{VerifyBaseURL: "https://ecert.example.gov.cn/v"})
		if sharedErr != nil {
			return
		}
		// Keys made "in 2025" so that the test clock (2026) is inside their validity.
		keyDir = filepath.Join(tmpRoot, "keys")
		sharedKeys, sharedErr = signing.NewStore(keyDir, []byte("test passphrase, not secret"),
			signing.CAConfig{Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }})
		if sharedErr == nil {
			sharedErr = sharedKeys.Init(context.Background())
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedRenderer, sharedKeys
}

type env struct {
	svc   *issuance.Service
	reg   *registry.Registry
	store objectstore.Store
	cache cache.Cache
	clock *clock
	keys  *signing.Store
	m     *issuance.Metrics
}

type backends struct {
	store objectstore.Store
	cache cache.Cache
	dsn   string
}

func newEnv(t testing.TB, b backends) *env {
	t.Helper()
	ctx := context.Background()
	rnd, keys := parts(t)
	ck := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, registration.ChinaTZ)}
	if b.dsn == "" {
		b.dsn = filepath.Join(t.TempDir(), "ecert.db")
	}
	reg, err := registry.Open(ctx, b.dsn, registry.Options{Clock: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	if b.store == nil {
		if b.store, err = objectstore.NewFilesystem(objectstore.FSConfig{Root: filepath.Join(t.TempDir(), "objects")}); err != nil {
			t.Fatal(err)
		}
	}
	if b.cache == nil {
		b.cache = cache.NewMemory(cache.MemoryConfig{Now: ck.Now})
	}
	signer, err := keys.Signer()
	if err != nil {
		t.Fatal(err)
	}
	m := issuance.NewMetrics(nil)
	svc, err := issuance.New(ctx, issuance.Config{Clock: ck.Now, Logger: slog.New(slog.DiscardHandler)},
		issuance.Deps{Registry: reg, Store: b.store, Cache: b.cache, Renderer: rnd, Signer: signer, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, reg: reg, store: b.store, cache: b.cache, clock: ck, keys: keys, m: m}
}

// renewalOf is the approved renewal of a's registration for the next
// term, under a case id of its own (its specialties copied, not shared).
func renewalOf(a intake.Approval) intake.Approval {
	r := a
	r.CaseID, r.BusinessType = a.CaseID+"-R", registration.Renewal
	r.Registration.ValidFrom = a.Registration.ValidUntil.AddDays(1)
	r.Registration.ValidUntil = a.Registration.ValidUntil.AddYears(3)
	r.Registration.Specialties = slices.Clone(a.Registration.Specialties)
	for i := range r.Registration.Specialties {
		r.Registration.Specialties[i].ValidUntil = r.Registration.ValidUntil
	}
	return r
}

// approvals returns n sample approvals whose registrations are valid around the test clock.
func approvals(n int, seed uint64) []intake.Approval {
	return sampledata.Generate(n, sampledata.Options{Seed: seed, Base: registration.NewDate(2025, 1, 1)})
}

func (e *env) intake(t testing.TB, as []intake.Approval) {
	t.Helper()
	for _, r := range e.reg.Intake(context.Background(), as) {
		if r.Err != nil {
			t.Fatalf("intake %s: %v", r.CaseID, r.Err)
		}
	}
}

func (e *env) read(t testing.TB, key, sha string) []byte {
	t.Helper()
	rc, _, err := e.svc.Open(context.Background(), key, sha)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func (e *env) verify(t testing.TB, data []byte) *verify.Report {
	t.Helper()
	root, err := e.keys.Root()
	if err != nil {
		t.Fatal(err)
	}
	return verify.File(data, verify.Options{Roots: []*smx509.Certificate{root}, Now: e.clock.Now})
}

func TestIssueIsVerifiableAndIdempotent(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	as := approvals(6, 1)
	e.intake(t, as)
	for _, a := range as {
		res, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatalf("issue %s: %v", a.CaseID, err)
		}
		if res.Outcome != issuance.Issued || res.Certificate.Version != 1 {
			t.Fatalf("issue %s: %+v", a.CaseID, res)
		}
		for _, f := range []struct{ key, sha, format string }{
			{res.Certificate.PDFKey, res.Certificate.PDFSHA256, verify.FormatPDF},
			{res.Certificate.OFDKey, res.Certificate.OFDSHA256, verify.FormatOFD},
		} {
			rep := e.verify(t, e.read(t, f.key, f.sha))
			if !rep.OK || rep.Format != f.format {
				t.Fatalf("%s does not verify: %+v", f.key, rep)
			}
			if rep.Metadata[signing.MetaCertificateNo] != res.Certificate.LicenceID {
				t.Fatalf("signed certificate number %q, want %q", rep.Metadata[signing.MetaCertificateNo], res.Certificate.LicenceID)
			}
		}
		if _, err := registration.ParseLicenceID(res.Certificate.LicenceID); err != nil {
			t.Fatalf("licence id %s: %v", res.Certificate.LicenceID, err)
		}
		again, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil || again.Outcome != issuance.AlreadyIssued || again.Certificate.LicenceID != res.Certificate.LicenceID {
			t.Fatalf("second issue of %s: %+v, %v", a.CaseID, again, err)
		}
	}
	c, _ := e.reg.Counts(ctx)
	if c["certificates"] != len(as) {
		t.Fatalf("certificates = %d, want %d", c["certificates"], len(as))
	}
}

func TestRenewalSupersedesAndCancellationInvalidates(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	a := approvals(1, 2)[0]
	a.BusinessType = registration.Change
	a.NoticeEnd = registration.Date{}
	e.intake(t, []intake.Approval{a})
	first, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	renew := renewalOf(a)
	e.intake(t, []intake.Approval{renew})
	second, err := e.svc.Issue(ctx, renew.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if second.Certificate.Version != 2 || second.Certificate.CertificateNo != first.Certificate.CertificateNo {
		t.Fatalf("renewal issued %+v", second.Certificate)
	}
	old, _ := e.reg.CertificateVersion(ctx, first.Certificate.CertificateNo, 1)
	if old.Status != registration.CertLapsed {
		t.Fatalf("old version status %s, want 05 (superseded)", old.Status)
	}
	// The superseded version cannot be re-stamped; the current one can.
	cur, _ := e.reg.CurrentCertificate(ctx, first.Certificate.CertificateNo)
	if cur.Version != 2 {
		t.Fatalf("current version %d", cur.Version)
	}
	if _, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: cur.CertificateNo, Format: "pdf"}); err != nil {
		t.Fatalf("restamp current: %v", err)
	}
	cancel := intake.Approval{CaseID: a.CaseID + "-C", BusinessType: registration.Cancellation, ApprovedOn: registration.NewDate(2026, 3, 9),
		Person: a.Person, Registration: intake.RegistrationRecord{Number: a.Registration.Number}}
	e.intake(t, []intake.Approval{cancel})
	res, err := e.svc.Issue(ctx, cancel.CaseID)
	if err != nil || res.Outcome != issuance.Invalidated {
		t.Fatalf("cancellation: %+v %v", res, err)
	}
	cur, _ = e.reg.CurrentCertificate(ctx, first.Certificate.CertificateNo)
	if cur.Status != registration.CertCancelled {
		t.Fatalf("after cancellation status %s", cur.Status)
	}
	_, err = e.svc.Restamp(ctx, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: cur.CertificateNo, Format: "pdf"})
	var ref *issuance.Refusal
	if !errors.As(err, &ref) || ref.Code != issuance.RefuseRegistrationCancelled {
		t.Fatalf("restamp after cancellation: %v", err)
	}
}

func TestRestampRefusals(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	as := approvals(3, 3)
	as[0].BusinessType, as[0].NoticeEnd = registration.Initial, registration.NewDate(2026, 3, 20)
	as[1].BusinessType, as[1].NoticeEnd = registration.Change, registration.Date{}
	as[1].Registration.ValidUntil = registration.NewDate(2026, 3, 15)
	for i := range as[1].Registration.Specialties {
		as[1].Registration.Specialties[i].ValidUntil = as[1].Registration.ValidUntil
	}
	e.intake(t, as)
	var certs []registry.Certificate
	for _, a := range as {
		r, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, r.Certificate)
	}
	press := func(i int, holder string) error {
		_, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: holder, CertificateNo: certs[i].CertificateNo, Format: "ofd"})
		return err
	}
	code := func(err error) string {
		var ref *issuance.Refusal
		if errors.As(err, &ref) {
			return ref.Code
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}
	if got := code(press(0, as[0].Person.IDNumber)); got != issuance.RefuseNoticeNotEnded {
		t.Fatalf("during public notice: %q", got)
	}
	if err := press(0, as[2].Person.IDNumber); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("someone else's certificate: %v, want ErrNotFound", err)
	}
	if err := press(0, ""); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("no holder: %v, want ErrNotFound", err)
	}
	if got := code(press(0, " "+strings.ToLower(as[0].Person.IDNumber)+" ")); got != issuance.RefuseNoticeNotEnded {
		t.Fatalf("holder's own ID in lower case with spaces: %q, want the notice refusal (found, not foreign)", got)
	}
	e.clock.Set(time.Date(2026, 3, 21, 0, 0, 1, 0, registration.ChinaTZ))
	if err := press(0, as[0].Person.IDNumber); err != nil {
		t.Fatalf("after the notice: %v", err)
	}
	if err := press(1, as[1].Person.IDNumber); code(err) != issuance.RefuseRegistrationExpired {
		t.Fatalf("expired registration: %v", err)
	}
	// A copy never outlives its registration.
	e.clock.Set(time.Date(2026, 3, 14, 12, 0, 0, 0, registration.ChinaTZ))
	c, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: as[1].Person.IDNumber, CertificateNo: certs[1].CertificateNo, Format: "pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 16, 0, 0, 0, 0, registration.ChinaTZ); !c.ValidUntil.Equal(want) {
		t.Fatalf("copy valid until %s, want %s", c.ValidUntil, want)
	}
}

// restampStorm presses 加注 n times at once and checks that exactly one copy
// results, then that later presses get a copy per purpose and day.
func restampStorm(t *testing.T, e *env, n int) {
	ctx := context.Background()
	a := approvals(1, 4)[0]
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	e.intake(t, []intake.Approval{a})
	res, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	certNo := res.Certificate.CertificateNo
	req := issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: certNo, Format: "pdf", Purpose: "投标"}
	var wg sync.WaitGroup
	ids := make([]string, n)
	var failures atomic.Int64
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := e.svc.Restamp(ctx, req)
			if err != nil {
				failures.Add(1)
				t.Errorf("press %d: %v", i, err)
				return
			}
			ids[i] = c.CopyID
		})
	}
	close(start)
	wg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two copies for one moment: %s and %s", ids[0], id)
		}
	}
	if n, _ := e.reg.CountCopies(ctx, certNo); n != 1 {
		t.Fatalf("%d copies recorded, want 1", n)
	}
	first, err := e.reg.UsageCopyByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	rep := e.verify(t, e.read(t, first.ObjectKey, first.SHA256))
	if !rep.OK || rep.UsageValidFrom != "2026-03-10" || rep.UsageValidUntil != "2026-09-06" {
		t.Fatalf("copy report: ok=%v from=%s until=%s %+v", rep.OK, rep.UsageValidFrom, rep.UsageValidUntil, rep.Checks)
	}
	after := func(name string, at time.Time, req issuance.RestampRequest) issuance.Copy {
		t.Helper()
		e.clock.Set(at)
		c, err := e.svc.Restamp(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	// Later the same day: the same copy, from the cache.
	if c := after("same day", time.Date(2026, 3, 10, 23, 59, 0, 0, registration.ChinaTZ), req); c.CopyID != first.CopyID || c.Source != "cache" {
		t.Fatalf("press later the same day: %s from %s, want %s from the cache", c.CopyID, c.Source, first.CopyID)
	}
	// The next day: a new copy with a fresh 180 days; the first keeps its own.
	next := after("next day", time.Date(2026, 3, 11, 0, 0, 1, 0, registration.ChinaTZ), req)
	if next.CopyID == first.CopyID || next.Source != "created" {
		t.Fatalf("press the next day: %s from %s, want a new copy", next.CopyID, next.Source)
	}
	rep = e.verify(t, e.read(t, next.ObjectKey, next.SHA256))
	if !rep.OK || rep.UsageValidFrom != "2026-03-11" || rep.UsageValidUntil != "2026-09-07" {
		t.Fatalf("next day's copy: ok=%v from=%s until=%s", rep.OK, rep.UsageValidFrom, rep.UsageValidUntil)
	}
	if again, err := e.reg.UsageCopyByID(ctx, first.CopyID); err != nil || !again.ValidUntil.Equal(first.ValidUntil) {
		t.Fatalf("first copy after the next day's press: %+v %v", again, err)
	}
	// Another purpose the same day: another copy, printed with that purpose.
	other := req
	other.Purpose = "资质申报"
	c := after("other purpose", time.Date(2026, 3, 11, 8, 0, 0, 0, registration.ChinaTZ), other)
	if c.CopyID == next.CopyID || c.Purpose != "资质申报" || c.Source != "created" {
		t.Fatalf("press for another purpose: %+v", c)
	}
	if c := after("first purpose again", time.Date(2026, 3, 11, 9, 0, 0, 0, registration.ChinaTZ), req); c.CopyID != next.CopyID {
		t.Fatalf("first purpose again: %s, want %s", c.CopyID, next.CopyID)
	}
	// 170 days in: a new copy with 180 days, not the old one's 10.
	late := after("170 days in", first.ValidUntil.Add(-10*24*time.Hour), req)
	if late.Source != "created" || !late.ValidUntil.Equal(late.ValidFrom.Add(180*24*time.Hour)) {
		t.Fatalf("press 170 days in: %+v", late)
	}
	if n, _ := e.reg.CountCopies(ctx, certNo); n != 4 {
		t.Fatalf("%d copies recorded, want 4 (two days, two purposes, 170 days in)", n)
	}
}

func TestRestampConcurrentPressesMakeOneCopy(t *testing.T) {
	restampStorm(t, newEnv(t, backends{}), 200)
}

var tmpRoot string

func TestMain(m *testing.M) {
	var err error
	tmpRoot, err = os.MkdirTemp("", "ecert-issuance-test-")
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

func TestAutomaticCancellationInvalidatesCertificates(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	a := approvals(1, 41)[0]
	a.BusinessType, a.NoticeEnd = registration.Renewal, registration.Date{}
	a.Registration.ValidUntil = registration.NewDate(2026, 3, 20)
	for i := range a.Registration.Specialties {
		a.Registration.Specialties[i].ValidUntil = a.Registration.ValidUntil
	}
	e.intake(t, []intake.Approval{a})
	res, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	today := registration.NewDate(2026, 3, 21)
	cands, err := e.reg.ActiveExpiredBefore(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	due := registration.DueForCancellation(cands, today, registration.DefaultExtensions())
	if len(due) != 1 || due[0].Number != a.Registration.Number {
		t.Fatalf("due for cancellation: %+v", due)
	}
	if _, err := e.reg.CancelRegistration(ctx, due[0].Number, due[0].Reason, due[0].CancelOn, "scheduler"); err != nil {
		t.Fatal(err)
	}
	c, _ := e.reg.CurrentCertificate(ctx, res.Certificate.CertificateNo)
	if c.Status != registration.CertCancelled {
		t.Fatalf("certificate status %s after automatic cancellation, want 04", c.Status)
	}
}
