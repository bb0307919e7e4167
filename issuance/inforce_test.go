package issuance_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// Issue item 10: no certificate is signed for a registration that has ended
// by the issue date (China time): expired (policy extensions applied) or
// cancelled. The refusal has the domain's code and names the dates; it is a
// permanent failure, counted as "refused".
func TestIssueRefusesRegistrationsNoLongerInForce(t *testing.T) {
	tests := []struct {
		name       string
		validUntil registration.Date
		issueAt    time.Time // China time
		cancelled  bool
		wantCode   string // "" = issued
		wantInMsg  []string
	}{
		{name: "last valid day", validUntil: registration.NewDate(2026, 3, 15),
			issueAt: time.Date(2026, 3, 15, 23, 59, 0, 0, registration.ChinaTZ)},
		{name: "day after valid-until, China time", validUntil: registration.NewDate(2026, 3, 15),
			issueAt: time.Date(2026, 3, 15, 16, 0, 0, 0, time.UTC), wantCode: issuance.RefuseRegistrationExpired,
			wantInMsg: []string{"注册有效期至 2026-03-15", "2026-03-16"}},
		{name: "extended by policy, then expired", validUntil: registration.NewDate(2022, 4, 30),
			issueAt: time.Date(2022, 8, 1, 9, 0, 0, 0, registration.ChinaTZ), wantCode: issuance.RefuseRegistrationExpired,
			wantInMsg: []string{"注册有效期至 2022-07-31", "原有效期至 2022-04-30"}},
		{name: "inside the policy extension", validUntil: registration.NewDate(2022, 4, 30),
			issueAt: time.Date(2022, 7, 31, 9, 0, 0, 0, registration.ChinaTZ)},
		{name: "cancelled", validUntil: registration.NewDate(2027, 12, 31), cancelled: true,
			issueAt: time.Date(2026, 3, 10, 9, 0, 0, 0, registration.ChinaTZ), wantCode: issuance.RefuseRegistrationCancelled,
			wantInMsg: []string{"已于 2026-03-01 注销", "调出"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends{})
			ctx := context.Background()
			a := endingOn(approvals(1, uint64(100+i))[0], tc.validUntil)
			e.intake(t, []intake.Approval{a})
			if tc.cancelled {
				if _, err := e.reg.CancelRegistration(ctx, a.Registration.Number, "调出", registration.NewDate(2026, 3, 1), "test"); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Set(tc.issueAt)
			res, err := e.svc.Issue(ctx, a.CaseID)
			if tc.wantCode == "" {
				if err != nil || res.Outcome != issuance.Issued {
					t.Fatalf("Issue: %+v, %v; want issued", res.Outcome, err)
				}
				return
			}
			var ref *issuance.Refusal
			if !errors.As(err, &ref) || ref.Code != tc.wantCode || !errors.Is(err, issuance.ErrPermanent) {
				t.Fatalf("Issue: %+v, %v; want a permanent refusal %s", res.Outcome, err, tc.wantCode)
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(ref.Message, s) {
					t.Errorf("refusal %q does not say %q", ref.Message, s)
				}
			}
			if _, err := e.reg.CertificateByCase(ctx, a.CaseID); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("a certificate was recorded: %v", err)
			}
			if got := e.m.Issues("refused"); got != 1 {
				t.Errorf("ecert_issue_total{outcome=refused} = %v, want 1", got)
			}
		})
	}
}

// endingOn returns a (a change, so no public notice) with its registration
// and every specialty valid until e, starting three years before.
func endingOn(a intake.Approval, e registration.Date) intake.Approval {
	a.BusinessType, a.NoticeEnd = registration.Change, registration.Date{}
	a.Registration.ValidUntil = e
	a.Registration.ValidFrom = e.AddYears(-3).AddDays(1)
	a.ApprovedOn = a.Registration.ValidFrom
	if q := a.Qualification; q != nil {
		q.ApprovalDate, q.IssueDate = a.ApprovedOn.AddYears(-1), a.ApprovedOn.AddYears(-1).AddDays(20)
	}
	for i := range a.Registration.Specialties {
		a.Registration.Specialties[i].ValidUntil = e
	}
	return a
}
