package certgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ecert/ecert/registration"
)

// MaxRecordBytes bounds the size of a JSON record accepted by ParseRecord.
const MaxRecordBytes = 64 << 10

// Limits on field lengths, in characters.
const (
	maxFieldRunes   = 200
	maxSpecialties  = 6
	maxURLBytes     = 512
	maxPurposeRunes = 60
)

// ErrInvalid is wrapped by every validation failure of a Certificate.
var ErrInvalid = errors.New("certgen: invalid certificate record")

// Specialty is one registered specialty printed on the certificate with its own valid-until.
type Specialty struct {
	Name       string            `json:"name"`
	ValidUntil registration.Date `json:"valid_until"`
}

// UsageCopy marks a rendering as a usage copy (加注件) with its own validity,
// serial, optional purpose (用途) and verification URL.
type UsageCopy struct {
	Serial     string            `json:"serial"`
	ValidFrom  registration.Date `json:"valid_from"`
	ValidUntil registration.Date `json:"valid_until"`
	Purpose    string            `json:"purpose,omitempty"`
	VerifyURL  string            `json:"verify_url,omitempty"` // empty: derived from the renderer's base URL
}

// Certificate is the flat input of a rendering: every value printed on the
// certificate, already formatted by the caller except dates. It is the JSON
// record read by `ecert render --record FILE` (docs/rendering.md).
type Certificate struct {
	HolderName         string            `json:"holder_name"`
	Gender             string            `json:"gender"` // 男 or 女
	BirthDate          registration.Date `json:"birth_date"`
	IDNumber           string            `json:"id_number"`
	RegistrationNo     string            `json:"registration_no"`
	Employer           string            `json:"employer"`
	EmployerCreditCode string            `json:"employer_credit_code"`
	Specialties        []Specialty       `json:"specialties"`
	Authority          string            `json:"authority"`
	IssueDate          registration.Date `json:"issue_date"`
	LicenceID          string            `json:"licence_id"`           // GB/T 36904 identifier (证照标识)
	VerifyURL          string            `json:"verify_url,omitempty"` // empty: derived from the renderer's base URL
	// VerifyCode is the verification code (核验码, registration.NewVerifyCode)
	// printed near the QR code and added to a derived verification URL as
	// ?code=; a usage copy carries its certificate version's code.
	VerifyCode string     `json:"verify_code,omitempty"`
	Copy       *UsageCopy `json:"copy,omitempty"`
	// Claim is the signed claim (signing/claim: "EC1:" and base45) printed
	// as a second QR code for offline verification; empty: none.
	Claim string `json:"claim,omitempty"`
}

// ParseRecord decodes and validates a JSON certificate record. Unknown
// fields, trailing data and records over MaxRecordBytes are refused.
func ParseRecord(r io.Reader) (*Certificate, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
	if err != nil {
		return nil, fmt.Errorf("certgen: reading record: %w", err)
	}
	if len(data) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: record larger than %d bytes", ErrInvalid, MaxRecordBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Certificate
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the record", ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
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
		return invalid(field, "%d characters, at most %d allowed", n, max)
	}
	if strings.TrimSpace(v) != v {
		return invalid(field, "leading or trailing space")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return invalid(field, "control character U+%04X", r)
		}
	}
	return nil
}

func checkURL(field, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > maxURLBytes {
		return invalid(field, "longer than %d bytes", maxURLBytes)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid(field, "%q is not an absolute http(s) URL", v)
	}
	return nil
}

// Validate checks that every field needed on the certificate is present and plausible.
func (c *Certificate) Validate() error {
	texts := []struct {
		field, v string
		max      int
	}{
		{"holder_name", c.HolderName, registration.MaxPersonNameRunes},
		{"registration_no", c.RegistrationNo, 40},
		{"employer", c.Employer, registration.MaxEmployerNameRunes},
		{"employer_credit_code", c.EmployerCreditCode, 18},
		{"authority", c.Authority, 40},
		{"licence_id", c.LicenceID, 100},
	}
	for _, t := range texts {
		if err := checkText(t.field, t.v, true, t.max); err != nil {
			return err
		}
	}
	if c.Gender != "男" && c.Gender != "女" {
		return invalid("gender", "%q is neither 男 nor 女", c.Gender)
	}
	id, err := registration.ParseIDNumber(c.IDNumber)
	if err != nil {
		return invalid("id_number", "%s: %v", registration.MaskID(c.IDNumber), err)
	}
	if id.String() != c.IDNumber {
		return invalid("id_number", "%s: write it in upper case without spaces", registration.MaskID(c.IDNumber))
	}
	if !c.BirthDate.IsZero() && c.BirthDate != id.BirthDate {
		return invalid("birth_date", "%s differs from the birth date in the ID number", c.BirthDate)
	}
	if c.Gender != id.Gender.Chinese() {
		return invalid("gender", "%q differs from the gender in the ID number", c.Gender)
	}
	if len(c.EmployerCreditCode) != 18 {
		return invalid("employer_credit_code", "must be 18 characters")
	}
	if c.BirthDate.IsZero() {
		return invalid("birth_date", "missing")
	}
	if c.IssueDate.IsZero() {
		return invalid("issue_date", "missing")
	}
	if len(c.Specialties) == 0 {
		return invalid("specialties", "at least one specialty is required")
	}
	if len(c.Specialties) > maxSpecialties {
		return invalid("specialties", "%d specialties, at most %d fit on the certificate", len(c.Specialties), maxSpecialties)
	}
	for i, s := range c.Specialties {
		f := fmt.Sprintf("specialties[%d]", i)
		if err := checkText(f+".name", s.Name, true, 20); err != nil {
			return err
		}
		if s.ValidUntil.IsZero() {
			return invalid(f+".valid_until", "missing")
		}
	}
	if err := checkURL("verify_url", c.VerifyURL); err != nil {
		return err
	}
	if err := checkClaim(c.Claim); err != nil {
		return err
	}
	if c.VerifyCode != "" && !registration.ValidVerifyCode(c.VerifyCode) {
		return invalid("verify_code", "not %d characters of %s", registration.VerifyCodeLen, registration.VerifyCodeAlphabet)
	}
	if cp := c.Copy; cp != nil {
		if err := checkText("copy.serial", cp.Serial, true, 40); err != nil {
			return err
		}
		if err := checkText("copy.purpose", cp.Purpose, false, maxPurposeRunes); err != nil {
			return err
		}
		if cp.ValidFrom.IsZero() || cp.ValidUntil.IsZero() {
			return invalid("copy", "valid_from and valid_until are required")
		}
		if cp.ValidUntil.Before(cp.ValidFrom) {
			return invalid("copy.valid_until", "%s is before valid_from %s", cp.ValidUntil, cp.ValidFrom)
		}
		if err := checkURL("copy.verify_url", cp.VerifyURL); err != nil {
			return err
		}
	}
	return nil
}
