package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
)

// insertV2Certificate records a certificate as a binary of schema version
// 00002 did: without a verification code.
func insertV2Certificate(t *testing.T, r *Registry, certNo, licence, regNo, caseID string) {
	t.Helper()
	if _, err := r.db.ExecContext(context.Background(), r.q(`INSERT INTO certificates (certificate_no, version, licence_id,
		registration_number, case_id, status, ofd_key, ofd_digest, pdf_key, pdf_digest, signer_serial, issued_at)
		VALUES (?, 1, ?, ?, ?, '01', 'o', '00', 'p', '00', '1', ?)`), certNo, licence, regNo, caseID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
}

// A database of schema version 00002 with certificates migrates to 00003:
// every certificate stays readable and gets its own verification code,
// which then opens the public lookup.
func TestMigrationToVerifyCodesKeepsOldCertificates(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "old.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresSchema(t) },
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d := dsn(t)
			r, err := Open(ctx, d, Options{SkipMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			migrateTo(t, r, 2)
			all := sampledata.Generate(backfillBatch+4, sampledata.Options{Seed: 73})
			recs, late := all[:backfillBatch+3], all[backfillBatch+3:] // more than one backfill batch
			for _, res := range r.Intake(ctx, recs) {
				if res.Err != nil {
					t.Fatal(res.Err)
				}
			}
			for i, a := range recs {
				insertV2Certificate(t, r, fmt.Sprintf("C%04d", i), fmt.Sprintf("L-%d", i), a.Registration.Number, a.CaseID)
			}
			r.Close()

			r, err = Open(ctx, d, Options{}) // migrates
			if err != nil {
				t.Fatalf("open the old database: %v", err)
			}
			defer r.Close()
			seen := map[string]bool{}
			for i, a := range recs {
				c, err := r.CertificateByLicenceID(ctx, fmt.Sprintf("L-%d", i))
				if err != nil || c.CaseID != a.CaseID || c.Status != registration.CertValid {
					t.Fatalf("old certificate %d after migration: %+v %v", i, c, err)
				}
				if !registration.ValidVerifyCode(c.VerifyCode) || seen[c.VerifyCode] {
					t.Fatalf("old certificate %d: code %q not a fresh valid code", i, c.VerifyCode)
				}
				seen[c.VerifyCode] = true
			}
			c, _ := r.CertificateByLicenceID(ctx, "L-0")
			if got, err := r.CertificateByLicenceIDAndCode(ctx, "L-0", c.VerifyCode); err != nil || got.CaseID != recs[0].CaseID {
				t.Errorf("lookup with the backfilled code: %+v %v", got, err)
			}

			// A row an older binary records after the migration has no code:
			// it cannot be looked up publicly until the next migration.
			if res := r.Intake(ctx, late); res[0].Err != nil {
				t.Fatal(res[0].Err)
			}
			insertV2Certificate(t, r, "D0001", "L-late", late[0].Registration.Number, late[0].CaseID)
			lc, err := r.CertificateByLicenceID(ctx, "L-late")
			if err != nil || lc.VerifyCode != "" {
				t.Fatalf("late row: %+v %v", lc, err)
			}
			if _, err := r.CertificateByLicenceIDAndCode(ctx, "L-late", ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("a row without a code looked up with no code: %v, want ErrNotFound", err)
			}
			if err := r.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if lc, err = r.CertificateByLicenceID(ctx, "L-late"); err != nil || !registration.ValidVerifyCode(lc.VerifyCode) {
				t.Errorf("late row after the next migration: code %q %v", lc.VerifyCode, err)
			}
		})
	}
}
