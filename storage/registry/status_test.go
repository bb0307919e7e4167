package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// Many Registry values on one database (as separate processes would be),
// each reserving from many goroutines at once, never get the same index,
// and every reservation is one entry.
func TestReserveStatusIndexNeverCollides(t *testing.T) {
	const conns, workers, each = 4, 8, 25
	for name, open := range sharedDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := open(t)
			regs := make([]*registry.Registry, conns)
			for i := range regs {
				r, err := registry.Open(ctx, dsn, registry.Options{SkipMigrate: i > 0, StatusListSize: registry.MinStatusListSize})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { r.Close() })
				regs[i] = r
			}
			var mu sync.Mutex
			seen := map[registry.StatusRef]bool{}
			var wg sync.WaitGroup
			errs := make(chan error, conns*workers)
			for _, r := range regs {
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range each {
							ref, err := r.ReserveStatusIndex(ctx)
							if err != nil {
								errs <- err
								return
							}
							mu.Lock()
							dup := seen[ref]
							seen[ref] = true
							mu.Unlock()
							if dup {
								errs <- fmt.Errorf("index %s reserved twice", ref)
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if len(seen) != conns*workers*each {
				t.Fatalf("%d distinct references, want %d", len(seen), conns*workers*each)
			}
			lists, err := regs[0].StatusLists(ctx)
			if err != nil || len(lists) != 1 || lists[0].Used != conns*workers*each || lists[0].Size != registry.MinStatusListSize {
				t.Fatalf("lists: %+v %v", lists, err)
			}
		})
	}
}

// A list half full gives way to a new one; the old keeps its entries.
func TestReserveStatusIndexOpensANewListWhenHalfFull(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		first, err := r.ReserveStatusIndex(ctx)
		if err != nil || first.List != 1 || first.Index < 0 || first.Index >= registry.DefaultStatusListSize {
			t.Fatalf("first reservation: %s %v", first, err)
		}
		if _, err := r.DB().ExecContext(ctx, `UPDATE status_lists SET used = size / 2 - 1`); err != nil {
			t.Fatal(err)
		}
		if ref, err := r.ReserveStatusIndex(ctx); err != nil || ref.List != 1 {
			t.Fatalf("last reservation below half: %s %v", ref, err)
		}
		ref, err := r.ReserveStatusIndex(ctx)
		if err != nil || ref.List != 2 {
			t.Fatalf("reservation at half full: %s %v, want list 2", ref, err)
		}
		lists, err := r.StatusLists(ctx)
		if err != nil || len(lists) != 2 || lists[1].Used != 1 {
			t.Fatalf("lists: %+v %v", lists, err)
		}
	})
}

func TestStatusListSizeIsValidated(t *testing.T) {
	for _, n := range []int{1, registry.MinStatusListSize - 4, registry.MinStatusListSize + 1, registry.MaxStatusListSize + 4} {
		if _, err := registry.Open(context.Background(), ":memory:", registry.Options{StatusListSize: n}); err == nil {
			t.Errorf("StatusListSize %d accepted", n)
		}
	}
}

// statusFixture records certificate certNo v1 for a fresh registration,
// with a reserved index, and a usage copy without one.
type statusFixture struct {
	reg          string
	cert, copyID string
	certRef      registry.StatusRef
	copyRef      registry.StatusRef
}

func newStatusFixture(t *testing.T, r *registry.Registry, seed uint64) statusFixture {
	t.Helper()
	a := sampledata.Generate(1, sampledata.Options{Seed: seed, Base: registration.Today(time.Now()).AddDays(-30)})[0]
	return statusFixtureOf(t, r, a, seed)
}

// statusFixtureOf records a's registration, a certificate and one usage copy.
func statusFixtureOf(t *testing.T, r *registry.Registry, a intake.Approval, seed uint64) statusFixture {
	t.Helper()
	ctx := context.Background()
	if res := r.Intake(ctx, []intake.Approval{a})[0]; res.Err != nil {
		t.Fatal(res.Err)
	}
	ref, err := r.ReserveStatusIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := statusFixture{reg: a.Registration.Number, cert: fmt.Sprintf("S%d", seed), copyID: fmt.Sprintf("copy-%d", seed)}
	c := registry.Certificate{CertificateNo: f.cert, Version: 1, LicenceID: "L" + f.cert, RegistrationNo: f.reg,
		CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now().UTC(),
		StatusRef: ref}
	if err := r.RecordCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := r.CertificateVersion(ctx, f.cert, 1)
	if err != nil || got.StatusRef != ref {
		t.Fatalf("recorded certificate: ref %s, want %s (%v)", got.StatusRef, ref, err)
	}
	f.certRef = ref
	from := time.Now().UTC()
	u, _, err := r.RecordCopyOnce(ctx, registry.UsageCopy{CopyID: f.copyID, CertificateNo: f.cert, Version: 1, Format: "pdf",
		Day: registration.Today(from), ValidFrom: from, ValidUntil: from.Add(180 * 24 * time.Hour), CreatedBy: "holder",
		ObjectKey: "copies/x", SHA256: "00"})
	if err != nil || u.StatusRef.IsZero() || u.StatusRef == ref {
		t.Fatalf("recorded copy: %+v %v", u, err)
	}
	if stored, err := r.UsageCopyByID(ctx, f.copyID); err != nil || stored.StatusRef != u.StatusRef {
		t.Fatalf("stored copy ref %s, want %s (%v)", stored.StatusRef, u.StatusRef, err)
	}
	f.copyRef = u.StatusRef
	return f
}

func entryStatus(t *testing.T, r *registry.Registry, ref registry.StatusRef) int {
	t.Helper()
	s, err := r.StatusOf(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generation(t *testing.T, r *registry.Registry, list int64) int64 {
	t.Helper()
	info, _, err := r.StatusEntries(context.Background(), list)
	if err != nil {
		t.Fatal(err)
	}
	return info.Generation
}

// Every change of a certificate's status sets the entries of the version
// and of its copies, and counts a generation of their list.
func TestStatusEntriesFollowTheRegistry(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, r *registry.Registry, f statusFixture)
		want   int
	}{
		{"revoke", func(t *testing.T, r *registry.Registry, f statusFixture) {
			if _, err := r.RevokeCertificate(context.Background(), f.cert, "以欺骗手段取得注册", "reviewer"); err != nil {
				t.Fatal(err)
			}
		}, registry.EntryInvalid},
		{"cancel registration", func(t *testing.T, r *registry.Registry, f statusFixture) {
			if ok, err := r.CancelRegistration(context.Background(), f.reg, "expired", registration.Today(time.Now()), "scheduler"); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}, registry.EntryInvalid},
		{"set certificates status", func(t *testing.T, r *registry.Registry, f statusFixture) {
			if n, err := r.SetCertificatesStatus(context.Background(), f.reg, registration.CertCancelled, "注销", "issuer"); err != nil || n != 1 {
				t.Fatal(n, err)
			}
		}, registry.EntryInvalid},
		{"supersede", func(t *testing.T, r *registry.Registry, f statusFixture) {
			ctx := context.Background()
			cur, err := r.CurrentCertificate(ctx, f.cert)
			if err != nil {
				t.Fatal(err)
			}
			next := cur
			next.Version, next.LicenceID, next.CaseID, next.StatusRef = 2, cur.LicenceID+"-2", cur.CaseID+"-2", registry.StatusRef{}
			copyCase := `INSERT INTO cases (case_id, business_type, status, id_number, registration_number, approved_on, notice_end, record, created_at)
				SELECT ?, business_type, status, id_number, registration_number, approved_on, notice_end, record, created_at FROM cases WHERE case_id = ?`
			if r.Dialect() == registry.Postgres {
				copyCase = strings.Replace(strings.Replace(copyCase, "?", "$1", 1), "?", "$2", 1)
			}
			if _, err := r.DB().ExecContext(ctx, copyCase, next.CaseID, cur.CaseID); err != nil {
				t.Fatal(err)
			}
			if err := r.RecordCertificate(ctx, next); err != nil {
				t.Fatal(err)
			}
			v2, err := r.CertificateVersion(ctx, f.cert, 2)
			if err != nil || v2.StatusRef.IsZero() || entryStatus(t, r, v2.StatusRef) != registry.EntryValid {
				t.Fatalf("v2: %+v %v", v2, err)
			}
		}, registry.EntrySuspended},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, r *registry.Registry) {
				f := newStatusFixture(t, r, uint64(500+i))
				for _, ref := range []registry.StatusRef{f.certRef, f.copyRef} {
					if s := entryStatus(t, r, ref); s != registry.EntryValid {
						t.Fatalf("entry %s before: %d", ref, s)
					}
				}
				before := generation(t, r, f.certRef.List)
				tc.change(t, r, f)
				for _, ref := range []registry.StatusRef{f.certRef, f.copyRef} {
					if s := entryStatus(t, r, ref); s != tc.want {
						t.Errorf("entry %s after: %d, want %d", ref, s, tc.want)
					}
				}
				info, set, err := r.StatusEntries(context.Background(), f.certRef.List)
				if err != nil || info.Generation <= before {
					t.Fatalf("generation %d -> %+v (%v)", before, info, err)
				}
				found := map[int64]int{}
				for _, e := range set {
					found[e.Index] = e.Status
				}
				if found[f.certRef.Index] != tc.want || found[f.copyRef.Index] != tc.want || len(found) != 2 {
					t.Errorf("StatusEntries: %v, want %d at %d and %d only", set, tc.want, f.certRef.Index, f.copyRef.Index)
				}
			})
		})
	}
}

// A revocation whose last statement fails changes neither the certificate
// nor its status entries nor the list's generation.
func TestRevokeFailingLeavesStatusUnchanged(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		f := newStatusFixture(t, r, 77)
		before := generation(t, r, f.certRef.List)
		failAuditOf(t, r, "certificate.revoke")
		if _, err := r.RevokeCertificate(ctx, f.cert, "x", "reviewer"); err == nil {
			t.Fatal("revocation with a failing audit insert succeeded")
		}
		c, err := r.CurrentCertificate(ctx, f.cert)
		if err != nil || c.Status != registration.CertValid {
			t.Fatalf("certificate after the failed revocation: %s %v", c.Status, err)
		}
		for _, ref := range []registry.StatusRef{f.certRef, f.copyRef} {
			if s := entryStatus(t, r, ref); s != registry.EntryValid {
				t.Errorf("entry %s after the failed revocation: %d", ref, s)
			}
		}
		if g := generation(t, r, f.certRef.List); g != before {
			t.Errorf("generation %d -> %d after the failed revocation", before, g)
		}
	})
}

// failAuditOf makes every insert of an audit entry with action fail, as a
// crash between the status change and the commit would.
func failAuditOf(t *testing.T, r *registry.Registry, action string) {
	t.Helper()
	var stmts []string
	if r.Dialect() == registry.SQLite {
		stmts = []string{`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log WHEN NEW.action = '` + action + `'
			BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	} else {
		stmts = []string{`CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.action = '` + action + `' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_audit()`}
	}
	for _, s := range stmts {
		if _, err := r.DB().ExecContext(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

// A certificate cannot take an index that was never reserved or is taken.
func TestRecordCertificateRefusesAnUnreservedIndex(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		f := newStatusFixture(t, r, 88)
		a := sampledata.Generate(2, sampledata.Options{Seed: 88, Base: registration.Today(time.Now()).AddDays(-30)})[1]
		if res := r.Intake(ctx, []intake.Approval{a})[0]; res.Err != nil {
			t.Fatal(res.Err)
		}
		for _, ref := range []registry.StatusRef{f.certRef, {List: f.certRef.List, Index: (f.certRef.Index + 1) % registry.DefaultStatusListSize}} {
			c := registry.Certificate{CertificateNo: "U1", Version: 1, LicenceID: "LU1", RegistrationNo: a.Registration.Number,
				CaseID: a.CaseID, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now().UTC(),
				StatusRef: ref}
			if err := r.RecordCertificate(ctx, c); !errors.Is(err, registry.ErrStatusRef) {
				t.Errorf("record with %s: %v, want ErrStatusRef", ref, err)
			}
			if _, err := r.CurrentCertificate(ctx, "U1"); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("certificate recorded despite the refused index: %v", err)
			}
		}
	})
}
