package verify

import (
	"fmt"
	"time"

	"github.com/ecert/ecert/signing"
)

// CheckStatus is the issuer registry's word on the document today: is the
// certificate (and the registration behind it) still the current one.
const CheckStatus = "status"

// Certificate states of a Status.
const (
	StateCurrent    = "current"    // 01 有效
	StateSuperseded = "superseded" // 05 失效: a newer version was issued
	StateCancelled  = "cancelled"  // 04 注销
	StateRevoked    = "revoked"    // 07 吊销, 03 撤销
	StateSuspended  = "suspended"  // 02 暂扣
	StateUnknown    = "unknown"    // not in the registry
)

// Registration states of a Status.
const (
	RegistrationActive    = "active"
	RegistrationExpired   = "expired"   // valid-until passed, not yet cancelled by the scheduler
	RegistrationCancelled = "cancelled" // 注销
)

// Status is what the issuer's registry says about a verified document.
// Without a registry it only says why it was not checked.
type Status struct {
	Checked bool   `json:"checked"`
	Reason  string `json:"reason,omitempty"` // why not checked
	// Certificate is one of the State constants; Code the national status
	// code (01 有效, 04 注销, 05 失效, …).
	Certificate string     `json:"certificate,omitempty"`
	Code        string     `json:"code,omitempty"`
	Since       *time.Time `json:"since,omitempty"`  // when the certificate left "current"
	Detail      string     `json:"detail,omitempty"` // the registry's reason, e.g. 注销注册（办件 …）
	// CurrentLicenceID is the version in force when this one is superseded.
	CurrentLicenceID string `json:"current_licence_id,omitempty"`
	// Registration is one of the Registration constants, as of today.
	Registration           string `json:"registration,omitempty"`
	RegistrationValidUntil string `json:"registration_valid_until,omitempty"`
	RegistrationCancelled  string `json:"registration_cancelled_on,omitempty"`
	// CopyKnown: for a usage copy, whether the registry recorded it.
	CopyKnown *bool `json:"copy_known,omitempty"`
}

// StatusFunc looks a document up in the issuer's registry by its signed
// licence identifier (for a usage copy, the parent's) and copy id ("" for
// an original). An error means the registry could not answer.
type StatusFunc func(licenceID, copyID string) (Status, error)

// NoRegistry is the reason given when a verifier has no registry at hand.
const NoRegistry = "status not checked: no registry configured (the signatures say what was issued, not whether it is still in force)"

// applyStatus adds the status check when opts can reach a registry, and
// otherwise records that status was not checked (which does not fail the
// report: a verifier offline still learns whether the file is genuine).
func (r *Report) applyStatus(opts Options) {
	if r.Document == DocumentVerificationReport {
		r.Status = &Status{Reason: "status not applicable: a verification report is not a certificate"}
		return
	}
	if !r.OK {
		// Signed data that does not verify names nothing worth asking about.
		r.Status = &Status{Reason: "status not checked: the document itself did not verify"}
		return
	}
	if opts.Status == nil {
		r.Status = &Status{Reason: NoRegistry}
		return
	}
	licence, copyID := r.Metadata[signing.MetaCertificateNo], r.Metadata[signing.MetaCopyID]
	if p := r.Metadata[signing.MetaParentCertificateNo]; copyID != "" && p != "" {
		licence = p
	}
	if licence == "" {
		r.Status = &Status{Reason: "status not checked: the document names no licence identifier"}
		r.add(CheckStatus, fmt.Errorf("the document names no licence identifier"), "")
		return
	}
	st, err := opts.Status(licence, copyID)
	if err != nil {
		r.Status = &Status{Reason: "status not checked: " + err.Error()}
		r.add(CheckStatus, fmt.Errorf("registry unavailable: %v", err), "")
		return
	}
	st.Checked = true
	r.Status = &st
	r.add(CheckStatus, st.problem(), st.summary())
}

// onlyStatusFailed reports whether the status check is the only failing
// one: the document is genuine, but no longer in force.
func (r *Report) onlyStatusFailed() bool {
	failed := false
	for _, c := range r.Checks {
		if c.OK {
			continue
		}
		if c.Name != CheckStatus {
			return false
		}
		failed = true
	}
	return failed
}

// problem says why the document is not in force today, or nil.
func (st Status) problem() error {
	switch {
	case st.Certificate == StateUnknown:
		return fmt.Errorf("the registry has no certificate with this licence identifier")
	case st.CopyKnown != nil && !*st.CopyKnown:
		return fmt.Errorf("the registry has no usage copy with this copy id")
	case st.Certificate == StateSuperseded:
		return fmt.Errorf("superseded (05 失效)%s by %s", since(st.Since), st.CurrentLicenceID)
	case st.Certificate != StateCurrent:
		return fmt.Errorf("certificate %s (%s)%s: %s", st.Certificate, st.Code, since(st.Since), st.Detail)
	case st.Registration == RegistrationCancelled:
		return fmt.Errorf("registration cancelled (注销) on %s", st.RegistrationCancelled)
	case st.Registration == RegistrationExpired:
		return fmt.Errorf("registration expired: valid until %s", st.RegistrationValidUntil)
	}
	return nil
}

func (st Status) summary() string {
	return fmt.Sprintf("current version; registration active until %s", st.RegistrationValidUntil)
}

func since(t *time.Time) string {
	if t == nil {
		return ""
	}
	return " since " + t.Format(time.DateOnly)
}
