package registration

import (
	"errors"
	"strings"
	"testing"
)

func TestRegistrationValidate(t *testing.T) {
	good := func() Registration {
		r := *testReg("2025-06-01")
		r.Number = "辽221141400178"
		r.Employer.CreditCode = "91110000100006485K"
		return r
	}
	if err := good().Validate(nil); err != nil {
		t.Fatalf("good registration: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Registration)
		want string
	}{
		{"number", func(r *Registration) { r.Number = "X1" }, "registration number"},
		{"id", func(r *Registration) { r.IDNumber = "210102199001011238" }, "id_number"},
		{"employer name", func(r *Registration) { r.Employer.Name = "" }, "employer name"},
		{"credit code", func(r *Registration) { r.Employer.CreditCode = "91110000100006485J" }, "credit code"},
		{"no specialties", func(r *Registration) { r.Specialties = nil }, "no specialties"},
		{"unknown specialty", func(r *Registration) { r.Specialties[0].Code = "10401003" }, "unknown specialty"},
		{"name/code mismatch", func(r *Registration) { r.Specialties[0].Name = "公路工程" }, "unknown specialty"},
		{"twice", func(r *Registration) { r.Specialties = append(r.Specialties, r.Specialties[0]) }, "listed twice"},
		{"specialty date", func(r *Registration) { r.Specialties[0].ValidUntil = Date{} }, "has no valid-until"},
		{"order", func(r *Registration) { r.ValidFrom = MustDate("2025-06-02") }, "is after valid-until"},
		{"status", func(r *Registration) { r.Status = "paused" }, "status"},
		{"cancelled without date", func(r *Registration) { r.Status = RegistrationCancelled }, "cancellation date"},
	} {
		r := good()
		tc.edit(&r)
		err := r.Validate(nil)
		if !errors.Is(err, ErrRegistration) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), testID) {
			t.Errorf("%s: error contains the full ID number", tc.name)
		}
	}
	v, _ := NewRegNumberValidator(`^TEST[0-9]+$`)
	r := good()
	r.Number = "TEST1"
	if err := r.Validate(v); err != nil {
		t.Errorf("custom pattern: %v", err)
	}
}
