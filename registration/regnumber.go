package registration

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"
)

// DefaultRegNumberPattern is the default pattern of a registration number
// (注册编号): a province abbreviation (or 兵 for the Xinjiang Production and
// Construction Corps), the level digit 2, then 11 to 13 more digits, e.g.
// 辽221141400178.
const DefaultRegNumberPattern = `^[京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新兵]2[0-9]{11,13}$`

// ErrRegNumber is wrapped by every registration number validation failure.
var ErrRegNumber = errors.New("invalid registration number")

const maxRegNumberLen = 64

// RegNumberValidator checks registration numbers against a configurable
// pattern; the number itself stays an opaque string.
type RegNumberValidator struct {
	re *regexp.Regexp
}

// NewRegNumberValidator compiles pattern (Go regexp syntax; anchor it with ^
// and $). An empty pattern means DefaultRegNumberPattern.
func NewRegNumberValidator(pattern string) (*RegNumberValidator, error) {
	if pattern == "" {
		pattern = DefaultRegNumberPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("registration number pattern: %w", err)
	}
	return &RegNumberValidator{re: re}, nil
}

// Pattern returns the pattern in use.
func (v *RegNumberValidator) Pattern() string { return v.re.String() }

// Validate returns nil when s matches the pattern.
func (v *RegNumberValidator) Validate(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty", ErrRegNumber)
	case len(s) > maxRegNumberLen:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrRegNumber, len(s), maxRegNumberLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not valid UTF-8", ErrRegNumber)
	case !v.re.MatchString(s):
		return fmt.Errorf("%w: %q does not match %s", ErrRegNumber, s, v.re)
	}
	return nil
}

var defaultRegNumber, _ = NewRegNumberValidator(DefaultRegNumberPattern)

// ValidateRegNumber checks s against DefaultRegNumberPattern.
func ValidateRegNumber(s string) error { return defaultRegNumber.Validate(s) }
