package api

import (
	"context"
	"io"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// The interfaces below are what the HTTP layer consumes from the core. Each is
// small so that handlers are tested against fakes and the composition root
// adapts the real services to them.
//
// Errors: implementations report "no such thing" (or "not yours") with an
// error wrapping issuance.ErrNotFound or registry.ErrNotFound, malformed
// requests with issuance.ErrBadRequest, and domain refusals as
// *issuance.Refusal. Problem (errors.go) maps every kind to one status.

// Intake records approved registrations from the portal's NDJSON stream.
type Intake interface {
	// Ingest reads NDJSON approvals from r (one per line, bounded by the
	// caller) and calls emit once per line, in order, as soon as that line is
	// decided. A bad line is reported and the next one is read; good lines
	// land whatever their neighbours hold. It returns when r is exhausted,
	// when emit returns an error (the client went away: stop, keep what is
	// recorded) or when a backend fails (then the lines not yet emitted are
	// not recorded).
	Ingest(ctx context.Context, r io.Reader, emit func(ApprovalResult) error) error
}

// Outcomes of an ApprovalResult.
const (
	OutcomeInserted  = "inserted"
	OutcomeDuplicate = "duplicate"
	OutcomeConflict  = "conflict"
	OutcomeRejected  = "rejected"
)

// ApprovalResult is what happened to one line of an approvals stream.
type ApprovalResult struct {
	Line    int    `json:"line"`
	CaseID  string `json:"case_id,omitempty"`
	Outcome string `json:"outcome"` // one of the Outcome constants
	// Problems name what is wrong with a rejected line or, for a conflict,
	// the fields that differ (e.g. person.phone). ID numbers are masked by
	// the api before they are sent or logged.
	Problems []string `json:"problems,omitempty"`
	// Queued reports whether the case was queued for issuance.
	Queued bool `json:"queued"`
}

// Cases reads recorded cases for reviewers.
type Cases interface {
	// Case returns the case and its current certificate, nil when none has
	// been issued yet.
	Case(ctx context.Context, caseID string) (registration.Case, *registry.Certificate, error)
}

// EligibilityQuery is a proposed case: what registration.CheckInput needs
// from the caller; the implementation reads the registration and
// qualification libraries itself.
type EligibilityQuery struct {
	Type               registration.BusinessType
	Account            registration.AccountKind
	IDNumber           string
	RegistrationNo     string // optional: the applicant's only registration when empty
	SubmittedOn        registration.Date
	QuotedApprovalDate registration.Date // zero when not quoted
	Specialty          string
}

// EligibilityVerdict is the domain verdict with every reason, plus the date
// by which the review must be decided (working days from SubmittedOn; zero
// when refused or unknown).
type EligibilityVerdict struct {
	registration.Verdict
	ReviewDue registration.Date `json:"review_due,omitzero"`
}

// Eligibility decides proposed cases (registration.Check over the libraries).
type Eligibility interface {
	Check(ctx context.Context, q EligibilityQuery) (EligibilityVerdict, error)
}

// Revoker revokes certificates (national status 07 吊销).
type Revoker interface {
	// Revoke marks the current version of certNo revoked for reason, by
	// actor (the API key's name), and returns it as it now is. The api
	// writes its own audit entry through Auditor as well.
	Revoke(ctx context.Context, certNo, reason, actor string) (registry.Certificate, error)
}

// File is a stored document opened for download.
type File struct {
	Format     string // "ofd" or "pdf"
	HolderName string // for the download's file name
	// SHA256 is the hex digest recorded when the file was stored. The api
	// hashes Body before it sends a byte and refuses a mismatch
	// (objectstore.ErrCorrupt), so Body may stream from the store.
	SHA256  string
	Size    int64
	ModTime time.Time
	Body    io.ReadSeeker
	// Close releases Body; may be nil.
	Close func() error
}

// Holder serves an applicant, who is named by ID number from a verified
// portal token. A certificate or copy of someone else is ErrNotFound, the
// same error as one that does not exist.
type Holder interface {
	// Certificates lists the holder's certificates, current versions first,
	// each with what its registration records.
	Certificates(ctx context.Context, holder string) ([]HolderCertificate, error)
	// CertificateFile opens the current version of the holder's certificate
	// in format "ofd" or "pdf"; before the public notice ends it is a
	// *issuance.Refusal (notice_not_ended).
	CertificateFile(ctx context.Context, holder, certNo, format string) (File, error)
	// Preview is an SVG picture of the current version of the holder's
	// certificate (issuance.Service.Preview): unsigned, for display only;
	// before the public notice ends it is a *issuance.Refusal.
	Preview(ctx context.Context, holder, certNo string) ([]byte, error)
	// Restamp is issuance.Service.Restamp. The api passes a context that
	// does not end when the client hangs up (context.WithoutCancel plus
	// Config.RestampTimeout), so a shared single flight is never cancelled
	// by its first caller.
	Restamp(ctx context.Context, req issuance.RestampRequest) (issuance.Copy, error)
	// CopyFile opens a usage copy of the holder's.
	CopyFile(ctx context.Context, holder, copyID string) (File, error)
}

// HolderCertificate is one of the holder's certificates with its
// registration's specialties and the registration's valid-until after policy
// extensions (registration.EffectiveValidUntil; zero when unknown).
type HolderCertificate struct {
	Certificate            registry.Certificate
	Specialties            []PublicSpecialty
	RegistrationValidUntil registration.Date
}

// PublicStatus is what anyone holding the licence id and its verification
// code may learn. The api masks ID numbers and names again before sending.
type PublicStatus struct {
	LicenceID      string
	CertificateNo  string
	Version        int
	HolderName     string
	IDNumber       string
	RegistrationNo string
	Employer       string
	Specialties    []PublicSpecialty
	IssuedAt       time.Time
	Status         verify.Status
	// Copy is the usage copy the QR link names (copy=…), when the registry
	// recorded it for this version; nil otherwise.
	Copy *PublicCopy
}

// PublicCopy is a usage copy's validity as the public lookup shows it.
type PublicCopy struct {
	ID         string
	ValidFrom  registration.Date
	ValidUntil registration.Date // last day of usage validity, as printed
	InValidity bool              // today lies within it
}

// PublicSpecialty is one registered specialty with its own valid-until.
type PublicSpecialty struct {
	Name       string
	ValidUntil registration.Date
}

// Verifier verifies documents for the public.
type Verifier interface {
	// Verify checks an uploaded OFD or PDF (already size-bounded and
	// sniffed by the api) with the registry status, as `ecert verify --json`.
	Verify(ctx context.Context, data []byte) (*verify.Report, error)
	// PublicStatus looks up a certificate version by licence identifier.
	// An unknown identifier and a wrong or empty code are the same
	// ErrNotFound, so identifiers cannot be enumerated.
	// copyID, from a usage copy's QR link, adds that copy's validity ("" for
	// none; a copy the registry does not know for this version is not shown).
	PublicStatus(ctx context.Context, licenceID, code, copyID string) (PublicStatus, error)
}

// Reports verifies batches and signs verification reports
// (POST /verify/batch).
type Reports interface {
	// VerifyBatch verifies each file (already bounded by the api) as
	// Verifier.Verify does, all at one instant, and returns the batch.
	VerifyBatch(ctx context.Context, files []batchverify.File) (*batchverify.Batch, error)
	// SignReport renders the batch as a PDF verification report signed
	// with the verification service's key (never the authority's).
	SignReport(ctx context.Context, b *batchverify.Batch) ([]byte, error)
}

// StatusLists serves the signed status lists (GET /status/{list}) from
// memory: built and signed beforehand, never on the request path.
type StatusLists interface {
	// StatusList returns the current token of list id, or false when
	// there is no such list (or none is published yet).
	StatusList(id int64) (StatusListToken, bool)
}

// StatusListToken is a signed status list token ready to serve.
type StatusListToken struct {
	Token    []byte
	ETag     string // quoted
	IssuedAt time.Time
	TTL      time.Duration // how long a verifier may cache it
}

// Trust publishes what an offline verifier must hold (GET /trust/issuers,
// GET /trust/root). signing.Store implements it.
type Trust interface {
	// IssuerCertificates returns every issuing-authority certificate,
	// current and retired.
	IssuerCertificates() ([]*smx509.Certificate, error)
	// Root returns the root the issuing authorities chain to.
	Root() (*smx509.Certificate, error)
}

// Readiness probes every backend the service needs (registry, object store,
// cache, queue).
type Readiness interface {
	// Ready returns each backend's name with nil when it answered.
	Ready(ctx context.Context) map[string]error
}

// Auditor records security-relevant actions; *registry.Registry implements it.
type Auditor interface {
	Audit(ctx context.Context, actor, action, subject, detail string) error
}

// Deps are the core services behind the API. A nil service makes its routes
// answer 503 (problem code "unavailable"), so a partial service still starts.
type Deps struct {
	Intake      Intake
	Cases       Cases
	Eligibility Eligibility
	Revoker     Revoker
	Holder      Holder
	Verifier    Verifier
	Reports     Reports
	Readiness   Readiness
	Auditor     Auditor
	StatusLists StatusLists
	Trust       Trust
	// Gatherer adds the core's metrics (ecert_issue_total,
	// ecert_restamp_total, …) to /metrics; may be nil.
	Gatherer prometheus.Gatherer
}
