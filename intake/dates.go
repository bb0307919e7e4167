package intake

import (
	"fmt"

	"github.com/ecert/ecert/registration"
)

// Date limits. A date outside them is a typing error or a placeholder
// (9999-12-31, 0000-01-01), and stored it would poison the record: dates are
// computed on (notice end + 1 day), and a year past 9999 cannot be read back.
var (
	// EarliestDate is the first date a record may carry.
	EarliestDate = registration.NewDate(1900, 1, 1)
)

const (
	// ActYearsAhead bounds the dates of acts (approved_on, notice_end,
	// valid_from): at most this many years after today.
	ActYearsAhead = 1
	// ValidityYearsAhead bounds registration and specialty valid_until: at
	// most this many years after today (a registration is valid 3 years; a
	// renewal approved now may start in a year).
	ValidityYearsAhead = 6
)

// checkDates adds a problem for every date of r outside its limits or out
// of the order the domain implies. today is the date in China time.
func (r *Approval) checkDates(today registration.Date, add func(string, ...any)) {
	act, validity := today.AddYears(ActYearsAhead), today.AddYears(ValidityYearsAhead)
	bound := func(field string, d, latest registration.Date, why string) {
		switch {
		case d.IsZero():
		case d.Before(EarliestDate):
			add("%s: %s is before %s", field, d, EarliestDate)
		case d.After(latest):
			add("%s: %s is after %s (%s)", field, d, latest, why)
		}
	}
	aheadAct := fmt.Sprintf("at most %d year after today", ActYearsAhead)
	aheadValidity := fmt.Sprintf("at most %d years after today", ValidityYearsAhead)
	bound("approved_on", r.ApprovedOn, act, aheadAct)
	bound("notice_end", r.NoticeEnd, act, aheadAct)
	reg := &r.Registration
	bound("registration.valid_from", reg.ValidFrom, act, aheadAct)
	bound("registration.valid_until", reg.ValidUntil, validity, aheadValidity)
	for i, s := range reg.Specialties {
		f := fmt.Sprintf("registration.specialties[%d].valid_until", i)
		bound(f, s.ValidUntil, validity, aheadValidity)
		if !s.ValidUntil.IsZero() && !reg.ValidFrom.IsZero() && !s.ValidUntil.After(reg.ValidFrom) {
			add("%s: %s is not after registration.valid_from %s", f, s.ValidUntil, reg.ValidFrom)
		}
	}
	if !r.NoticeEnd.IsZero() && !r.ApprovedOn.IsZero() && r.NoticeEnd.Before(r.ApprovedOn) {
		add("notice_end: %s is before approved_on %s", r.NoticeEnd, r.ApprovedOn)
	}
	if q := r.Qualification; q != nil {
		bound("qualification.approval_date", q.ApprovalDate, today, "a qualification approved in the future")
		bound("qualification.issue_date", q.IssueDate, today, "a qualification issued in the future")
		if !q.IssueDate.IsZero() && q.IssueDate.Before(q.ApprovalDate) {
			add("qualification.issue_date: %s is before qualification.approval_date %s", q.IssueDate, q.ApprovalDate)
		}
		if !r.ApprovedOn.IsZero() && !q.ApprovalDate.IsZero() && !r.ApprovedOn.After(q.ApprovalDate) {
			add("approved_on: %s is not after qualification.approval_date %s (a registration needs the qualification first)", r.ApprovedOn, q.ApprovalDate)
		}
	}
}
