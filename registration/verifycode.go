package registration

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// A verification code (核验码) is printed on each certificate version and
// its usage copies and carried in the QR code's URL. With the licence
// identifier it opens the public status lookup; it is random, so it cannot
// be derived from the public numbers and those cannot be enumerated.
//
// It is VerifyCodeLen characters from VerifyCodeAlphabet: digits and
// upper-case letters without 0, O, 1, I and L, which are read or typed for
// one another. 31 symbols, 10 characters: log2(31^10) ≈ 49.5 bits.
const (
	VerifyCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	VerifyCodeLen      = 10
)

// NewVerifyCode returns a fresh verification code from crypto/rand.
func NewVerifyCode() (string, error) {
	return newVerifyCode(rand.Reader)
}

// newVerifyCode draws the code from r, each character uniform over the
// alphabet (bytes of 248 and above are rejected: 248 = 8 × 31).
func newVerifyCode(r io.Reader) (string, error) {
	const n = len(VerifyCodeAlphabet)
	limit := byte(256 / n * n)
	out := make([]byte, 0, VerifyCodeLen)
	buf := make([]byte, VerifyCodeLen+4)
	for len(out) < VerifyCodeLen {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("verification code: %w", err)
		}
		for _, b := range buf {
			if b < limit && len(out) < VerifyCodeLen {
				out = append(out, VerifyCodeAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// ValidVerifyCode reports whether s is a verification code in its canonical
// form (as printed, without separators).
func ValidVerifyCode(s string) bool {
	if len(s) != VerifyCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(VerifyCodeAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// NormalizeVerifyCode turns a code as a person typed it into its canonical
// form: surrounding and inner spaces and hyphens dropped, letters upper
// case. It returns "" when the result is not a valid code.
func NormalizeVerifyCode(s string) string {
	if len(s) > 4*VerifyCodeLen { // bounded work on hostile input
		return ""
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\u3000':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
	if !ValidVerifyCode(s) {
		return ""
	}
	return s
}

// MaskIDPublic masks an ID number for the public (anyone holding a
// certificate's verification code): the first 4 and last 4 characters
// stay, e.g. 2101**********123X. Logs and errors use MaskID (6 + 4).
func MaskIDPublic(s string) string {
	r := []rune(s)
	if len(r) <= 8 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:4]) + strings.Repeat("*", len(r)-8) + string(r[len(r)-4:])
}

// MaskName masks a person's name for the public: the first and last
// characters stay and those between become *; a two-character name keeps
// its first (张*), a one-character name is shown as *.
func MaskName(s string) string {
	r := []rune(s)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}
