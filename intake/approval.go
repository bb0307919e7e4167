// Package intake defines the approved-registration record that feeds
// certificate issuance, and decodes it from NDJSON (one JSON object per line)
// with strict validation.
//
// Every field of a record comes from outside (the reviewers' system or a
// file), so the decoder bounds line length, rejects unknown fields and
// reports every problem of a record at once, never a partial record.
package intake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecert/ecert/registration"
)

// MaxLineBytes bounds one NDJSON line. A real record is well under 2 KiB.
const MaxLineBytes = 64 << 10

// Approval is one approved case (批准的办件) with everything needed to issue its certificate.
type Approval struct {
	CaseID        string                    `json:"case_id"`
	BusinessType  registration.BusinessType `json:"business_type"`
	ApprovedOn    registration.Date         `json:"approved_on"`
	NoticeEnd     registration.Date         `json:"notice_end,omitzero"`
	Person        PersonRecord              `json:"person"`
	Registration  RegistrationRecord        `json:"registration"`
	Qualification *QualificationRecord      `json:"qualification,omitempty"`
}

// PersonRecord is the holder of the registration.
type PersonRecord struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
}

// RegistrationRecord is the registration as approved.
type RegistrationRecord struct {
	Number      string                `json:"number"`
	Employer    registration.Employer `json:"employer"`
	Specialties []SpecialtyRecord     `json:"specialties"`
	ValidFrom   registration.Date     `json:"valid_from"`
	ValidUntil  registration.Date     `json:"valid_until"`
}

// SpecialtyRecord is one registered specialty; code or name may be given, both are checked.
type SpecialtyRecord struct {
	Code       string            `json:"code,omitempty"`
	Name       string            `json:"name,omitempty"`
	ValidUntil registration.Date `json:"valid_until"`
}

// QualificationRecord is the holder's qualification certificate (资格证书).
type QualificationRecord struct {
	CertificateNo string            `json:"certificate_no"`
	Specialty     string            `json:"specialty,omitempty"`
	ApprovalDate  registration.Date `json:"approval_date"`
	IssueDate     registration.Date `json:"issue_date,omitzero"`
}

// ValidationError lists every problem found in one record.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

var (
	caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
)

// Validate checks r as of today (China time) and returns a *ValidationError
// naming every bad field. No full ID number appears in a message.
func (r *Approval) Validate() error { return r.ValidateOn(registration.Today(time.Now())) }

// ValidateOn is Validate with "today" given: dates are bounded relative to it.
func (r *Approval) ValidateOn(today registration.Date) error {
	var p []string
	add := func(format string, a ...any) { p = append(p, MaskIDNumbers(fmt.Sprintf(format, a...))) }
	for _, f := range r.textFields() {
		if why := textProblem(f.value); why != "" {
			add("%s: %s", f.name, why)
		}
	}
	r.checkDates(today, add)

	if !caseIDPattern.MatchString(r.CaseID) {
		add("case_id: want 1-64 characters of A-Z a-z 0-9 . _ : -")
	} else if _, err := registration.ParseIDNumber(r.CaseID); err == nil {
		// Case ids are logged and shown as they are; an ID number must not be one.
		add("case_id: is a resident ID number; use the portal's case number")
	}
	switch {
	case r.BusinessType == "":
		add("business_type: missing")
	case !r.BusinessType.Valid():
		add("business_type: unknown %q", truncate(string(r.BusinessType), 32))
	}
	if r.ApprovedOn.IsZero() {
		add("approved_on: missing")
	}
	if r.BusinessType.NeedsPublicNotice() {
		if r.NoticeEnd.IsZero() {
			add("notice_end: required for %s (certificate is downloadable only after the public notice)", r.BusinessType.Chinese())
		}
	}
	if n := utf8.RuneCountInString(r.Person.Name); strings.TrimSpace(r.Person.Name) == "" || n > registration.MaxPersonNameRunes {
		add("person.name: want 1-%d characters, got %d", registration.MaxPersonNameRunes, n)
	}
	if id, err := registration.ParseIDNumber(r.Person.IDNumber); err != nil {
		add("person.id_number: %v", err)
	} else if id.String() != r.Person.IDNumber {
		// Stored as given and compared with the portal's statement of who
		// the applicant is: one spelling only.
		add("person.id_number: write the check character X in upper case")
	}
	if len(r.Person.Phone) > 20 {
		add("person.phone: longer than 20 characters")
	}
	if r.BusinessType != registration.Cancellation || r.Registration.Number != "" {
		if err := registration.ValidateRegNumber(r.Registration.Number); err != nil {
			add("registration.number: %s", redact(err, r.Registration.Number))
		}
	}
	if r.BusinessType != registration.Cancellation {
		r.validateRegistration(add)
	}
	if q := r.Qualification; q != nil {
		if q.CertificateNo == "" || len(q.CertificateNo) > 64 {
			add("qualification.certificate_no: want 1-64 characters")
		}
		if q.ApprovalDate.IsZero() {
			add("qualification.approval_date: missing")
		}
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

func (r *Approval) validateRegistration(add func(string, ...any)) {
	reg := &r.Registration
	if n := utf8.RuneCountInString(reg.Employer.Name); strings.TrimSpace(reg.Employer.Name) == "" || n > registration.MaxEmployerNameRunes {
		add("registration.employer.name: want 1-%d characters, got %d", registration.MaxEmployerNameRunes, n)
	}
	if err := registration.ValidateCreditCode(reg.Employer.CreditCode); err != nil {
		add("registration.employer.credit_code: %s", redact(err, reg.Employer.CreditCode))
	}
	if reg.ValidFrom.IsZero() || reg.ValidUntil.IsZero() {
		add("registration.valid_from/valid_until: both required")
	} else if !reg.ValidFrom.Before(reg.ValidUntil) {
		add("registration.valid_until: %s is not after valid_from %s", reg.ValidUntil, reg.ValidFrom)
	}
	if len(reg.Specialties) == 0 || len(reg.Specialties) > len(registration.Specialties) {
		add("registration.specialties: want 1-%d specialties, got %d", len(registration.Specialties), len(reg.Specialties))
	}
	seen := map[string]bool{}
	for i := range reg.Specialties {
		s := &reg.Specialties[i]
		key := s.Code
		if key == "" {
			key = s.Name
		}
		known, ok := registration.LookupSpecialty(key)
		switch {
		case !ok:
			add("registration.specialties[%d]: unknown specialty %q", i, truncate(key, 32))
			continue
		case s.Code != "" && s.Name != "" && (known.Code != s.Code || known.Name != s.Name):
			add("registration.specialties[%d]: code %s is %s, not %s", i, known.Code, known.Name, truncate(s.Name, 32))
		case seen[known.Code]:
			add("registration.specialties[%d]: %s listed twice", i, known.Name)
		}
		seen[known.Code] = true
		s.Code, s.Name = known.Code, known.Name
		if s.ValidUntil.IsZero() {
			s.ValidUntil = reg.ValidUntil
		} else if s.ValidUntil.After(reg.ValidUntil) {
			add("registration.specialties[%d].valid_until: %s is after the registration's %s", i, s.ValidUntil, reg.ValidUntil)
		}
	}
}

// redact masks value inside err's text: a field may hold a misplaced ID
// number, and error messages reach logs.
func redact(err error, value string) string {
	if len(value) < 6 {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), value, registration.MaskID(value))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Options tune decoding.
type Options struct {
	// Clock returns the current time, from which "today" (China time)
	// bounds every date; defaults to time.Now.
	Clock func() time.Time
}

func (o Options) today() registration.Date {
	if o.Clock == nil {
		return registration.Today(time.Now())
	}
	return registration.Today(o.Clock())
}

// Decode parses and validates one NDJSON line as of today.
func Decode(line []byte) (Approval, error) { return DecodeWith(line, Options{}) }

// DecodeWith parses and validates one NDJSON line. The line must be valid
// UTF-8 without a byte order mark (the Scanner drops one at the start of a
// file). Error messages name the field and never show a full ID number.
func DecodeWith(line []byte, opt Options) (Approval, error) {
	a, err := decode(line, opt.today())
	if err != nil {
		return Approval{}, maskError(err)
	}
	return a, nil
}

func decode(line []byte, today registration.Date) (Approval, error) {
	if err := checkRawLine(line); err != nil {
		return Approval{}, err
	}
	var a Approval
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Approval{}, fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		return Approval{}, errors.New("malformed JSON: more than one value on the line")
	}
	if err := a.ValidateOn(today); err != nil {
		return Approval{}, err
	}
	return a, nil
}

// Line is one decoded NDJSON line: either a record or the reason it was refused.
type Line struct {
	No       int // 1-based line number
	Approval Approval
	Err      error
	Bytes    int // bytes consumed including the newline, for progress
}

// Scanner reads approvals from NDJSON, one line at a time. Blank lines are
// skipped; an over-long line is reported and skipped, not fatal. A UTF-8
// byte order mark at the start of the input is dropped.
type Scanner struct {
	r    *bufio.Reader
	opt  Options
	line Line
	no   int
	err  error
}

// NewScanner returns a Scanner reading from r, with dates bounded as of today.
func NewScanner(r io.Reader) *Scanner { return NewScannerWith(r, Options{}) }

// NewScannerWith returns a Scanner reading from r that decodes with opt.
func NewScannerWith(r io.Reader, opt Options) *Scanner {
	return &Scanner{r: bufio.NewReaderSize(r, 256<<10), opt: opt}
}

// Scan advances to the next non-blank line. It returns false at EOF or on a read error (see Err).
func (s *Scanner) Scan() bool {
	skipped := 0
	for {
		raw, n, tooLong, err := s.readLine()
		n += skipped
		if err != nil && n == 0 {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			return false
		}
		s.no++
		s.line = Line{No: s.no, Bytes: n}
		skipped = 0
		if tooLong {
			s.line.Err = fmt.Errorf("line longer than %d bytes", MaxLineBytes)
			return true
		}
		if s.no == 1 {
			raw = bytes.TrimPrefix(raw, utf8BOM)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			if err != nil {
				return false
			}
			skipped = n
			continue
		}
		s.line.Approval, s.line.Err = DecodeWith(raw, s.opt)
		return true
	}
}

// readLine reads up to the next newline, keeping at most MaxLineBytes.
func (s *Scanner) readLine() (line []byte, n int, tooLong bool, err error) {
	var buf []byte
	for {
		frag, e := s.r.ReadSlice('\n')
		n += len(frag)
		if !tooLong {
			if len(buf)+len(frag) > MaxLineBytes+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		if errors.Is(e, bufio.ErrBufferFull) {
			continue
		}
		return buf, n, tooLong, e
	}
}

// Line returns the current line.
func (s *Scanner) Line() Line { return s.line }

// Err returns the first non-EOF read error.
func (s *Scanner) Err() error { return s.err }
