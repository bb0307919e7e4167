package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func TestRevokeCertificate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		a := sampledata.Generate(1, sampledata.Options{Seed: 71, Base: registration.Today(time.Now()).AddDays(-30)})[0]
		if res := r.Intake(ctx, []intake.Approval{a})[0]; res.Err != nil {
			t.Fatal(res.Err)
		}
		c := registry.Certificate{CertificateNo: "71001", Version: 1, LicenceID: "L71001", RegistrationNo: a.Registration.Number,
			CaseID: a.CaseID, Status: registration.CertValid, OFDKey: "k.ofd", OFDSHA256: "a", PDFKey: "k.pdf", PDFSHA256: "b",
			SignerSerial: "01", IssuedAt: time.Now().UTC()}
		if err := r.RecordCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := r.RevokeCertificate(ctx, "71001", "以欺骗手段取得注册", "reviewer-1")
		if err != nil || got.Status != registration.CertRevoked || got.StatusReason != "以欺骗手段取得注册" || got.StatusChangedAt.IsZero() {
			t.Fatalf("revoke: %+v, %v", got, err)
		}
		if _, err := r.RevokeCertificate(ctx, "71001", "again", "reviewer-1"); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("second revoke: %v", err)
		}
		if _, err := r.RevokeCertificate(ctx, "99999", "x", "reviewer-1"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("unknown certificate: %v", err)
		}
		log, err := r.AuditLog(ctx, "71001")
		if err != nil || len(log) == 0 || log[len(log)-1].Action != "certificate.revoke" || log[len(log)-1].Actor != "reviewer-1" {
			t.Fatalf("audit log: %+v, %v", log, err)
		}
	})
}
