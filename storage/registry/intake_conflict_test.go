package registry_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// snapshot dumps every row of the tables intake writes, so a test can tell
// that nothing at all changed.
func snapshot(t *testing.T, r *registry.Registry) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, cols := range map[string]string{
		"persons":        "id_number, name, gender, phone, updated_at",
		"registrations":  "number, id_number, employer_name, employer_code, specialties, valid_from, valid_until, status, updated_at",
		"cases":          "case_id, business_type, status, id_number, registration_number, approved_on, notice_end, record, created_at",
		"qualifications": "certificate_no, id_number, specialty, approval_date, issue_date",
		"audit_log":      "at, actor, action, subject, detail",
	} {
		rows, err := r.DB().Query("SELECT " + cols + " FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatal(err)
		}
		n := len(strings.Split(cols, ","))
		for rows.Next() {
			vals := make([]any, n)
			ptrs := make([]any, n)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}

func TestIntakeConflictingDuplicateChangesNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		base := sampledata.Generate(1, sampledata.Options{Seed: 21})[0]
		if res := r.Intake(ctx, []intake.Approval{base}); res[0].Outcome != registry.Inserted {
			t.Fatalf("first intake: %+v", res[0])
		}
		for _, tc := range []struct {
			name   string
			change func(a *intake.Approval)
			fields []string // nil: an identical duplicate
		}{
			{"identical", func(a *intake.Approval) {}, nil},
			{"name and phone", func(a *intake.Approval) { a.Person.Name += "某"; a.Person.Phone = "13900000000" },
				[]string{"person.name", "person.phone"}},
			{"phone only", func(a *intake.Approval) { a.Person.Phone = "13900000001" }, []string{"person.phone"}},
			{"employer", func(a *intake.Approval) { a.Registration.Employer.Name += "（分公司）" },
				[]string{"registration.employer.name"}},
			{"valid until", func(a *intake.Approval) {
				a.Registration.ValidUntil = a.Registration.ValidUntil.AddDays(-1)
				a.Registration.Specialties[0].ValidUntil = a.Registration.ValidUntil
			}, []string{"registration.specialties[0].valid_until", "registration.valid_until"}},
			{"approved on", func(a *intake.Approval) { a.ApprovedOn = a.ApprovedOn.AddDays(1) }, []string{"approved_on"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := base
				a.Registration.Specialties = append([]intake.SpecialtyRecord(nil), base.Registration.Specialties...)
				tc.change(&a)
				before := snapshot(t, r)
				res := r.Intake(ctx, []intake.Approval{a})[0]
				if after := snapshot(t, r); !reflect.DeepEqual(before, after) {
					t.Errorf("intake changed the registry:\nbefore %v\nafter  %v", before, after)
				}
				if tc.fields == nil {
					if res.Outcome != registry.Duplicate || res.Err != nil {
						t.Fatalf("identical duplicate: %+v", res)
					}
					return
				}
				var ce *registry.ConflictError
				if res.Outcome != registry.Conflict || !errors.As(res.Err, &ce) || !errors.Is(res.Err, registry.ErrCaseConflict) {
					t.Fatalf("outcome %v, err %v; want Conflict with a *ConflictError", res.Outcome, res.Err)
				}
				if !reflect.DeepEqual(ce.Fields, tc.fields) || ce.CaseID != a.CaseID {
					t.Errorf("conflict %+v, want fields %v", ce, tc.fields)
				}
				msg := res.Err.Error()
				for _, f := range tc.fields {
					if !strings.Contains(msg, f) {
						t.Errorf("message %q lacks %s", msg, f)
					}
				}
				if strings.Contains(msg, a.Person.IDNumber) || strings.Contains(msg, a.Person.Phone) || strings.Contains(msg, a.Person.Name) {
					t.Errorf("message %q shows a value", msg)
				}
			})
		}
	})
}

// TestConflictErrorMasksIDNumbers: a case id may be anything of the allowed
// characters, an ID number included.
func TestConflictErrorMasksIDNumbers(t *testing.T) {
	e := &registry.ConflictError{CaseID: "21010219850716093X", Fields: []string{"person.name"}}
	if msg := e.Error(); strings.Contains(msg, "21010219850716093X") || !strings.Contains(msg, "person.name") {
		t.Errorf("message %q", msg)
	}
}

// TestIntakeConflictInOneBatch: the second line of a batch repeating the
// first's case id with other content is a conflict; the first line lands.
func TestIntakeConflictInOneBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		recs := sampledata.Generate(3, sampledata.Options{Seed: 22})
		changed := recs[0]
		changed.Person.Name += "某"
		res := r.Intake(ctx, []intake.Approval{recs[0], recs[1], changed, recs[2], recs[1]})
		want := []registry.Outcome{registry.Inserted, registry.Inserted, registry.Conflict, registry.Inserted, registry.Duplicate}
		for i, x := range res {
			if x.Outcome != want[i] {
				t.Errorf("line %d: outcome %v (%v), want %v", i+1, x.Outcome, x.Err, want[i])
			}
		}
		p, err := r.Person(ctx, recs[0].Person.IDNumber)
		if err != nil || p.Name != recs[0].Person.Name {
			t.Errorf("person after the conflict: %+v %v, want name %s", p, err, recs[0].Person.Name)
		}
	})
}

// TestIntakeNewCaseUpdatesPerson: a later case (another case id) for the
// same person is how a name or phone changes; it still updates the person.
func TestIntakeNewCaseUpdatesPerson(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		a := sampledata.Generate(1, sampledata.Options{Seed: 23})[0]
		if res := r.Intake(ctx, []intake.Approval{a}); res[0].Outcome != registry.Inserted {
			t.Fatalf("first intake: %+v", res[0])
		}
		b := a
		b.CaseID += "-CHG"
		b.BusinessType = registration.Change
		b.NoticeEnd = registration.Date{}
		b.Person.Phone = "13900000002"
		if res := r.Intake(ctx, []intake.Approval{b}); res[0].Outcome != registry.Inserted {
			t.Fatalf("change case: %+v", res[0])
		}
		if p, err := r.Person(ctx, a.Person.IDNumber); err != nil || p.Phone != "13900000002" {
			t.Errorf("person after a change case: %+v %v", p, err)
		}
	})
}

// TestIntakeConcurrentSameCaseID: variants of one new case id taken in at
// once, over separate connections: one is recorded, every other is a
// conflict, and the person is the recorded variant's.
func TestIntakeConcurrentSameCaseID(t *testing.T) {
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		for round := range 5 {
			base := sampledata.Generate(1, sampledata.Options{Seed: uint64(30 + round)})[0]
			base.CaseID = fmt.Sprintf("RACE-%d", round)
			const n = 8
			results := make([]registry.IntakeResult, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				a := base
				a.Person.Phone = fmt.Sprintf("1390000%04d", i)
				wg.Go(func() {
					<-start
					results[i] = r.Intake(ctx, []intake.Approval{a})[0]
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, x := range results {
				switch {
				case x.Outcome == registry.Inserted && winner < 0:
					winner = i
				case x.Outcome == registry.Conflict && errors.Is(x.Err, registry.ErrCaseConflict):
				default:
					t.Fatalf("round %d, variant %d: outcome %v, err %v", round, i, x.Outcome, x.Err)
				}
			}
			p, err := r.Person(ctx, base.Person.IDNumber)
			if winner < 0 || err != nil || p.Phone != fmt.Sprintf("1390000%04d", winner) {
				t.Fatalf("round %d: winner %d, person %+v %v", round, winner, p, err)
			}
		}
	})
}
