// Package verify checks PDF and OFD documents signed by ecert (or by any
// producer of the same formats) and reports every check by name with a
// pass/fail verdict and a reason. It treats every input as hostile: sizes,
// counts and nesting are bounded before anything is parsed or unpacked.
//
// A report passes only when every check passes; there is no partial trust.
package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/emmansun/gmsm/smx509"
)

// Check names.
const (
	CheckFormat      = "format"
	CheckSignature   = "signature"
	CheckChain       = "chain"
	CheckSigningTime = "signing-time"
	CheckIntegrity   = "integrity"
	CheckSeal        = "seal"
	CheckUsage       = "usage-validity"
)

// Check is one named verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason"`
	// Status is StatusPass, StatusFail or StatusNotChecked: a check that
	// could not run (no trusted root, an unreadable signature) is not OK
	// either, but says so.
	Status string `json:"status"`
}

// Check statuses.
const (
	StatusPass       = "pass"
	StatusFail       = "fail"
	StatusNotChecked = "not-checked"
)

// Verdicts: the one-word answer of a report.
const (
	// VerdictValid: every check passed and every chain ended in a
	// production root.
	VerdictValid = "valid"
	// VerdictValidDevelopment: every check passed, but a chain ended in an
	// ecert development root, which certifies nothing.
	VerdictValidDevelopment = "valid-development-root"
	// VerdictInvalid: a check failed or could not run.
	VerdictInvalid = "invalid"
	// VerdictNotCurrent: the document is genuine and intact, but the
	// issuer's registry says it is no longer in force (superseded,
	// cancelled, revoked, or its registration ended).
	VerdictNotCurrent = "not-current"
)

// Validation bases: the time certificates were validated at.
const (
	// BasisVerificationTime: no trusted timestamp; chains are validated at
	// the time of verification, never at the time the signer claims.
	BasisVerificationTime = "verification-time"
	// BasisTimestamp: the time of a verified trusted (RFC 3161) timestamp.
	BasisTimestamp = "trusted-timestamp"
)

// MaxClockSkew is how far a claimed signing time may lie after the
// verifier's clock before the signature is refused as signed in the future.
const MaxClockSkew = 5 * time.Minute

// Trust names the root a signer's chain ended in.
type Trust struct {
	// Root is the root certificate's subject common name.
	Root string `json:"root"`
	// SHA256 is the hex SHA-256 fingerprint of the root certificate.
	SHA256 string `json:"sha256"`
	// Development is true for an ecert development root (see
	// signing.IsDevelopmentRoot): nothing signed under it certifies anything.
	Development bool `json:"development"`
}

// String describes the root as `CN (SHA-256 ab12…)`.
func (t *Trust) String() string {
	s := fmt.Sprintf("%q (SHA-256 %s)", t.Root, t.SHA256)
	if t.Development {
		s += ", a development root — not for production"
	}
	return s
}

func trustOf(root *smx509.Certificate) *Trust {
	sum := sha256.Sum256(root.Raw)
	return &Trust{Root: root.Subject.CommonName, SHA256: hex.EncodeToString(sum[:]), Development: signing.IsDevelopmentRoot(root)}
}

// Report is the outcome of verifying one document.
type Report struct {
	Format      string            `json:"format"`
	OK          bool              `json:"ok"`
	Checks      []Check           `json:"checks"`
	Signer      string            `json:"signer,omitempty"`
	SignerSN    string            `json:"signer_serial,omitempty"`
	SigningTime *time.Time        `json:"signing_time,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// UsageValidFrom and UsageValidUntil are a usage copy's signed validity
	// dates (YYYY-MM-DD), empty for an original.
	UsageValidFrom  string `json:"usage_valid_from,omitempty"`
	UsageValidUntil string `json:"usage_valid_until,omitempty"`
	// PrintedUsageValidFrom and PrintedUsageValidUntil are the usage
	// validity printed on the page (使用有效期：…至…) as YYYY-MM-DD, read
	// only for a usage copy; when several differ, one that differs from the
	// signed dates.
	PrintedUsageValidFrom  string   `json:"printed_usage_valid_from,omitempty"`
	PrintedUsageValidUntil string   `json:"printed_usage_valid_until,omitempty"`
	Warnings               []string `json:"warnings,omitempty"`
	// NotCovered lists the files of an OFD package that no signature's
	// references cover (a warning for vendor seals; see docs/signing.md).
	NotCovered []string `json:"not_covered,omitempty"`
	// Verdict is VerdictValid, VerdictValidDevelopment or VerdictInvalid.
	Verdict string `json:"verdict"`
	// Trust is the root the (last) signer's chain ended in, when a chain
	// was checked and ended in a configured root.
	Trust *Trust `json:"trust,omitempty"`
	// ValidatedAt and ValidationBasis say at which time certificates were
	// validated and why that time (BasisVerificationTime, BasisTimestamp).
	ValidatedAt     *time.Time `json:"validated_at,omitempty"`
	ValidationBasis string     `json:"validation_basis,omitempty"`
	// Revisions is the number of revisions (%%EOF markers) of a PDF.
	Revisions int `json:"revisions,omitempty"`
	// Signatures reports each signature on its own, in signing order
	// (PDF); the checks above are their conjunction.
	Signatures []SignatureReport `json:"signatures,omitempty"`
	// Status is the issuer registry's word on the document today, or why
	// it was not asked (File only).
	Status *Status `json:"status,omitempty"`
	// Document is DocumentVerificationReport for a verification report
	// signed by the verification service, empty for a certificate.
	Document string `json:"document,omitempty"`
}

// Options configure verification.
type Options struct {
	// Roots are the trusted root certificates. With none, the chain check fails.
	Roots []*smx509.Certificate
	// Now is the clock for usage-copy validity, for the time chains are
	// validated at and for refusing signing times in the future; time.Now
	// when nil.
	Now func() time.Time

	// Status, when set, asks the issuer's registry whether the document is
	// still in force (File adds the "status" check); without it the report
	// says status was not checked.
	Status StatusFunc

	// chains, when set, records where each chain check ended.
	chains *chainLog
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (r *Report) add(name string, err error, okReason string) {
	r.Checks = append(r.Checks, newCheck(name, err, okReason))
}

func newCheck(name string, err error, okReason string) Check {
	c := Check{Name: name, OK: err == nil, Reason: okReason, Status: StatusPass}
	if err != nil {
		c.Reason, c.Status = err.Error(), StatusFail
		if nc := (notChecked{}); errors.As(err, &nc) {
			c.Status = StatusNotChecked
		}
	}
	return c
}

// notChecked is the error of a check that could not run.
type notChecked struct{ why string }

func (e notChecked) Error() string { return "not checked: " + e.why }

func (r *Report) finish() *Report {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		if !c.OK {
			r.OK = false
		}
	}
	r.setVerdict()
	return r
}

func (r *Report) setVerdict() {
	switch {
	case !r.OK && r.onlyStatusFailed():
		r.Verdict = VerdictNotCurrent
	case !r.OK:
		r.Verdict = VerdictInvalid
	case r.Trust != nil && r.Trust.Development:
		r.Verdict = VerdictValidDevelopment
	default:
		r.Verdict = VerdictValid
	}
}

// Check returns the named check and whether it is present.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// failAll reports a document that could not be parsed: every check fails.
func (r *Report) failAll(err error, names ...string) *Report {
	r.add(CheckFormat, err, "")
	for _, n := range names {
		r.add(n, notChecked{err.Error()}, "")
	}
	return r.finish()
}

// Format names.
const (
	FormatPDF     = "pdf"
	FormatOFD     = "ofd"
	FormatUnknown = "unknown"
)

// Sniff tells a PDF from an OFD (zip) package by their first bytes.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return FormatPDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return FormatOFD
	}
	return FormatUnknown
}

// File verifies data as whatever format Sniff finds.
func File(data []byte, opts Options) *Report {
	var r *Report
	switch Sniff(data) {
	case FormatPDF:
		r = PDF(data, opts)
	case FormatOFD:
		r = OFD(data, opts)
	}
	if r != nil {
		r.applyStatus(opts)
		return r.finish()
	}
	r = &Report{Format: FormatUnknown}
	return r.failAll(errors.New("neither a PDF nor an OFD (zip) file"), CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity)
}

// trustedTimestamp is the time a verified RFC 3161 timestamp token over a
// signature attests. Reading such tokens is a later issue; until then there
// is never one.
type trustedTimestamp struct {
	Time time.Time
}

// validationTime is the time at which certificates are validated: that of a
// verified trusted timestamp when there is one, otherwise now.
func validationTime(opts Options, ts *trustedTimestamp) time.Time {
	if ts != nil {
		return ts.Time
	}
	return opts.now()
}

// chainLog records, for one verification, where the chain checks ended.
type chainLog struct {
	at    time.Time
	roots []*smx509.Certificate
	// checked and notChecked count chain checks and those that could not
	// run.
	checked, notChecked int
}

func (l *chainLog) note(root *smx509.Certificate, err error) {
	l.checked++
	if root != nil {
		l.roots = append(l.roots, root)
	}
	if nc := (notChecked{}); errors.As(err, &nc) {
		l.notChecked++
	}
}

// logChains returns opts recording chain checks in a new log, unless they
// are recorded already.
func (o Options) logChains() (Options, *chainLog) {
	if o.chains == nil {
		o.chains = &chainLog{at: validationTime(o, nil)}
	}
	return o, o.chains
}

// validationNote is the chain check's statement of when it validated.
func validationNote(at time.Time) string {
	return fmt.Sprintf("validated at verification time %s; no trusted timestamp", at.UTC().Format(time.RFC3339))
}

// noteTrust records in r the root the last chain ended in, and when chains
// were validated, and adds both to a passing chain check's reason.
func (r *Report) noteTrust(log *chainLog) *Report {
	if log == nil {
		return r
	}
	if log.checked > log.notChecked {
		at := log.at
		r.ValidatedAt, r.ValidationBasis = &at, BasisVerificationTime
	}
	if n := len(log.roots); n > 0 {
		r.Trust = trustOf(log.roots[n-1])
		for _, c := range log.roots {
			r.Trust.Development = r.Trust.Development || signing.IsDevelopmentRoot(c)
		}
	}
	for i, c := range r.Checks {
		switch {
		case c.Name != CheckChain:
		case c.OK && r.Trust != nil && !strings.Contains(c.Reason, "validated at"):
			r.Checks[i].Reason += "; ended in " + r.Trust.String() + "; " + validationNote(log.at)
		case !c.OK && log.checked > 0 && log.notChecked == log.checked:
			r.Checks[i].Status = StatusNotChecked
		}
	}
	r.setVerdict()
	return r
}

// chainRoot checks that leaf chains to one of the configured roots at time
// at, using the other certificates as intermediates, and that leaf may sign
// documents; it returns the root the chain ended in. Callers pass
// validationTime, never the signing time the signer claims: a claim is no
// reason to trust an expired or not yet valid certificate.
func chainRoot(leaf *smx509.Certificate, others []*smx509.Certificate, opts Options, at time.Time) (*smx509.Certificate, error) {
	if len(opts.Roots) == 0 {
		return nil, notChecked{"no trusted root configured"}
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, errors.New("signer certificate's key usage allows neither digitalSignature nor contentCommitment")
	}
	roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
	for _, c := range opts.Roots {
		roots.AddCert(c)
	}
	for _, c := range others {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("certificate %q does not chain to a trusted root (%s): %w", leaf.Subject.CommonName, validationNote(at), err)
	}
	c := chains[0]
	return c[len(c)-1], nil
}

// checkSigningTime refuses a signing time later than now plus MaxClockSkew,
// then checks it against the signer certificate's validity (checkTime).
func checkSigningTime(t time.Time, cert *smx509.Certificate, opts Options) error {
	if now := opts.now(); t.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("signed at %s, later than the verification time %s plus the allowed clock skew of %s: a signing time in the future is refused",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxClockSkew)
	}
	return checkTime(t, cert)
}

// checkTime checks t against the validity of cert.
func checkTime(t time.Time, cert *smx509.Certificate) error {
	if t.IsZero() {
		return errors.New("no signing time in the signature")
	}
	if t.Before(cert.NotBefore) {
		return fmt.Errorf("signed at %s, before the signer certificate is valid (%s)", t.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if t.After(cert.NotAfter) {
		return fmt.Errorf("signed at %s, after the signer certificate expired (%s)", t.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

var china = time.FixedZone("CST", 8*3600)

// checkUsage adds the usage-validity check when the signed metadata names
// usage-copy dates, and reports whether it did (the document is a usage
// copy, whose printed dates are then compared too).
func (r *Report) checkUsage(meta map[string]string, covered bool, opts Options) bool {
	from, until := meta[signing.MetaUsageValidFrom], meta[signing.MetaUsageValidUntil]
	if from == "" && until == "" && meta[signing.MetaKind] != "usage-copy" {
		return false
	}
	r.usageValidity(from, until, covered, opts)
	return true
}

func (r *Report) usageValidity(from, until string, covered bool, opts Options) {
	r.UsageValidFrom, r.UsageValidUntil = from, until
	if !covered {
		r.add(CheckUsage, errors.New("usage-copy metadata is not covered by the signature"), "")
		return
	}
	f, err1 := time.ParseInLocation("2006-01-02", from, china)
	u, err2 := time.ParseInLocation("2006-01-02", until, china)
	if err1 != nil || err2 != nil {
		r.add(CheckUsage, fmt.Errorf("usage validity dates %q – %q are not valid YYYY-MM-DD dates", from, until), "")
		return
	}
	if u.Before(f) {
		r.add(CheckUsage, fmt.Errorf("usage validity ends (%s) before it starts (%s)", until, from), "")
		return
	}
	now := opts.now().In(china)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, china)
	switch {
	case today.Before(f):
		r.add(CheckUsage, fmt.Errorf("usage copy not yet valid: valid %s to %s", from, until), "")
	case today.After(u):
		r.add(CheckUsage, fmt.Errorf("usage copy expired: valid %s to %s", from, until), "")
	default:
		r.add(CheckUsage, nil, fmt.Sprintf("usage copy valid %s to %s", from, until))
	}
}

func describe(c *smx509.Certificate) string {
	s := c.Subject.CommonName
	if len(c.Subject.Organization) > 0 && !strings.Contains(s, c.Subject.Organization[0]) {
		s += ", " + c.Subject.Organization[0]
	}
	return s
}
