package registry

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
)

// A database made under the one-valid-copy rule may hold two copies that
// racing presses made for the same request. Migration 00002 must still
// apply, keep every copy readable, and leave one of them as that day's copy.
func TestMigrationToOneCopyPerDayKeepsOldDuplicates(t *testing.T) {
	dsns := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "old.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresSchema(t) },
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r, err := Open(ctx, dsn(t), Options{SkipMigrate: true})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			migrateTo(t, r, 1)
			recs := sampledata.Generate(1, sampledata.Options{Seed: 43})
			for _, res := range r.Intake(ctx, recs) {
				if res.Err != nil {
					t.Fatal(res.Err)
				}
			}
			insertV2Certificate(t, r, "C0001", "L-1", recs[0].Registration.Number, recs[0].CaseID)
			// 2026-03-10 23:30 in China is 15:30 UTC; 2026-03-11 00:30 is 16:30 UTC the 10th.
			old := []struct {
				id, purpose string
				from        time.Time
			}{
				{"A", "投标", time.Date(2026, 3, 10, 15, 30, 0, 0, time.UTC)},
				{"B", "投标", time.Date(2026, 3, 10, 15, 30, 0, 5e6, time.UTC)}, // the race's second copy: later, so given to later presses
				{"C", "投标", time.Date(2026, 3, 10, 16, 30, 0, 0, time.UTC)},   // the next China day
				{"D", "", time.Date(2026, 3, 10, 15, 31, 0, 0, time.UTC)},
			}
			for _, c := range old {
				if _, err := r.db.ExecContext(ctx, r.q(`INSERT INTO usage_copies (copy_id, certificate_no, version, format,
					valid_from, valid_until, purpose, created_by, object_key, digest, created_at) VALUES (?, 'C0001', 1, 'pdf', ?, ?, ?, 'holder', ?, '00', ?)`),
					c.id, c.from, c.from.Add(180*24*time.Hour), c.purpose, "copies/"+c.id, c.from); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Migrate(ctx); err != nil {
				t.Fatalf("migrate a database with duplicate copies: %v", err)
			}
			day := registration.NewDate(2026, 3, 10)
			for _, want := range []struct {
				id, purpose string
				day         registration.Date
			}{{"B", "投标", day}, {"C", "投标", day.AddDays(1)}, {"D", "", day}} {
				got, err := r.CopyFor(ctx, "C0001", 1, "pdf", want.purpose, want.day)
				if err != nil || got.CopyID != want.id {
					t.Errorf("copy for %q on %s: %s %v, want %s", want.purpose, want.day, got.CopyID, err, want.id)
				}
			}
			if a, err := r.UsageCopyByID(ctx, "A"); err != nil || !a.Day.IsZero() || !a.ValidFrom.Equal(old[0].from) {
				t.Errorf("the surplus copy: %+v %v; want it readable, without a day", a, err)
			}
			got, recorded, err := r.RecordCopyOnce(ctx, UsageCopy{CopyID: "E", CertificateNo: "C0001", Version: 1, Format: "pdf",
				Purpose: "投标", Day: day, ValidFrom: old[1].from.Add(time.Minute), ValidUntil: old[1].from.Add(time.Hour),
				CreatedBy: "holder", ObjectKey: "copies/E", SHA256: "00"})
			if err != nil || recorded || got.CopyID != "B" {
				t.Fatalf("a new press for the migrated day: %s recorded=%v %v; want B", got.CopyID, recorded, err)
			}
		})
	}
}

// migrateTo applies the migrations up to version v.
func migrateTo(t *testing.T, r *Registry, v int64) {
	t.Helper()
	sub, err := fs.Sub(migrations, "migrations/"+string(r.dialect))
	if err != nil {
		t.Fatal(err)
	}
	gd := goose.DialectSQLite3
	if r.dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, r.db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), v); err != nil {
		t.Fatal(err)
	}
}
