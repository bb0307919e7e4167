package issuance_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
)

// TestDocumentStatusFollowsTheRegistry walks one certificate through its
// life: current, a copy of it, superseded by a renewal, cancelled, and a
// registration past its end; each time the status a verifier gets says so.
func TestDocumentStatusFollowsTheRegistry(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	policy := registration.DefaultPolicy()
	status := func(licence, copyID string) verify.Status {
		t.Helper()
		st, err := issuance.DocumentStatus(ctx, e.reg, policy, registration.Today(e.clock.Now()), licence, copyID)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := approvals(1, 52)[0]
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	e.intake(t, []intake.Approval{a})
	first, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	v1 := first.Certificate.LicenceID
	if st := status(v1, ""); st.Certificate != verify.StateCurrent || st.Registration != verify.RegistrationActive || st.Since != nil {
		t.Fatalf("fresh certificate: %+v", st)
	}
	cp, err := e.svc.Restamp(ctx, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: first.Certificate.CertificateNo, Format: "pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if st := status(v1, cp.CopyID); st.CopyKnown == nil || !*st.CopyKnown {
		t.Fatalf("recorded copy: %+v", st)
	}
	if st := status(v1, "C0000000000000000000"); st.CopyKnown == nil || *st.CopyKnown {
		t.Fatalf("made-up copy id: %+v", st)
	}
	if st := status("1.2.156.3005.2.11100000000013338W001.11210000MB0000000J.999.001.X", ""); st.Certificate != verify.StateUnknown {
		t.Fatalf("unknown licence: %+v", st)
	}

	renew := renewalOf(a)
	e.intake(t, []intake.Approval{renew})
	second, err := e.svc.Issue(ctx, renew.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	st := status(v1, "")
	if st.Certificate != verify.StateSuperseded || st.CurrentLicenceID != second.Certificate.LicenceID || st.Since == nil {
		t.Fatalf("superseded version: %+v", st)
	}

	cancel := intake.Approval{CaseID: a.CaseID + "-C", BusinessType: registration.Cancellation, ApprovedOn: registration.NewDate(2026, 3, 9),
		Person: a.Person, Registration: intake.RegistrationRecord{Number: a.Registration.Number}}
	e.intake(t, []intake.Approval{cancel})
	if _, err := e.svc.Issue(ctx, cancel.CaseID); err != nil {
		t.Fatal(err)
	}
	st = status(second.Certificate.LicenceID, "")
	if st.Certificate != verify.StateCancelled || st.Code != "04" || st.Since == nil || st.Detail == "" {
		t.Fatalf("cancelled certificate: %+v", st)
	}
}

// A registration whose validity ended shows as expired before the
// scheduler cancels it.
func TestDocumentStatusExpiredRegistration(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	a := approvals(1, 53)[0]
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	e.intake(t, []intake.Approval{a})
	res, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	later := a.Registration.ValidUntil.AddYears(1)
	st, err := issuance.DocumentStatus(ctx, e.reg, registration.DefaultPolicy(), later, res.Certificate.LicenceID, "")
	if err != nil || st.Certificate != verify.StateCurrent || st.Registration != verify.RegistrationExpired {
		t.Fatalf("a year after the registration ended: %+v, %v", st, err)
	}
}

// The verifier with the registry at hand: an issued file is valid while
// current and "not current" once superseded; without a registry the report
// says status was not checked and stays valid.
func TestVerifyWithStatus(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	a := approvals(1, 54)[0]
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	e.intake(t, []intake.Approval{a})
	first, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := e.keys.Root()
	opts := verify.Options{Roots: []*smx509.Certificate{root}, Now: e.clock.Now,
		Status: func(licence, copyID string) (verify.Status, error) {
			return issuance.DocumentStatus(ctx, e.reg, registration.DefaultPolicy(), registration.Today(e.clock.Now()), licence, copyID)
		}}
	pdf := e.read(t, first.Certificate.PDFKey, first.Certificate.PDFSHA256)
	if r := verify.File(pdf, opts); !r.OK || r.Status == nil || !r.Status.Checked || r.Status.Certificate != verify.StateCurrent {
		t.Fatalf("current certificate: %+v", r)
	}
	offline := opts
	offline.Status = nil
	if r := verify.File(pdf, offline); !r.OK || r.Status == nil || r.Status.Checked || r.Status.Reason != verify.NoRegistry {
		t.Fatalf("without a registry: ok %v status %+v", r.OK, r.Status)
	}
	renew := renewalOf(a)
	e.intake(t, []intake.Approval{renew})
	if _, err := e.svc.Issue(ctx, renew.CaseID); err != nil {
		t.Fatal(err)
	}
	r := verify.File(pdf, opts)
	c, _ := r.Check(verify.CheckStatus)
	if r.OK || r.Verdict != verify.VerdictNotCurrent || c.OK || !strings.Contains(c.Reason, "superseded") {
		t.Fatalf("superseded certificate: verdict %s, status check %+v", r.Verdict, c)
	}
	tampered := bytes.Clone(pdf)
	tampered[len(tampered)/2] ^= 1
	if r := verify.File(tampered, opts); r.Verdict != verify.VerdictInvalid || r.Status.Checked {
		t.Fatalf("tampered file: verdict %s, status %+v", r.Verdict, r.Status)
	}
}
