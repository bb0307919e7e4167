// Package offline decides, without asking the issuer, whether a scanned QR
// claim (signing/claim) stands for a certificate or usage copy that is
// genuine and usable now: the claim's SM2 signature by an issuing-authority
// certificate the verifier holds (chained to a root it trusts), the claim's
// own dates, and the entry of a signed status list (signing/statuslist)
// fetched earlier and cached. An inspector on a building site without
// signal needs nothing else.
//
// A verdict is VALID only when every check passed and the status list was
// fresh; a list older than statuslist.MaxAge gives STATUS-STALE, never
// VALID.
package offline

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/statuslist"
)

// Verdict is the outcome of an offline verification.
type Verdict string

const (
	// Valid: genuine, in its dates, and VALID in a fresh status list.
	Valid Verdict = "valid"
	// ValidDevelopment: Valid, but the issuer chains to an ecert
	// development root (signing.IsDevelopmentRoot), which certifies nothing.
	ValidDevelopment Verdict = "valid-development-root"
	// Expired: genuine, but past its usage validity or specialty dates.
	Expired Verdict = "expired"
	// Revoked: genuine, and the status list says revoked or cancelled.
	Revoked Verdict = "revoked"
	// Superseded: genuine, and the status list says a newer version replaced it.
	Superseded Verdict = "superseded"
	// StatusStale: genuine and in its dates, but the status list held is
	// too old (or not yet valid) to tell whether it is still in force.
	StatusStale Verdict = "status-stale"
	// StatusUnknown: genuine and in its dates, but no status list for its
	// entry was given.
	StatusUnknown Verdict = "status-unknown"
	// Invalid: not a claim, not signed by a held issuer, tampered, or the
	// issuer does not chain to a trusted root.
	Invalid Verdict = "invalid"
)

// Chinese is the verdict as shown to a person.
func (v Verdict) Chinese() string {
	switch v {
	case Valid:
		return "有效"
	case ValidDevelopment:
		return "有效（开发环境根证书，不能作为正式证明）"
	case Expired:
		return "真实，但已过有效期"
	case Revoked:
		return "真实，但已吊销或注销"
	case Superseded:
		return "真实，但已被新版本取代"
	case StatusStale:
		return "真实，但状态列表已过期，无法确认当前状态"
	case StatusUnknown:
		return "真实，但未取得状态列表，无法确认当前状态"
	}
	return "无效"
}

// Options are what the verifier holds.
type Options struct {
	// Issuers are the issuing-authority certificates whose keys may sign claims.
	Issuers []*smx509.Certificate
	// Roots, when set, are the trusted roots the claim's issuer must chain
	// to (at the claim's signing time). Without roots, Report.Chain says
	// the chain was not checked and the verdict cannot be Valid.
	Roots []*smx509.Certificate
	// Lists are parsed, signature-checked status list tokens (statuslist.Parse).
	Lists []*statuslist.Token
	// Now is the time of verification (time.Now when zero).
	Now time.Time
}

// Check is one step of the verification.
type Check struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is the result of Verify.
type Report struct {
	Verdict Verdict      `json:"verdict"`
	Claim   *claim.Claim `json:"claim,omitempty"`
	// Issuer is the subject of the certificate whose key signed the claim.
	Issuer string `json:"issuer,omitempty"`
	// Status is the status-list entry ("VALID", "INVALID", "SUSPENDED"), or "".
	Status string `json:"status,omitempty"`
	// StatusListIssued is when the status list used was signed.
	StatusListIssued time.Time `json:"status_list_issued,omitzero"`
	Checks           []Check   `json:"checks"`
	CheckedAt        time.Time `json:"checked_at"`
}

func (r *Report) add(id string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{ID: id, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks the QR text s with what opt holds.
func Verify(s string, opt Options) *Report {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{Verdict: Invalid, CheckedAt: now}
	c, res, err := claim.Decode(s, claim.KeySetFromCertificates(opt.Issuers...), now)
	expired := errors.Is(err, claim.ErrExpired)
	if err != nil && !expired {
		r.add("signature", false, "%v", err)
		return r
	}
	r.Claim, r.Issuer = c, res.Issuer.Subject.String()
	r.add("signature", true, "SM2 signature by %s (kid %x)", r.Issuer, res.KeyID)
	chained, dev := checkChain(r, res.Issuer, opt.Roots, c.IssuedAt)
	if !chained && len(opt.Roots) > 0 {
		return r
	}
	r.add("dates", !expired, "usable until %s", res.Expires.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04 MST"))
	st := checkStatus(r, c, opt.Lists, now)
	switch {
	case expired:
		r.Verdict = Expired
	case st == statusRevoked:
		r.Verdict = Revoked
	case st == statusSuperseded:
		r.Verdict = Superseded
	case st == statusStale:
		r.Verdict = StatusStale
	case st == statusUnknown:
		r.Verdict = StatusUnknown
	case !chained:
		r.Verdict = Invalid // genuine-looking, but nothing vouches for the issuer
	case dev:
		r.Verdict = ValidDevelopment
	default:
		r.Verdict = Valid
	}
	return r
}

// checkChain verifies the issuer certificate against roots at t; dev
// reports a chain that ends in a development root.
func checkChain(r *Report, issuer *smx509.Certificate, roots []*smx509.Certificate, t time.Time) (ok, dev bool) {
	if len(roots) == 0 {
		r.add("chain", false, "not checked: no trusted root given")
		return false, false
	}
	pool := smx509.NewCertPool()
	for _, c := range roots {
		pool.AddCert(c)
	}
	chains, err := issuer.Verify(smx509.VerifyOptions{Roots: pool, CurrentTime: t, KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		r.add("chain", false, "issuer does not chain to a trusted root: %v", err)
		return false, false
	}
	root := chains[0][len(chains[0])-1]
	dev = signing.IsDevelopmentRoot(root)
	note := ""
	if dev {
		note = ", a development root — not for production"
	}
	r.add("chain", true, "issuer chains to %q%s", root.Subject.CommonName, note)
	return true, dev
}

type statusOutcome int

const (
	statusUnknown statusOutcome = iota
	statusStale
	statusValid
	statusRevoked
	statusSuperseded
)

// checkStatus finds the claim's entry in lists.
func checkStatus(r *Report, c *claim.Claim, lists []*statuslist.Token, now time.Time) statusOutcome {
	if c.Status == nil {
		r.add("status", false, "the claim names no status list entry")
		return statusUnknown
	}
	var tok *statuslist.Token
	for _, t := range lists {
		if ListID(t) == c.Status.List && (tok == nil || t.IssuedAt.After(tok.IssuedAt)) {
			tok = t
		}
	}
	if tok == nil {
		r.add("status", false, "no status list %s held", c.Status.List)
		return statusUnknown
	}
	r.StatusListIssued = tok.IssuedAt
	if c.Status.Index >= uint64(tok.List.Len()) {
		r.add("status", false, "entry %d outside status list %s", c.Status.Index, c.Status.List)
		return statusUnknown
	}
	s, err := tok.Status(int(c.Status.Index), now)
	if errors.Is(err, statuslist.ErrStale) {
		r.add("status", false, "status list %s signed %s is stale: %v", c.Status.List, tok.IssuedAt.UTC().Format(time.RFC3339), err)
		return statusStale
	}
	if err != nil {
		r.add("status", false, "status list %s: %v", c.Status.List, err)
		return statusUnknown
	}
	r.Status = s.String()
	r.add("status", s == statuslist.Valid, "entry %d of status list %s (signed %s): %s",
		c.Status.Index, c.Status.List, tok.IssuedAt.UTC().Format(time.RFC3339), s)
	switch s {
	case statuslist.Valid:
		return statusValid
	case statuslist.Suspended:
		return statusSuperseded
	}
	return statusRevoked
}

// ListID is the id of the list a token carries: the last segment of its
// subject (…/api/v1/status/{list}).
func ListID(t *statuslist.Token) string {
	id := path.Base(t.Subject)
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return t.Subject
	}
	return id
}
