package registration

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCreditCode is wrapped by every unified social credit code validation failure.
var ErrCreditCode = errors.New("invalid unified social credit code")

// creditCodeChars is the GB 32100 alphabet: digits and upper-case letters
// without I, O, S, V, Z. A character's value is its index.
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditCodeWeights are 3^i mod 31.
var creditCodeWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCodeCheckChar returns the GB 32100 check character (MOD 31) of the
// first 17 characters of a unified social credit code.
func CreditCodeCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("%w: need 17 characters before the check character, got %d", ErrCreditCode, len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(creditCodeChars, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: character %d is %q, not in 0-9A-Y without I, O, S, V, Z", ErrCreditCode, i+1, first17[i])
		}
		sum += v * creditCodeWeights[i]
	}
	return creditCodeChars[(31-sum%31)%31], nil
}

// ValidateCreditCode checks an 18-character unified social credit code
// (统一社会信用代码, GB 32100-2015): the alphabet, the six-digit
// administrative division code in positions 3-8, and the check character.
func ValidateCreditCode(s string) error {
	if len(s) != 18 {
		return fmt.Errorf("%w: length %d, want 18", ErrCreditCode, len(s))
	}
	want, err := CreditCodeCheckChar(s[:17])
	if err != nil {
		return err
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("%w: character %d is %q, the administrative division code (positions 3-8) is digits", ErrCreditCode, i+1, s[i])
		}
	}
	if s[17] != want {
		return fmt.Errorf("%w: %s has check character %q, want %q", ErrCreditCode, s, s[17], want)
	}
	return nil
}
