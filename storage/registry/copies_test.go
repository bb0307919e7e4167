package registry_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// sharedDatabases returns, per engine, a DSN of a fresh database that several
// Registry values (each with its own connections) can open at once.
func sharedDatabases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "ecert.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresSchema(t) },
	}
}

// certificateFor records a certificate C0001 v1 to make copies of.
func certificateFor(t *testing.T, r *registry.Registry) {
	t.Helper()
	ctx := context.Background()
	recs := sampledata.Generate(1, sampledata.Options{Seed: 41})
	for _, res := range r.Intake(ctx, recs) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if err := r.RecordCertificate(ctx, registry.Certificate{
		CertificateNo: "C0001", Version: 1, LicenceID: "L-1", RegistrationNo: recs[0].Registration.Number,
		CaseID: recs[0].CaseID, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}
}

func usageCopy(id, purpose string, day registration.Date, from time.Time) registry.UsageCopy {
	return registry.UsageCopy{CopyID: id, CertificateNo: "C0001", Version: 1, Format: "pdf", Purpose: purpose, Day: day,
		ValidFrom: from, ValidUntil: from.Add(180 * 24 * time.Hour), CreatedBy: "holder", ObjectKey: "copies/" + id, SHA256: "00"}
}

// Many connections, each its own Registry as separate processes would have,
// record a copy for the same request at the same instant, round after round:
// exactly one is recorded and every caller is given that one.
func TestRecordCopyOnceAcrossConnections(t *testing.T) {
	const conns, rounds = 16, 50
	for name, open := range sharedDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := open(t)
			regs := make([]*registry.Registry, conns)
			for i := range regs {
				r, err := registry.Open(ctx, dsn, registry.Options{SkipMigrate: i > 0})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				regs[i] = r
			}
			certificateFor(t, regs[0])
			day := registration.NewDate(2026, 3, 10)
			for round := range rounds {
				purpose := fmt.Sprintf("投标 %d", round)
				got := make([]registry.UsageCopy, conns)
				recorded := make([]bool, conns)
				errs := make([]error, conns)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, r := range regs {
					wg.Go(func() {
						u := usageCopy(fmt.Sprintf("C%02d%02d", round, i), purpose, day, time.Now())
						<-start
						got[i], recorded[i], errs[i] = r.RecordCopyOnce(ctx, u)
					})
				}
				close(start)
				wg.Wait()
				winners := 0
				for i := range regs {
					if errs[i] != nil {
						t.Fatalf("round %d, connection %d: %v", round, i, errs[i])
					}
					if recorded[i] {
						winners++
					}
					if got[i].CopyID != got[0].CopyID {
						t.Fatalf("round %d: connection %d was given %s, connection 0 %s", round, i, got[i].CopyID, got[0].CopyID)
					}
				}
				var n int
				if err := regs[0].DB().QueryRow(`SELECT COUNT(*) FROM usage_copies WHERE purpose = '` + purpose + `'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if winners != 1 || n != 1 {
					t.Fatalf("round %d: %d callers recorded, %d rows; want 1 and 1", round, winners, n)
				}
			}
		})
	}
}

// One copy per certificate version, format, purpose and day: the same request
// is given the recorded copy; another purpose, format or day is a new one.
func TestRecordCopyOncePerPurposeFormatAndDay(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		certificateFor(t, r)
		day := registration.NewDate(2026, 3, 10)
		at := day.Time(registration.ChinaTZ).Add(9 * time.Hour)
		first := usageCopy("C1", "投标", day, at)
		other := func(id string, f func(*registry.UsageCopy)) registry.UsageCopy {
			u := usageCopy(id, "投标", day, at.Add(time.Hour))
			f(&u)
			return u
		}
		cases := []struct {
			name     string
			u        registry.UsageCopy
			recorded bool
			want     string
		}{
			{"first press", first, true, "C1"},
			{"same request later that day", other("C2", func(*registry.UsageCopy) {}), false, "C1"},
			{"another purpose", other("C3", func(u *registry.UsageCopy) { u.Purpose = "资质申报" }), true, "C3"},
			{"no purpose", other("C4", func(u *registry.UsageCopy) { u.Purpose = "" }), true, "C4"},
			{"another format", other("C5", func(u *registry.UsageCopy) { u.Format = "ofd" }), true, "C5"},
			{"the next day", other("C6", func(u *registry.UsageCopy) { u.Day = day.AddDays(1) }), true, "C6"},
		}
		for _, c := range cases {
			got, recorded, err := r.RecordCopyOnce(ctx, c.u)
			if err != nil || recorded != c.recorded || got.CopyID != c.want {
				t.Fatalf("%s: %s recorded=%v %v; want %s recorded=%v", c.name, got.CopyID, recorded, err, c.want, c.recorded)
			}
			found, err := r.CopyFor(ctx, c.u.CertificateNo, c.u.Version, c.u.Format, c.u.Purpose, c.u.Day)
			if err != nil || found.CopyID != c.want || found.Day != c.u.Day {
				t.Fatalf("%s: CopyFor gives %+v, %v", c.name, found, err)
			}
		}
		if _, _, err := r.RecordCopyOnce(ctx, other("C7", func(u *registry.UsageCopy) { u.Day = registration.Date{} })); err == nil {
			t.Fatal("a copy without a day was recorded")
		}
		if _, err := r.CopyFor(ctx, "C0001", 1, "pdf", "投标", day.AddDays(2)); err == nil {
			t.Fatal("CopyFor found a copy for a day without one")
		}
		if n, _ := r.CountCopies(ctx, "C0001"); n != 5 {
			t.Fatalf("%d copies, want 5", n)
		}
	})
}
