package registration

import (
	"errors"
	"fmt"
)

// ErrRegistration is wrapped by every Registration.Validate failure.
var ErrRegistration = errors.New("invalid registration")

// Validate checks a registration record before it enters the registry: the
// registration number against numbers (nil: DefaultRegNumberPattern), the
// holder's ID number, the employer's unified social credit code, known
// specialties with valid-until dates, valid-from not after valid-until, and
// the status. The error names the first problem and never the full ID number.
func (r Registration) Validate(numbers *RegNumberValidator) error {
	if numbers == nil {
		numbers = defaultRegNumber
	}
	if err := numbers.Validate(r.Number); err != nil {
		return fmt.Errorf("%w: %w", ErrRegistration, err)
	}
	if _, err := ParseIDNumber(r.IDNumber); err != nil {
		return fmt.Errorf("%w %s: id_number: %w", ErrRegistration, r.Number, err)
	}
	if r.Employer.Name == "" {
		return fmt.Errorf("%w %s: employer name is empty", ErrRegistration, r.Number)
	}
	if err := ValidateCreditCode(r.Employer.CreditCode); err != nil {
		return fmt.Errorf("%w %s: employer credit code: %w", ErrRegistration, r.Number, err)
	}
	if len(r.Specialties) == 0 {
		return fmt.Errorf("%w %s: no specialties", ErrRegistration, r.Number)
	}
	seen := map[string]bool{}
	for _, s := range r.Specialties {
		known, ok := LookupSpecialty(s.Code)
		if !ok || (s.Name != "" && s.Name != known.Name) {
			return fmt.Errorf("%w %s: unknown specialty %q %q", ErrRegistration, r.Number, s.Code, s.Name)
		}
		if seen[known.Code] {
			return fmt.Errorf("%w %s: specialty %s listed twice", ErrRegistration, r.Number, known.Name)
		}
		seen[known.Code] = true
		if s.ValidUntil.IsZero() {
			return fmt.Errorf("%w %s: specialty %s has no valid-until", ErrRegistration, r.Number, known.Name)
		}
	}
	if r.ValidUntil.IsZero() && BaseValidUntil(r).IsZero() {
		return fmt.Errorf("%w %s: no valid-until", ErrRegistration, r.Number)
	}
	if !r.ValidFrom.IsZero() && r.ValidFrom.After(BaseValidUntil(r)) {
		return fmt.Errorf("%w %s: valid-from %s is after valid-until %s", ErrRegistration, r.Number, r.ValidFrom, BaseValidUntil(r))
	}
	switch r.Status {
	case RegistrationActive:
	case RegistrationCancelled:
		if r.CancelledOn.IsZero() {
			return fmt.Errorf("%w %s: cancelled without a cancellation date", ErrRegistration, r.Number)
		}
	default:
		return fmt.Errorf("%w %s: status %q, want active or cancelled", ErrRegistration, r.Number, r.Status)
	}
	return nil
}
