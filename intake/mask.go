package intake

import (
	"errors"
	"regexp"

	"github.com/ecert/ecert/registration"
)

// idShaped matches what could be a resident ID number (GB 11643): 17 digits
// and a digit or X, wherever it stands, check character valid or not.
var idShaped = regexp.MustCompile(`[0-9]{17}[0-9Xx]`)

// MaskIDNumbers returns s with every ID-number-shaped run masked as
// registration.MaskID does (first 6 and last 4 kept). Input may put an ID
// number in any field, or make it a field name, and messages about input
// reach terminals, logs and files: every message about a record passes here.
func MaskIDNumbers(s string) string {
	if len(s) < 18 {
		return s
	}
	return idShaped.ReplaceAllStringFunc(s, registration.MaskID)
}

// maskError returns err with ID numbers masked in its text. A
// *ValidationError keeps its type; any other error becomes plain text, so
// that no wrapped error can show the value again.
func maskError(err error) error {
	var v *ValidationError
	if errors.As(err, &v) {
		for i, p := range v.Problems {
			v.Problems[i] = MaskIDNumbers(p)
		}
		return v
	}
	return errors.New(MaskIDNumbers(err.Error()))
}
