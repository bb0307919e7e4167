// Package claim encodes a certificate's signed QR claim and decodes and
// verifies it offline, with nothing but the issuing authority's
// certificates: CWT (RFC 8392) → COSE_Sign1 with SM2-with-SM3 (signing/cose)
// → zlib where it shortens → Base45 (RFC 9285) → the prefix "EC1:", the way
// the EU Digital COVID Certificate is built. docs/qr-claim.md documents every
// field and its compact encoding.
//
// A claim must never carry a full ID number: Encode refuses one that is not
// masked. Decode parses outside data and bounds everything: the text length,
// the inflated size (zip bombs), and CBOR depth and lengths.
package claim

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecert/ecert/registration"
)

// Prefix starts every encoded claim. Its digit is the format version: a
// change a version-1 verifier would misread gets a new prefix.
const Prefix = "EC1:"

// Limits of Decode.
const (
	// MaxEncodedLen is the longest claim text accepted: the alphanumeric
	// capacity of the largest QR code (version 40, level L).
	MaxEncodedLen = 4296
	// MaxInflated bounds the decompressed COSE message.
	MaxInflated = 8 << 10
	// ClockSkew is how far in the future an iat may lie.
	ClockSkew = 5 * time.Minute
)

// Limits on claim contents, checked by Encode and Decode.
const (
	maxTextRunes   = 200
	maxNameRunes   = 64
	maxPurposeRune = 60
	maxSpecialties = 8
)

// Specialty is a registered specialty (注册专业) with its own valid-until.
type Specialty struct {
	Name       string
	ValidUntil registration.Date
}

// UsageCopy describes a usage copy (加注件): its id, purpose (用途) and
// usage validity.
type UsageCopy struct {
	ID         string
	Purpose    string // optional
	ValidFrom  registration.Date
	ValidUntil registration.Date
}

// StatusRef points at the claim's entry in a status list, where a verifier
// that is online can learn whether the certificate was revoked or
// suspended after the claim was signed.
type StatusRef struct {
	List  string
	Index uint64
}

// Claim is what the QR code of a certificate or usage copy asserts. It
// names no issuer: the COSE kid identifies the issuer certificate, and
// Decode reports it in Result.Issuer.
type Claim struct {
	IssuedAt       time.Time // iat; whole seconds are kept
	LicenceID      string    // GB/T 36904 licence identifier (证照标识)
	Version        int       // certificate version, from 1
	HolderName     string
	MaskedID       string // masked ID number, registration.MaskID; never the full number
	RegistrationNo string
	Specialties    []Specialty
	IssueDate      registration.Date
	Copy           *UsageCopy // nil for the certificate itself
	Status         *StatusRef // nil when no status list is kept
}

// Expiry returns the claim's exp: the end (24:00 China Standard Time) of the
// usage copy's last valid day or, for a certificate, of the latest
// specialty valid-until.
func (c *Claim) Expiry() time.Time {
	var last registration.Date
	if c.Copy != nil {
		last = c.Copy.ValidUntil
	} else {
		for _, s := range c.Specialties {
			if s.ValidUntil.After(last) {
				last = s.ValidUntil
			}
		}
	}
	return last.AddDays(1).Time(registration.ChinaTZ)
}

// ErrInvalidClaim is wrapped by every error of Validate.
var ErrInvalidClaim = errors.New("claim: invalid claim")

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidClaim, field, fmt.Sprintf(format, args...))
}

func checkText(field, v string, required bool, max int) error {
	if v == "" {
		if required {
			return invalid(field, "missing")
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return invalid(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid(field, "%d characters, at most %d", n, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return invalid(field, "control character U+%04X", r)
		}
	}
	return nil
}

func checkDate(field string, d registration.Date) error {
	if d.IsZero() {
		return invalid(field, "missing")
	}
	if d.Year < registration.MinStoredYear || d.Year > registration.MaxStoredYear {
		return invalid(field, "year %d outside %d..%d", d.Year, registration.MinStoredYear, registration.MaxStoredYear)
	}
	return nil
}

// Validate checks that every required field is present and within its
// limits, and that the ID number is masked.
func (c *Claim) Validate() error {
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"licence_id", c.LicenceID, maxTextRunes},
		{"holder_name", c.HolderName, maxNameRunes},
		{"masked_id", c.MaskedID, 32},
		{"registration_no", c.RegistrationNo, maxTextRunes},
	} {
		if err := checkText(f.name, f.v, true, f.max); err != nil {
			return err
		}
	}
	if !strings.Contains(c.MaskedID, "*") {
		return invalid("masked_id", "not masked (use registration.MaskID)")
	}
	if c.IssuedAt.IsZero() {
		return invalid("iat", "missing")
	}
	if c.Version < 1 {
		return invalid("version", "%d, want 1 or more", c.Version)
	}
	if n := len(c.Specialties); n == 0 || n > maxSpecialties {
		return invalid("specialties", "%d, want 1..%d", n, maxSpecialties)
	}
	for i, s := range c.Specialties {
		if err := checkText(fmt.Sprintf("specialties[%d].name", i), s.Name, true, maxTextRunes); err != nil {
			return err
		}
		if err := checkDate(fmt.Sprintf("specialties[%d].valid_until", i), s.ValidUntil); err != nil {
			return err
		}
	}
	if err := checkDate("issue_date", c.IssueDate); err != nil {
		return err
	}
	if cp := c.Copy; cp != nil {
		if err := checkText("copy.id", cp.ID, true, maxTextRunes); err != nil {
			return err
		}
		if err := checkText("copy.purpose", cp.Purpose, false, maxPurposeRune); err != nil {
			return err
		}
		if err := checkDate("copy.valid_from", cp.ValidFrom); err != nil {
			return err
		}
		if err := checkDate("copy.valid_until", cp.ValidUntil); err != nil {
			return err
		}
		if cp.ValidUntil.Before(cp.ValidFrom) {
			return invalid("copy.valid_until", "%s before valid_from %s", cp.ValidUntil, cp.ValidFrom)
		}
	}
	if st := c.Status; st != nil {
		if err := checkText("status.list", st.List, true, maxTextRunes); err != nil {
			return err
		}
	}
	return nil
}
