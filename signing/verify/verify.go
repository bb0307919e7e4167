// Package verify checks PDF and OFD documents signed by ecert (or by any
// producer of the same formats) and reports every check by name with a
// pass/fail verdict and a reason. It treats every input as hostile: sizes,
// counts and nesting are bounded before anything is parsed or unpacked.
//
// A report passes only when every check passes; there is no partial trust.
package verify

import (
	"bytes"
	"crypto/x509"
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
}

// Options configure verification.
type Options struct {
	// Roots are the trusted root certificates. With none, the chain check fails.
	Roots []*smx509.Certificate
	// Now is the clock for usage-copy validity; time.Now when nil.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (r *Report) add(name string, err error, okReason string) {
	c := Check{Name: name, OK: err == nil, Reason: okReason}
	if err != nil {
		c.Reason = err.Error()
	}
	r.Checks = append(r.Checks, c)
}

func (r *Report) finish() *Report {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		if !c.OK {
			r.OK = false
		}
	}
	return r
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
		r.add(n, fmt.Errorf("not checked: %v", err), "")
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
	switch Sniff(data) {
	case FormatPDF:
		return PDF(data, opts)
	case FormatOFD:
		return OFD(data, opts)
	}
	r := &Report{Format: FormatUnknown}
	return r.failAll(errors.New("neither a PDF nor an OFD (zip) file"), CheckSignature, CheckChain, CheckSigningTime, CheckIntegrity)
}

// verifyChain checks that leaf chains to one of roots at time at, using the
// other certificates as intermediates, and that leaf may sign documents.
func verifyChain(leaf *smx509.Certificate, others []*smx509.Certificate, opts Options, at time.Time) error {
	if len(opts.Roots) == 0 {
		return errors.New("no trusted root configured")
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("signer certificate's key usage allows neither digitalSignature nor contentCommitment")
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
	if at.IsZero() {
		at = opts.now()
	}
	chains, err := leaf.Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("certificate %q does not chain to a trusted root: %w", leaf.Subject.CommonName, err)
	}
	_ = chains
	return nil
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
