package issuance

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// EligibilityRegistry is the part of the registry the eligibility check reads.
type EligibilityRegistry interface {
	Registration(ctx context.Context, number string) (registration.Registration, error)
	RegistrationsOf(ctx context.Context, idNumber string) ([]registration.Registration, error)
	Qualifications(ctx context.Context, idNumber string) ([]registration.Qualification, error)
}

// EligibilityQuery is a proposed case.
type EligibilityQuery struct {
	Type               registration.BusinessType
	Account            registration.AccountKind
	IDNumber           string
	RegistrationNo     string // optional: the applicant's only registration when empty
	SubmittedOn        registration.Date
	QuotedApprovalDate registration.Date // zero when not quoted
	Specialty          string
}

// CheckEligibility applies every registration rule to a proposed case over
// the registration and qualification libraries, and returns the verdict
// with every reason it is refused; for an allowed case, also the date by
// which the review must be decided (the business type's working days from
// submission, on the official calendar), zero when the calendar does not
// cover it.
func CheckEligibility(ctx context.Context, reg EligibilityRegistry, policy registration.Policy, q EligibilityQuery) (registration.Verdict, registration.Date, error) {
	in := registration.CheckInput{Type: q.Type, Account: q.Account, IDNumber: q.IDNumber, Specialty: q.Specialty,
		SubmittedOn: q.SubmittedOn, QuotedApprovalDate: q.QuotedApprovalDate}
	var err error
	if in.Registration, err = findRegistration(ctx, reg, q.IDNumber, q.RegistrationNo); err != nil {
		return registration.Verdict{}, registration.Date{}, err
	}
	if in.Qualifications, err = reg.Qualifications(ctx, q.IDNumber); err != nil {
		return registration.Verdict{}, registration.Date{}, err
	}
	v := registration.Check(in, policy)
	var due registration.Date
	if v.Allowed() && q.Type.Valid() {
		due, _ = registration.DueDate(registration.Case{ID: "proposed", Type: q.Type, AcceptedOn: q.SubmittedOn}, registration.DefaultCalendar())
	}
	return v, due, nil
}

// findRegistration returns the registration named by number, or the
// applicant's only one; nil when there is none.
func findRegistration(ctx context.Context, reg EligibilityRegistry, idNumber, number string) (*registration.Registration, error) {
	if number != "" {
		r, err := reg.Registration(ctx, number)
		if errors.Is(err, registry.ErrNotFound) {
			return nil, nil
		}
		return &r, err
	}
	regs, err := reg.RegistrationsOf(ctx, idNumber)
	if err != nil {
		return nil, err
	}
	switch len(regs) {
	case 0:
		return nil, nil
	case 1:
		return &regs[0], nil
	}
	return nil, fmt.Errorf("%w: the applicant holds %d registrations: name one", ErrBadRequest, len(regs))
}
