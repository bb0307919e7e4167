package issuance_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// A press answered with the day's existing copy may use the rows an earlier
// press read (no registry query). These tests try to make it answer for a
// certificate that is no longer in force.
func TestRestampSnapshotNeverOutlivesAChange(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "ecert.db")
			if engine == "postgres" {
				dsn = testenv.PostgresSchema(t)
			}
			testRestampSnapshot(t, dsn)
		})
	}
}

func testRestampSnapshot(t *testing.T, dsn string) {
	ctx := context.Background()
	e := newEnv(t, backends{dsn: dsn})
	as := approvals(3, 11)
	e.intake(t, as)
	certs := make([]registry.Certificate, len(as))
	for i, a := range as {
		r, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		certs[i] = r.Certificate
	}
	e.clock.Set(time.Date(2026, 6, 1, 10, 0, 0, 0, registration.ChinaTZ)) // past every public notice
	press := func(i int, purpose string) (issuance.Copy, error) {
		return e.svc.Restamp(ctx, issuance.RestampRequest{Holder: as[i].Person.IDNumber,
			CertificateNo: certs[i].CertificateNo, Format: "pdf", Purpose: purpose})
	}
	refusedInvalid := func(err error) bool {
		var ref *issuance.Refusal
		return errors.As(err, &ref) && ref.Code == issuance.RefuseCertificateInvalid
	}
	for i := range certs {
		if _, err := press(i, "投标"); err != nil {
			t.Fatalf("first press of %d: %v", i, err)
		}
		if c, err := press(i, "投标"); err != nil || c.Source != "cache" {
			t.Fatalf("second press of %d: %+v, %v; want the cached copy", i, c, err)
		}
	}

	// Another process revokes (its own registry on the same database).
	other, err := registry.Open(ctx, dsn, registry.Options{Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.RevokeCertificate(ctx, certs[1].CertificateNo, "test", "t"); err != nil {
		t.Fatal(err)
	}
	// A press that needs a new copy reads the rows again before signing.
	if _, err := press(1, "年检"); !refusedInvalid(err) {
		t.Fatalf("new purpose after a revocation elsewhere: %v, want certificate_invalid", err)
	}
	if _, err := other.RevokeCertificate(ctx, certs[2].CertificateNo, "test", "t"); err != nil {
		t.Fatal(err)
	}
	// The day's existing copy may still be named until the snapshot ends (the
	// documented bound, issuance.Config.InForceTTL), never after.
	if c, err := press(2, "投标"); err != nil || c.Source != "cache" {
		t.Fatalf("same press at once after a revocation elsewhere: %+v, %v; want the day's copy from the snapshot", c, err)
	}
	e.clock.Set(e.clock.Now().Add(2*time.Second + time.Millisecond))
	if _, err := press(2, "投标"); !refusedInvalid(err) {
		t.Fatalf("same press 2 s after a revocation elsewhere: %v, want certificate_invalid", err)
	}

	// This process revokes: the next press is refused at once.
	if c, err := press(0, "投标"); err != nil || c.Source != "cache" {
		t.Fatalf("press before the revocation: %+v, %v", c, err)
	}
	if _, err := e.reg.RevokeCertificate(ctx, certs[0].CertificateNo, "test", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := press(0, "投标"); !refusedInvalid(err) {
		t.Fatalf("press after a revocation in this process: %v, want certificate_invalid", err)
	}
}
