package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/sampledata"
)

// A database of schema version 00003 migrates to 00004: every certificate
// version and usage copy gets its own status entry, with the status its
// certificate has (a revoked one INVALID, its copy too).
func TestMigrationToStatusListsBackfillsReferences(t *testing.T) {
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
			migrateTo(t, r, 3)
			recs := sampledata.Generate(backfillBatch+2, sampledata.Options{Seed: 74})
			for _, res := range r.Intake(ctx, recs) {
				if res.Err != nil {
					t.Fatal(res.Err)
				}
			}
			for i, a := range recs {
				insertV2Certificate(t, r, fmt.Sprintf("C%04d", i), fmt.Sprintf("L-%d", i), a.Registration.Number, a.CaseID)
			}
			if _, err := r.db.ExecContext(ctx, r.q(`UPDATE certificates SET status = '07' WHERE certificate_no = ?`), "C0001"); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			if _, err := r.db.ExecContext(ctx, r.q(`INSERT INTO usage_copies (copy_id, certificate_no, version, format, valid_from, valid_until,
				purpose, day, created_by, object_key, digest, created_at) VALUES ('K1', 'C0001', 1, 'pdf', ?, ?, '', '2026-01-01', 'h', 'k', '00', ?)`),
				now, now.Add(time.Hour), now); err != nil {
				t.Fatal(err)
			}
			r.Close()

			r, err = Open(ctx, d, Options{}) // migrates and backfills
			if err != nil {
				t.Fatalf("open the old database: %v", err)
			}
			defer r.Close()
			seen := map[StatusRef]bool{}
			for i := range recs {
				c, err := r.CertificateByLicenceID(ctx, fmt.Sprintf("L-%d", i))
				if err != nil || c.StatusRef.IsZero() || seen[c.StatusRef] {
					t.Fatalf("certificate %d after migration: ref %s (%v)", i, c.StatusRef, err)
				}
				seen[c.StatusRef] = true
				want := EntryValid
				if i == 1 {
					want = EntryInvalid
				}
				if s, err := r.StatusOf(ctx, c.StatusRef); err != nil || s != want {
					t.Errorf("certificate %d: entry %d, want %d (%v)", i, s, want, err)
				}
			}
			u, err := r.UsageCopyByID(ctx, "K1")
			if err != nil || u.StatusRef.IsZero() || seen[u.StatusRef] {
				t.Fatalf("copy after migration: ref %s (%v)", u.StatusRef, err)
			}
			if s, err := r.StatusOf(ctx, u.StatusRef); err != nil || s != EntryInvalid {
				t.Errorf("copy of the revoked certificate: entry %d, want %d (%v)", s, EntryInvalid, err)
			}
		})
	}
}
