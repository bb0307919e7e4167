package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func TestCertificateByLicenceIDAndCode(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(3, sampledata.Options{Seed: 71})
		for _, res := range r.Intake(ctx, recs) {
			if res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		codes := []string{"K7QM9XR2HT", "WD4P8NZ3EF", ""} // the third is recorded without a code
		for i, a := range recs {
			if err := r.RecordCertificate(ctx, registry.Certificate{
				CertificateNo: fmt.Sprintf("C%d", i), Version: 1, LicenceID: fmt.Sprintf("L-%d", i),
				RegistrationNo: a.Registration.Number, CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00",
				PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(), VerifyCode: codes[i],
			}); err != nil {
				t.Fatal(err)
			}
		}
		if c, err := r.CertificateByLicenceID(ctx, "L-0"); err != nil || c.VerifyCode != codes[0] {
			t.Fatalf("CertificateByLicenceID: code %q %v, want %q", c.VerifyCode, err, codes[0])
		}
		if c, err := r.CertificateByLicenceID(ctx, "L-2"); err != nil || c.VerifyCode != "" {
			t.Fatalf("a row without a code reads back code %q %v", c.VerifyCode, err)
		}
		tests := []struct {
			name, licence, code string
			found               bool
		}{
			{"right code", "L-0", "K7QM9XR2HT", true},
			{"right code, second", "L-1", "WD4P8NZ3EF", true},
			{"wrong code", "L-0", "K7QM9XR2HU", false},
			{"empty code", "L-0", "", false},
			{"other certificate's code", "L-0", "WD4P8NZ3EF", false},
			{"not canonical (lower case)", "L-0", "k7qm9xr2ht", false},
			{"code with a space", "L-0", "K7QM9 XR2HT", false},
			{"unknown licence id", "L-9", "K7QM9XR2HT", false},
			{"unknown licence id, empty code", "L-9", "", false},
			{"row without a code, empty code", "L-2", "", false},
			{"row without a code, placeholder", "L-2", "0000000001", false},
			{"unknown id, placeholder", "L-9", "0000000001", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c, err := r.CertificateByLicenceIDAndCode(ctx, tt.licence, tt.code)
				if tt.found {
					if err != nil || c.LicenceID != tt.licence || c.VerifyCode != tt.code || c.IDNumber == "" {
						t.Fatalf("got %+v %v, want the certificate %s", c, err, tt.licence)
					}
					return
				}
				if !errors.Is(err, registry.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				if c != (registry.Certificate{}) {
					t.Fatalf("a refused lookup returned data: %+v", c)
				}
			})
		}
	})
}

// Every row without a code gets one when the registry migrates (at Open):
// rows issued before migration 00003 and rows an older binary records later.
func TestMigrateBackfillsMissingVerifyCodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(2, sampledata.Options{Seed: 72})
		for _, res := range r.Intake(ctx, recs) {
			if res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		for i, a := range recs {
			if err := r.RecordCertificate(ctx, registry.Certificate{
				CertificateNo: fmt.Sprintf("C%d", i), Version: 1, LicenceID: fmt.Sprintf("L-%d", i),
				RegistrationNo: a.Registration.Number, CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00",
				PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(), VerifyCode: []string{"", "K7QM9XR2HT"}[i],
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		c0, err := r.CertificateByLicenceID(ctx, "L-0")
		if err != nil || !registration.ValidVerifyCode(c0.VerifyCode) {
			t.Fatalf("row without a code after Migrate: code %q %v", c0.VerifyCode, err)
		}
		if _, err := r.CertificateByLicenceIDAndCode(ctx, "L-0", c0.VerifyCode); err != nil {
			t.Errorf("lookup with the backfilled code: %v", err)
		}
		if c1, err := r.CertificateByLicenceID(ctx, "L-1"); err != nil || c1.VerifyCode != "K7QM9XR2HT" {
			t.Errorf("a row's own code changed by the backfill: %q %v", c1.VerifyCode, err)
		}
	})
}
