package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func recordC1(ctx context.Context, r *registry.Registry, caseID, regNo string, from registration.Date) error {
	return r.RecordCertificate(ctx, registry.Certificate{
		CertificateNo: "C1", Version: 1, LicenceID: "L-1", RegistrationNo: regNo, CaseID: caseID,
		DownloadableFrom: from, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(),
	})
}

// A date that an earlier version let into the database (10000-01-01 from
// notice_end 9999-12-31 + 1 day) must not make its row unreadable, and a
// value that is no date at all is an error naming the column, never a panic.
func TestStoredDatesOutOfRangeStillRead(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		a := sampledata.Generate(1, sampledata.Options{Seed: 31})[0]
		if res := r.Intake(ctx, []intake.Approval{a}); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		if err := recordC1(ctx, r, a.CaseID, a.Registration.Number, a.ApprovedOn.AddDays(10)); err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if r.Dialect() == registry.Postgres {
				q = strings.NewReplacer("?1", "$1", "?2", "$2").Replace(q)
			}
			if _, err := r.DB().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE certificates SET downloadable_from = ?1 WHERE certificate_no = ?2`, "10000-01-01", "C1")
		exec(`UPDATE registrations SET valid_until = ?1 WHERE number = ?2`, "10000-01-01", a.Registration.Number)
		c, err := r.CurrentCertificate(ctx, "C1")
		if err != nil {
			t.Fatalf("certificate with a 5-digit year unreadable: %v", err)
		}
		if c.DownloadableFrom != (registration.Date{Year: 10000, Month: 1, Day: 1}) {
			t.Errorf("downloadable_from read as %v", c.DownloadableFrom)
		}
		reg, err := r.Registration(ctx, a.Registration.Number)
		if err != nil || reg.ValidUntil.Year != 10000 {
			t.Fatalf("registration with a 5-digit year: %+v, %v", reg.ValidUntil, err)
		}

		exec(`UPDATE certificates SET downloadable_from = ?1 WHERE certificate_no = ?2`, "soon", "C1")
		_, err = r.CurrentCertificate(ctx, "C1")
		if err == nil || !strings.Contains(err.Error(), "downloadable_from") || !strings.Contains(err.Error(), "soon") {
			t.Fatalf("a stored non-date: %v, want an error naming the column and the value", err)
		}
	})
}

// Nothing that could not be read back is ever written: years outside
// 1900..9998 are refused on the way in, whoever calls.
func TestRegistryRefusesToWriteUnreadableDates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(2, sampledata.Options{Seed: 32})
		bad := recs[0]
		bad.Registration.ValidUntil = registration.Date{Year: 10000, Month: 1, Day: 1}
		if res := r.Intake(ctx, []intake.Approval{bad}); res[0].Err == nil || res[0].Outcome != registry.Failed {
			t.Fatalf("intake of valid_until 10000-01-01: %+v", res[0])
		}
		if _, err := r.CaseApproval(ctx, bad.CaseID); err == nil {
			t.Fatal("the refused case was recorded")
		}
		good := recs[1]
		if res := r.Intake(ctx, []intake.Approval{good}); res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		for _, d := range []registration.Date{{Year: 10000, Month: 1, Day: 1}, {Year: 9999, Month: 12, Day: 31}, {Year: 1899, Month: 12, Day: 31}, {Year: 0, Month: 1, Day: 1}} {
			if err := recordC1(ctx, r, good.CaseID, good.Registration.Number, d); err == nil {
				t.Fatalf("recorded a certificate downloadable from %v", d)
			}
		}
		if _, err := r.CurrentCertificate(ctx, "C1"); err == nil {
			t.Fatal("a refused certificate row exists")
		}
	})
}

func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	t.Run("new", func(t *testing.T) { sqliteOwnerOnly(t, false) })
	t.Run("made 0644 by an earlier version", func(t *testing.T) { sqliteOwnerOnly(t, true) })
}

func sqliteOwnerOnly(t *testing.T, loose bool) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "ecert.db")
	if loose {
		r, err := registry.Open(ctx, "sqlite:"+path, registry.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			os.Chmod(p, 0o644)
		}
	}
	r, err := registry.Open(ctx, "sqlite:"+path, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if res := r.Intake(ctx, sampledata.Generate(1, sampledata.Options{Seed: 33})); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), m)
		}
	}
}
