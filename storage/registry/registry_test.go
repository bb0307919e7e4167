package registry_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// engines opens a fresh registry on every engine: SQLite in a temp file, and
// PostgreSQL in a schema of its own on the test server.
func engines(t *testing.T) map[string]func(t *testing.T) *registry.Registry {
	return map[string]func(t *testing.T) *registry.Registry{
		"sqlite": func(t *testing.T) *registry.Registry {
			r, err := registry.Open(context.Background(), filepath.Join(t.TempDir(), "ecert.db"), registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
		"postgres": func(t *testing.T) *registry.Registry {
			r, err := registry.Open(context.Background(), testenv.PostgresSchema(t), registry.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
	}
}

func forEachEngine(t *testing.T, f func(t *testing.T, r *registry.Registry)) {
	for name, open := range engines(t) {
		t.Run(name, func(t *testing.T) { f(t, open(t)) })
	}
}

func TestIntakeIsIdempotentByCaseID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(300, sampledata.Options{Seed: 11})
		res := r.Intake(ctx, recs)
		for _, x := range res {
			if x.Outcome != registry.Inserted {
				t.Fatalf("first intake of %s: outcome %v err %v", x.CaseID, x.Outcome, x.Err)
			}
		}
		before, err := r.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if before["cases"] != 300 || before["registrations"] != 300 || before["persons"] == 0 {
			t.Fatalf("counts after intake: %v", before)
		}
		res = r.Intake(ctx, recs)
		for _, x := range res {
			if x.Outcome != registry.Duplicate {
				t.Fatalf("second intake of %s: outcome %v, want Duplicate", x.CaseID, x.Outcome)
			}
		}
		after, _ := r.Counts(ctx)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s: %d rows before the re-run, %d after", k, v, after[k])
			}
		}
		got, err := r.CaseApproval(ctx, recs[0].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Person.Name != recs[0].Person.Name || got.Registration.Number != recs[0].Registration.Number {
			t.Fatalf("stored approval differs: %+v", got.Person)
		}
	})
}

func TestIntakeRoundTripsRareCharactersAndDates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		a := sampledata.Generate(1, sampledata.Options{Seed: 5})[0]
		a.Person.Name = "王𠮷䶮"
		a.Registration.Employer.Name = "中国建筑第八工程局有限公司（辽宁）第三项目经理部·堃喆"
		if res := r.Intake(ctx, []intake.Approval{a}); res[0].Outcome != registry.Inserted {
			t.Fatal(res[0].Err)
		}
		p, err := r.Person(ctx, a.Person.IDNumber)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "王𠮷䶮" {
			t.Fatalf("name %q", p.Name)
		}
		reg, err := r.Registration(ctx, a.Registration.Number)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Employer.Name != a.Registration.Employer.Name || reg.ValidUntil != a.Registration.ValidUntil ||
			reg.ValidFrom != a.Registration.ValidFrom || len(reg.Specialties) != len(a.Registration.Specialties) ||
			reg.Status != registration.RegistrationActive {
			t.Fatalf("registration differs: %+v", reg)
		}
		qs, err := r.Qualifications(ctx, a.Person.IDNumber)
		if err != nil || len(qs) != 1 || qs[0].ApprovalDate != a.Qualification.ApprovalDate || qs[0].IssueDate != a.Qualification.IssueDate {
			t.Fatalf("qualifications %+v, %v", qs, err)
		}
		log, err := r.AuditLog(ctx, a.CaseID)
		if err != nil || len(log) != 1 || log[0].Action != "case.approved" {
			t.Fatalf("audit log %+v, %v", log, err)
		}
	})
}

func TestIntakeOneBadRecordDoesNotLoseOthers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(20, sampledata.Options{Seed: 9})
		// Record 7 claims record 3's registration number under another person.
		recs[7].Registration.Number = recs[3].Registration.Number
		res := r.Intake(ctx, recs)
		for i, x := range res {
			want := registry.Inserted
			if i == 7 {
				want = registry.Failed
			}
			if x.Outcome != want {
				t.Fatalf("record %d: outcome %v (%v), want %v", i, x.Outcome, x.Err, want)
			}
		}
		if !strings.Contains(res[7].Err.Error(), "another person") {
			t.Fatalf("error %v", res[7].Err)
		}
		c, _ := r.Counts(ctx)
		if c["cases"] != 19 {
			t.Fatalf("cases = %d, want 19", c["cases"])
		}
	})
}

func TestCancellationAndExpiredQuery(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(3, sampledata.Options{Seed: 4})
		until := []string{"2024-12-29", "2024-12-30", "2024-12-31"}
		for i := range recs {
			recs[i].Registration.ValidFrom = registration.MustDate("2022-01-01")
			recs[i].Registration.ValidUntil = registration.MustDate(until[i])
			for j := range recs[i].Registration.Specialties {
				recs[i].Registration.Specialties[j].ValidUntil = recs[i].Registration.ValidUntil
			}
		}
		r.Intake(ctx, recs)
		exp, err := r.ActiveExpiredBefore(ctx, registration.MustDate("2024-12-31"))
		if err != nil {
			t.Fatal(err)
		}
		if len(exp) != 2 || exp[0].ValidUntil.String() == "2024-12-31" || exp[1].ValidUntil.String() == "2024-12-31" {
			names := []string{}
			for _, e := range exp {
				names = append(names, e.ValidUntil.String())
			}
			t.Fatalf("expired before 2024-12-31: %v", names)
		}
		cancel := intake.Approval{
			CaseID: "LN-CANCEL-1", BusinessType: registration.Cancellation, ApprovedOn: registration.MustDate("2024-06-01"),
			Person: recs[2].Person, Registration: intake.RegistrationRecord{Number: recs[2].Registration.Number},
		}
		if err := cancel.Validate(); err != nil {
			t.Fatal(err)
		}
		if res := r.Intake(ctx, []intake.Approval{cancel}); res[0].Outcome != registry.Inserted {
			t.Fatalf("cancellation: %v", res[0].Err)
		}
		reg, _ := r.Registration(ctx, recs[2].Registration.Number)
		if reg.Status != registration.RegistrationCancelled || reg.CancelledOn != registration.MustDate("2024-06-01") {
			t.Fatalf("after cancellation: %+v", reg)
		}
		changed, err := r.CancelRegistration(ctx, exp[0].Number, "注册有效期届满未延续，自动注销", registration.MustDate("2024-12-31"), "scheduler")
		if err != nil || !changed {
			t.Fatalf("cancel: %v %v", changed, err)
		}
		changed, _ = r.CancelRegistration(ctx, exp[0].Number, "again", registration.MustDate("2025-01-01"), "scheduler")
		if changed {
			t.Fatal("cancelled twice")
		}
	})
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		if err := r.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.Ready(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkIntakeSQLite(b *testing.B) {
	r, err := registry.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	recs := sampledata.Generate(b.N, sampledata.Options{Seed: 1})
	b.ResetTimer()
	for i := 0; i < len(recs); i += 500 {
		r.Intake(context.Background(), recs[i:min(i+500, len(recs))])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// Many workers record certificates at once, three racing for each case:
// exactly one wins per case, the others get ErrConflict without disturbing
// the rows committed with them (SQLite commits concurrent calls as one
// transaction), and each winner is audited once.
func TestConcurrentRecordCertificateOneWinnerPerCase(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		const cases, racers = 40, 3
		recs := sampledata.Generate(cases, sampledata.Options{Seed: 9})
		for _, res := range r.Intake(ctx, recs) {
			if res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		type outcome struct {
			i, j int
			err  error
		}
		out := make(chan outcome, cases*racers)
		var wg sync.WaitGroup
		for i, a := range recs {
			for j := range racers {
				wg.Go(func() {
					err := r.RecordCertificate(ctx, registry.Certificate{
						CertificateNo: fmt.Sprintf("C%04d", i), Version: 1, LicenceID: fmt.Sprintf("L-%d-%d", i, j),
						RegistrationNo: a.Registration.Number, CaseID: a.CaseID, IDNumber: a.Person.IDNumber,
						OFDKey: fmt.Sprintf("o/%d/%d", i, j), OFDSHA256: "00", PDFKey: fmt.Sprintf("p/%d/%d", i, j), PDFSHA256: "00",
						SignerSerial: "1", IssuedAt: time.Now(),
					})
					out <- outcome{i, j, err}
				})
			}
		}
		wg.Wait()
		close(out)
		winner := map[int]int{}
		for o := range out {
			switch {
			case o.err == nil:
				if w, dup := winner[o.i]; dup {
					t.Fatalf("case %d recorded twice (racers %d and %d)", o.i, w, o.j)
				}
				winner[o.i] = o.j
			case errors.Is(o.err, registry.ErrConflict):
			default:
				t.Fatalf("case %d racer %d: %v", o.i, o.j, o.err)
			}
		}
		if len(winner) != cases {
			t.Fatalf("%d of %d cases recorded", len(winner), cases)
		}
		for i, a := range recs {
			c, err := r.CertificateByCase(ctx, a.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("o/%d/%d", i, winner[i]); c.OFDKey != want {
				t.Fatalf("case %d: row points at %s, the winner wrote %s", i, c.OFDKey, want)
			}
			if issued := auditedIssued(t, r, a.CaseID); issued != 1 {
				t.Fatalf("case %d audited %d times as issued", i, issued)
			}
		}
	})
}

// BenchmarkRecordCertificateSQLite records certificates from 16 goroutines
// into a SQLite file, as issuing workers do.
func BenchmarkRecordCertificateSQLite(b *testing.B) {
	ctx := context.Background()
	r, err := registry.Open(ctx, filepath.Join(b.TempDir(), "ecert.db"), registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	recs := sampledata.Generate(b.N, sampledata.Options{Seed: 11, Prefix: fmt.Sprintf("R%d", b.N)})
	for i := 0; i < len(recs); i += 1000 {
		r.Intake(ctx, recs[i:min(i+1000, len(recs))])
	}
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(recs) {
					return
				}
				a := recs[i]
				if err := r.RecordCertificate(ctx, registry.Certificate{
					CertificateNo: fmt.Sprintf("C%07d", i), Version: 1, LicenceID: fmt.Sprintf("L-%d", i),
					RegistrationNo: a.Registration.Number, CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00",
					PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(),
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// A row that cannot be recorded (here: its registration does not exist)
// fails only its own caller, also when SQLite would commit it together with
// others.
func TestRecordCertificateBadRowFailsAlone(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(30, sampledata.Options{Seed: 13})
		r.Intake(ctx, recs)
		var wg sync.WaitGroup
		errs := make([]error, len(recs))
		for i, a := range recs {
			wg.Go(func() {
				regNo := a.Registration.Number
				if i%10 == 3 {
					regNo = "no-such-registration"
				}
				errs[i] = r.RecordCertificate(ctx, registry.Certificate{
					CertificateNo: fmt.Sprintf("C%04d", i), Version: 1, LicenceID: fmt.Sprintf("L-%d", i),
					RegistrationNo: regNo, CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00",
					SignerSerial: "1", IssuedAt: time.Now(),
				})
			})
		}
		wg.Wait()
		for i, a := range recs {
			_, found := r.CertificateByCase(ctx, a.CaseID)
			switch bad := i%10 == 3; {
			case bad && errs[i] == nil:
				t.Fatalf("case %d with a missing registration was recorded", i)
			case bad && found == nil:
				t.Fatalf("case %d: failed, yet a row exists", i)
			case !bad && errs[i] != nil:
				t.Fatalf("case %d failed because of another row: %v", i, errs[i])
			case !bad && found != nil:
				t.Fatalf("case %d: no row: %v", i, found)
			}
		}
	})
}

// A new version supersedes the valid older ones of the same certificate
// number in the same write, and each version is audited once; a version
// recorded twice is a conflict that changes nothing.
func TestRecordCertificateSupersedesOlderVersions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(3, sampledata.Options{Seed: 21})
		r.Intake(ctx, recs)
		regNo := recs[0].Registration.Number
		record := func(i, version int) error {
			return r.RecordCertificate(ctx, registry.Certificate{
				CertificateNo: "C0001", Version: version, LicenceID: fmt.Sprintf("L-%d", version),
				RegistrationNo: regNo, CaseID: recs[i].CaseID, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00",
				SignerSerial: "1", IssuedAt: time.Now(),
			})
		}
		for v := 1; v <= 3; v++ {
			if err := record(v-1, v); err != nil {
				t.Fatalf("version %d: %v", v, err)
			}
		}
		if err := record(2, 2); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("version 2 again: %v, want ErrConflict", err)
		}
		for v, want := range map[int]registration.CertStatus{1: registration.CertLapsed, 2: registration.CertLapsed, 3: registration.CertValid} {
			c, err := r.CertificateVersion(ctx, "C0001", v)
			if err != nil || c.Status != want {
				t.Fatalf("version %d: %+v, %v; want status %s", v, c, err, want)
			}
			if want == registration.CertLapsed && !strings.Contains(c.StatusReason, "superseded by version") {
				t.Errorf("version %d: reason %q", v, c.StatusReason)
			}
			if c.CaseID != recs[v-1].CaseID {
				t.Errorf("version %d: case %s, want %s (the conflicting write changed it)", v, c.CaseID, recs[v-1].CaseID)
			}
		}
		for i := range 3 {
			if issued := auditedIssued(t, r, recs[i].CaseID); issued != 1 {
				t.Errorf("case %d audited %d times as issued, want 1", i, issued)
			}
		}
	})
}

// The issuer's combined lookups answer what the single ones answer.
func TestIssueLookups(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(2, sampledata.Options{Seed: 23})
		r.Intake(ctx, recs)
		a := recs[0]
		if _, _, err := r.CaseToIssue(ctx, "no-such-case"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("unknown case: %v", err)
		}
		if _, _, err := r.RegistrationToIssue(ctx, "no-such-registration", "C1"); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("unknown registration: %v", err)
		}
		got, issued, err := r.CaseToIssue(ctx, a.CaseID)
		if err != nil || issued || got.CaseID != a.CaseID || got.Person.IDNumber != a.Person.IDNumber {
			t.Fatalf("before issue: %v %v %v", got.CaseID, issued, err)
		}
		reg, latest, err := r.RegistrationToIssue(ctx, a.Registration.Number, "C1")
		if err != nil || latest != 0 || reg.Number != a.Registration.Number || len(reg.Specialties) != len(a.Registration.Specialties) {
			t.Fatalf("before issue: %+v latest %d, %v", reg, latest, err)
		}
		for v, c := range []string{a.CaseID, recs[1].CaseID} {
			if err := r.RecordCertificate(ctx, registry.Certificate{
				CertificateNo: "C1", Version: v + 1, LicenceID: fmt.Sprintf("L-%d", v), RegistrationNo: a.Registration.Number,
				CaseID: c, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(),
			}); err != nil {
				t.Fatal(err)
			}
		}
		if _, issued, err := r.CaseToIssue(ctx, a.CaseID); err != nil || !issued {
			t.Fatalf("after issue: issued %v, %v", issued, err)
		}
		if _, latest, err := r.RegistrationToIssue(ctx, a.Registration.Number, "C1"); err != nil || latest != 2 {
			t.Fatalf("after two versions: latest %d, %v", latest, err)
		}
		if _, latest, _ := r.RegistrationToIssue(ctx, a.Registration.Number, "C2"); latest != 0 {
			t.Fatalf("another certificate number: latest %d", latest)
		}
	})
}

// auditedIssued counts the "certificate.issued" entries of a case.
func auditedIssued(t *testing.T, r *registry.Registry, caseID string) int {
	t.Helper()
	log, err := r.AuditLog(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range log {
		if e.Action == "certificate.issued" {
			n++
		}
	}
	return n
}
